"""The served OpenAPI document and its documentation pages, which work offline.

The pages' scripts and styles come from the `openapi-ui-bundles` package (Swagger UI and
Redoc builds) and are served by the app under `/schema/assets/`: no CDN, no web fonts.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Router
from litestar.enums import ParamType
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import RedocRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import (
    Components,
    OpenAPIMediaType,
    Operation,
    Parameter,
    Reference,
    RequestBody,
    Schema,
    SecurityScheme,
)
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType
from litestar.static_files import create_static_files_router

OPENAPI_PATH = "/schema"
ASSETS_PATH = OPENAPI_PATH + "/assets"
BEARER_SCHEME = "BearerAuth"
_FAVICON = f"<link rel='icon' type='image/png' href='{ASSETS_PATH}/favicon-32x32.png'>"

DESCRIPTION = """\
Chat backend of the Yosemite Crew veterinary platform: who may talk to whom on Stream Chat.

Every `/api/` route except the webhook needs `Authorization: Bearer <JWT>`. Every error
body is `{error, code, details?}` with a stable snake_case `code`. Browse this document at
`/schema` (Redoc) or `/schema/swagger` (Swagger UI, with "Try it out"); the raw document is
`/schema/openapi.json`.
"""


def _object(
    properties: dict[str, Schema | Reference], *, required: list[str] | None = None
) -> Schema:
    return Schema(type=OpenAPIType.OBJECT, properties=properties, required=required)


def _text(description: str) -> Schema:
    return Schema(type=OpenAPIType.STRING, description=description)


_USER = _object({"id": _text("user id"), "name": _text("display name")})

# The fields of Stream's events this service reads; Stream sends many more, all accepted.
STREAM_EVENT_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    title="StreamEvent",
    description="A Stream Chat webhook event. Handled: `message.new` (push to every member "
    "but the sender), `channel.deleted` (the appointment's chat is ended and unlinked), "
    "`user.updated` (the profile is re-sent on the next token). Other types are "
    "acknowledged and ignored. Fields not listed here are accepted and ignored.",
    required=["type"],
    properties={
        "type": _text("event type, e.g. message.new"),
        "cid": _text("`messaging:<channel id>`"),
        "channel_id": _text("the channel id"),
        "channel_type": _text("`messaging`"),
        "created_at": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.DATE_TIME),
        "message": _object(
            {
                "id": _text("message id"),
                "text": _text("message text (never logged)"),
                "type": _text("`regular`, or `system` for system messages"),
                "user": _USER,
                "attachments": Schema(type=OpenAPIType.ARRAY, items=Schema()),
            }
        ),
        "channel": _object({"id": _text("channel id")}),
        "user": _USER,
    },
)


_WEBHOOK_HEADERS = (
    Parameter(
        name="X-Signature",
        param_in=ParamType.HEADER,
        required=False,
        description="Lowercase hex HMAC-SHA256 of the raw body.",
        schema=Schema(type=OpenAPIType.STRING),
    ),
    Parameter(
        name="X-Webhook-Id",
        param_in=ParamType.HEADER,
        required=False,
        description="Stream's event id, for dedupe.",
        schema=Schema(type=OpenAPIType.STRING),
    ),
)


@dataclass
class WebhookOperation(Operation):
    """The webhook reads its raw body (the signature covers the exact bytes); this documents it."""

    def __post_init__(self) -> None:
        # Read from the scope by the handler (cheaper than Litestar's parameters), so named here.
        self.parameters = [*(self.parameters or []), *_WEBHOOK_HEADERS]
        self.request_body = RequestBody(
            required=True,
            description="The event exactly as Stream signed it.",
            content={"application/json": OpenAPIMediaType(schema=STREAM_EVENT_SCHEMA)},
        )


def openapi_config() -> OpenAPIConfig:
    """Redoc at /schema, Swagger UI at /schema/swagger, both from the app's own assets."""
    return OpenAPIConfig(
        title="yc-chat",
        version="1",
        description=DESCRIPTION,
        path=OPENAPI_PATH,
        components=Components(
            security_schemes={
                BEARER_SCHEME: SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
            }
        ),
        use_handler_docstrings=False,
        render_plugins=[
            RedocRenderPlugin(
                js_url=f"{ASSETS_PATH}/redoc.standalone.js",
                google_fonts=False,
                path="/",
                favicon=_FAVICON,
            ),
            SwaggerRenderPlugin(
                js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
                css_url=f"{ASSETS_PATH}/swagger-ui.css",
                standalone_preset_js_url=f"{ASSETS_PATH}/swagger-ui-standalone-preset.js",
                path="/swagger",
                favicon=_FAVICON,
            ),
        ],
    )


def docs_assets_router() -> Router:
    """The pages' scripts and styles, from the installed openapi-ui-bundles package."""
    import openapi_ui_bundles

    return create_static_files_router(
        path=ASSETS_PATH,
        directories=[
            openapi_ui_bundles.redoc.static_path,
            openapi_ui_bundles.swagger_ui.static_path,
        ],
        include_in_schema=False,
        opt={"public": True},
    )
