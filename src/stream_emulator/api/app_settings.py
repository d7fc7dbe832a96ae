"""`/app`: the app's settings (GetApp, UpdateApp; `webhook_url` and `event_hooks` can change)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from litestar import Request, Response, get, patch

from stream_emulator.api.request_response import (
    RATE_LIMIT,
    control_of,
    ok,
    principal_of,
    rate_headers,
    read_body,
    server_only,
)
from stream_emulator.event_hooks import parse_hooks
from stream_emulator.state.errors import input_error
from stream_emulator.state.uploads import MAX_UPLOAD_BYTES


def upload_config() -> dict[str, object]:
    """`FileUploadConfig`: what the emulator accepts (any type, up to its size limit)."""
    return {
        "allowed_file_extensions": [],
        "blocked_file_extensions": [],
        "allowed_mime_types": [],
        "blocked_mime_types": [],
        "size_limit": MAX_UPLOAD_BYTES,
    }


@get("/app")
async def get_app(request: Request[Any, Any, Any]) -> Response[Any]:
    """GetApp: the app's settings (a subset). A user's client may read it too (stream-chat
    reads the upload settings before every upload); it sees only the client-side fields
    (`AppResponseFields` of the client-side API), none of the server's."""
    control = control_of(request)
    settings = control.state.app_settings()
    raw = settings.get("app")
    app_json: dict[str, object] = dict(raw) if isinstance(raw, Mapping) else {}
    client_fields: dict[str, object] = {
        "id": 1,
        "name": app_json.get("name", ""),
        "placement": "",
        "async_url_enrich_enabled": False,
        "auto_translation_enabled": False,
        "file_upload_config": upload_config(),
        "image_upload_config": upload_config(),
    }
    if not principal_of(request).is_server:
        return ok(request, {"app": client_fields}, 200)
    app_json.update(client_fields)
    app_json.update(
        {
            "webhook_url": control.webhook_url or "",
            "event_hooks": [hook.as_json() for hook in control.event_hooks],
            "disable_auth_checks": False,
            "disable_permissions_checks": False,
            "permission_version": "v2",
        }
    )
    return ok(request, {"app": app_json}, 200)


@patch("/app")
async def update_app(request: Request[Any, Any, Any]) -> Response[Any]:
    """UpdateApp: `webhook_url` and `event_hooks` are modelled (each changed when given)."""
    endpoint = "UpdateApp"
    server_only(request, endpoint)
    body = await read_body(request, endpoint)
    unknown = sorted(set(body) - {"webhook_url", "event_hooks"})
    if unknown:
        raise input_error(
            endpoint, f"the emulator can only change webhook_url and event_hooks, not {unknown}"
        )
    control = control_of(request)
    hooks = None
    if "event_hooks" in body:
        hooks = parse_hooks(body["event_hooks"], control.state.now())
    if "webhook_url" in body:
        url = body.get("webhook_url")
        if url is not None and not isinstance(url, str):
            raise input_error(endpoint, "webhook_url must be a string")
        if url and not url.startswith(("http://", "https://")):
            raise input_error(endpoint, "webhook_url must be an http(s) URL")
        control.webhook_url = url or None
    if hooks is not None:
        control.event_hooks = hooks
    return ok(request, {}, 200)


PLATFORMS: Final = ("server_side", "android", "ios", "web")
# What GetRateLimits lists without `endpoints` (the emulator limits nothing for real).
LISTED_ENDPOINTS: Final = ("GetRateLimits", "SendMessage", "QueryChannels", "GetOrCreateChannel")


@get("/rate_limits")
async def get_rate_limits(request: Request[Any, Any, Any]) -> Response[Any]:
    """GetRateLimits: per platform (`server_side`, `android`, `ios`, `web`, all by default)
    and endpoint; this call itself counts against the server side's."""
    endpoint = "GetRateLimits"
    server_only(request, endpoint)
    params = request.query_params
    asked = [p for p in PLATFORMS if params.get(p, "").lower() == "true"] or list(PLATFORMS)
    names = [n for n in params.get("endpoints", "").split(",") if n] or list(LISTED_ENDPOINTS)
    reset = rate_headers()["x-ratelimit-reset"]
    answer: dict[str, object] = {}
    for platform in asked:
        answer[platform] = {
            name: {
                "limit": RATE_LIMIT,
                "remaining": RATE_LIMIT
                - (1 if platform == "server_side" and name == endpoint else 0),
                "reset": int(reset),
            }
            for name in names
        }
    return ok(request, answer, 200)


ROUTES: Final = [get_app, update_app, get_rate_limits]
