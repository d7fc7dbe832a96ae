"""The Stream REST API emulator: the subset of Stream's API our adapter uses, over `StreamState`.

This module builds the app (authentication hook, Stream-shaped errors); the endpoints live
in `api/`, one module per resource, the state and rules behind them in `state/`. The events
the state emits go to `EmulatorControl.events` (which outlives state resets), where webhook
delivery listens.

Endpoints (paths as Stream's; mounted at `/`, because the async SDK drops path prefixes):

- `GET /app` (a user's client sees only its upload settings), `PATCH /app` (only
  `webhook_url` and `event_hooks` can be changed)
- `POST /users` (upsert), `PATCH /users` (partial update), `GET /users?payload=` (query by id)
- `POST /channels/{type}/{id}/query` (get or create), `POST /channels` (query channels)
- `POST /channels/{type}/{id}` (full update with `data`, or `add_members`/`remove_members`;
  either may carry a `message`), `PATCH /channels/{type}/{id}` (partial update),
  `DELETE /channels/{type}/{id}`
- `POST /channels/{type}/{id}/message` (send a message), `GET /members?payload=`
- `GET|POST|PUT|DELETE /messages/{id}` (get, update, partial update, delete a message)
- `GET /search?payload=` (message text within the channels a filter selects)
- `POST|DELETE /channels/{type}/{id}/file` and `/image` (uploads, kept in memory and
  served at `GET /uploads/{id}/{name}`)
- `POST /messages/{id}/reaction`, `DELETE /messages/{id}/reaction/{type}`,
  `GET /messages/{id}/reactions`
- realtime (`api/live`): the websocket `GET /connect`, and a client's
  `POST /channels/{type}/{id}/event`, `.../read`, `.../stop-watching`, `POST /channels/read`
  (mark all read); server-side, events and reads act for a `user_id`
- for the SDK suite: `PUT /channels/batch` (batch updates as tasks), invitations and
  moderators on `POST /channels/{type}/{id}`, `POST /messages/{id}/commit` (pending
  messages), `POST /messages/history`, `/roles` and `/permissions`
- `POST|DELETE /_emulator/faults`, `POST /_emulator/reset`, `POST /_emulator/disconnect`:
  the emulator's own switches,
  for server-side (secret-holding) callers only.

Every request needs the `api_key` parameter, `Stream-Auth-Type: jwt` and a JWT (see
`auth`). Server tokens may call everything; user tokens may send messages (checked against
the channel's permissions and frozen state), query channels (only their own) and read a
channel they belong to. Success statuses follow Stream's OpenAPI (201 for POST), errors
Stream's JSON shape and codes. Fields Stream knows but the emulator does not model are an
input error rather than silently ignored, so a caller relying on them finds out.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

from litestar import Litestar, Request, Response
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.exceptions import HTTPException

from stream_emulator.api import ROUTES
from stream_emulator.api.request_response import control_of, duration, rate_headers
from stream_emulator.auth import check_not_revoked
from stream_emulator.control import EmulatorControl
from stream_emulator.state import StreamAPIError, StreamState, system_clock
from stream_emulator.webhooks import WebhookSettings

LOG = logging.getLogger(__name__)
ADMIN_PREFIX: Final = "/_emulator/"

# A local tool: any web app (served from anywhere) may call it, as browsers call Stream.
# Preflights are answered by the CORS middleware before authentication, so never 401.
CORS: Final = CORSConfig(
    allow_origins=["*"],
    allow_methods=["*"],
    allow_headers=["*"],
    expose_headers=["X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset"],
    max_age=86400,
)


async def _before_request(request: Request[Any, Any, Any]) -> None:
    request.state.started = time.perf_counter()
    if request.route_handler.opt.get("public"):
        # Uploaded files: served by link, as from Stream's CDN.
        return
    control = control_of(request)
    path = request.url.path
    if not path.startswith(ADMIN_PREFIX):
        request_line = f"{request.method} {path}"
        control.count_request(request_line)
        # Faults first: an overloaded or unreachable Stream fails whoever asks.
        delay = control.faults.delay
        if delay > 0:
            await asyncio.sleep(delay)
        failure = control.take_failure(request_line)
        if failure is not None:
            raise failure
    principal = control.authenticator.authenticate(
        api_key=request.query_params.get("api_key"),
        auth_type=request.headers.get("stream-auth-type"),
        authorization=request.headers.get("authorization"),
    )
    if principal.user_id is not None:
        check_not_revoked(principal, control.state.tokens_revoked_before(principal.user_id))
    request.state.principal = principal


def _error_response(request: Request[Any, Any, Any], error: StreamAPIError) -> Response[Any]:
    return Response(
        content=error.to_json(duration=duration(request)),
        status_code=error.status_code,
        headers=rate_headers(exhausted=error.status_code == 429),
    )


def _on_stream_error(request: Request[Any, Any, Any], exc: StreamAPIError) -> Response[Any]:
    return _error_response(request, exc)


def _on_http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    # Litestar's own refusals (unknown path, wrong method, body too large) in Stream's shape.
    return _error_response(request, StreamAPIError.for_status(exc.status_code, exc.detail))


def _on_crash(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    LOG.exception("stream emulator crashed on %s %s", request.method, request.url.path)
    return _error_response(request, StreamAPIError(500, -1, "internal error"))


def create_emulator_app(
    state: StreamState,
    *,
    api_key: str,
    api_secret: str,
    webhook_url: str | None = None,
    webhook: WebhookSettings | None = None,
    clock: Callable[[], datetime] = system_clock,
) -> Litestar:
    """A Litestar app serving `state` as Stream's REST API, to be mounted at `/`.

    `clock` is the time tokens are checked against; `emulator_control(app)` is the handle
    for faults, state resets and the webhook target.
    """
    handle = EmulatorControl(
        state,
        api_key=api_key,
        api_secret=api_secret,
        webhook_url=webhook_url,
        webhook=webhook,
        clock=clock,
    )
    return Litestar(
        route_handlers=ROUTES,
        cors_config=CORS,
        before_request=_before_request,
        exception_handlers={
            StreamAPIError: _on_stream_error,
            HTTPException: _on_http_error,
            Exception: _on_crash,
        },
        on_startup=[handle.start],
        on_shutdown=[handle.stop],
        state=State({"emulator": handle}),
        openapi_config=None,
        debug=False,
        logging_config=None,
    )


def emulator_control(app: Litestar) -> EmulatorControl:
    """The control handle of an app made by `create_emulator_app`."""
    control = app.state.emulator
    assert isinstance(control, EmulatorControl)
    return control
