"""`/app`: the app's settings (GetApp, UpdateApp; only `webhook_url` can change)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from litestar import Request, Response, get, patch

from stream_emulator.api.request_response import control_of, ok, read_body, server_only
from stream_emulator.state.errors import input_error


@get("/app")
async def get_app(request: Request[Any, Any, Any]) -> Response[Any]:
    """GetApp: the app's settings (a subset)."""
    server_only(request, "GetApp")
    control = control_of(request)
    settings = control.state.app_settings()
    raw = settings.get("app")
    app_json: dict[str, object] = dict(raw) if isinstance(raw, Mapping) else {}
    app_json.update(
        {
            "webhook_url": control.webhook_url or "",
            "disable_auth_checks": False,
            "disable_permissions_checks": False,
            "permission_version": "v2",
        }
    )
    return ok(request, {"app": app_json}, 200)


@patch("/app")
async def update_app(request: Request[Any, Any, Any]) -> Response[Any]:
    """UpdateApp: only `webhook_url` is modelled."""
    endpoint = "UpdateApp"
    server_only(request, endpoint)
    body = await read_body(request, endpoint)
    unknown = sorted(set(body) - {"webhook_url"})
    if unknown:
        raise input_error(endpoint, f"the emulator can only change webhook_url, not {unknown}")
    url = body.get("webhook_url")
    if url is not None and not isinstance(url, str):
        raise input_error(endpoint, "webhook_url must be a string")
    if url and not url.startswith(("http://", "https://")):
        raise input_error(endpoint, "webhook_url must be an http(s) URL")
    control_of(request).webhook_url = url or None
    return ok(request, {}, 200)


ROUTES: Final = [get_app, update_app]
