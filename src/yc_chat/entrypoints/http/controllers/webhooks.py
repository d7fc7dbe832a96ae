"""POST /api/webhooks/stream: signed Stream events, recorded durably, then acknowledged.

The answer comes once the event is in the inbox; a worker handles it afterwards from the
record (retried with backoff, parked after the retry limit). A repeat of a recorded id is
acknowledged and not recorded again.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from typing import Any

from litestar import Controller, Request, post
from litestar.datastructures import State
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from yc_chat.domain.errors import InvalidInput, Unauthenticated
from yc_chat.entrypoints.http.body import refuse_deep_json
from yc_chat.entrypoints.http.deps import error_docs
from yc_chat.entrypoints.http.keys import (
    BODY_LIMIT_WEBHOOK,
    OPT_BODY_LIMIT,
    OPT_PUBLIC,
    OPT_WEBHOOK,
    STATE_RUNTIME,
    STATE_WAKE_WORKER,
    headers,
)
from yc_chat.entrypoints.http.openapi import WebhookOperation
from yc_chat.entrypoints.http.raw_answer import json_start
from yc_chat.entrypoints.http.schemas import OkResponse
from yc_chat.entrypoints.runtime import Runtime
from yc_chat.ports import Deadlines, WebhookDecoder

logger = logging.getLogger("yc_chat.webhooks")

# Stream's signature: lowercase hex, exactly as sent. Anything else is not a signature.
_SIGNATURE = re.compile(r"[0-9a-f]{64}")
_WEBHOOK_ID = re.compile(r"[A-Za-z0-9._:-]{1,200}")


def signature_valid(secret: bytes | None, body: bytes, signature: str | None) -> bool:
    """Whether `signature` is the hex HMAC-SHA256 of the exact raw `body` under `secret`."""
    if secret is None or signature is None or _SIGNATURE.fullmatch(signature) is None:
        return False
    # hmac.digest: the one-shot form, computed in OpenSSL without an HMAC object.
    expected = hmac.digest(secret, body, "sha256").hex()
    return hmac.compare_digest(expected, signature)


def event_id_for(header_value: str | None, body: bytes) -> str:
    """Stream's X-Webhook-Id; without one, a digest of the body (retries resend it verbatim)."""
    if header_value is not None and _WEBHOOK_ID.fullmatch(header_value):
        return header_value
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _event_type_and_identity(webhooks: WebhookDecoder, body: bytes) -> tuple[str, str | None]:
    """The event's `type` and identity, checked to be one of the provider's events (400
    otherwise)."""
    refuse_deep_json(body)
    try:
        return webhooks.identify(body)
    except ValueError as exc:
        raise InvalidInput("The webhook body is not a Stream event", code="invalid_event") from exc


class WebhookController(Controller):
    """Events from Stream."""

    path = "/api/webhooks"
    tags = ("webhooks",)

    @post(
        "/stream",
        operation_id="streamWebhook",
        response_description="The event is recorded (or was already); handling follows",
        summary="Receive a signed Stream event",
        description="`X-Signature` is the lowercase hex HMAC-SHA256 of the raw body under the "
        "Stream API secret. The event is recorded durably (keyed by `X-Webhook-Id`, or a "
        "digest of the body without one) before the answer; a repeat of a recorded id, or of "
        "the same event (type and message id, or type, channel and `created_at`) under a new "
        "id, is acknowledged and not recorded again. Handling runs afterwards, from the record, "
        "with retries. Unknown event types are acknowledged and ignored.",
        status_code=200,
        opt={OPT_PUBLIC: True, OPT_BODY_LIMIT: BODY_LIMIT_WEBHOOK, OPT_WEBHOOK: True},
        responses=error_docs(400, 401, 413, 503),
        operation_class=WebhookOperation,
    )
    async def stream(self, request: Request[Any, Any, Any]) -> OkResponse:
        """Verify, record, acknowledge; the worker handles it.

        Served by WebhookAcknowledger in the middleware chain (the same `acknowledge`,
        without Litestar's per-request handler work); this handler documents the route and
        answers only if the chain lacks it.
        """
        await acknowledge(request.app.state, request.scope, await request.body())
        return OkResponse(ok=True)


async def acknowledge(state: State, scope: Scope, body: bytes) -> None:
    """Verify the signature (401), check the body is an event (400), record it (503 when the
    store fails): once this returns, the event is durably recorded (or was already)."""
    # Read from the scope, not declared as Litestar parameters, whose extraction cost 5% of
    # an acknowledgement (WebhookOperation documents both headers).
    signature, delivery_id = headers(scope, b"x-signature", b"x-webhook-id")
    runtime: Runtime = state[STATE_RUNTIME]
    secret = runtime.settings.http.webhook_secret
    if not signature_valid(secret.encode() if secret else None, body, signature):
        raise Unauthenticated("Webhook signature missing or wrong", code="invalid_signature")
    event_type, identity = _event_type_and_identity(runtime.ports.webhooks, body)
    event_id = event_id_for(delivery_id, body)
    recorded = await runtime.service.record_chat_event(
        event_id=event_id, event_type=event_type, payload=body, identity=identity
    )
    if recorded:
        state[STATE_WAKE_WORKER]()
    # DEBUG: the access line records every delivery, the worker logs each event it handles
    # by id, and the metrics count duplicates; a second INFO line cost a tenth of the path.
    logger.debug(
        "webhook received",
        extra={"event_id": event_id, "event_type": event_type, "duplicate": not recorded},
    )


# The answer, encoded once: what Litestar sends for OkResponse(ok=True).
_OK_BODY = b'{"ok":true}'
_OK_START = json_start(200, _OK_BODY)


class WebhookAcknowledger:
    """Answers POST /api/webhooks/stream from the middleware chain (see pipeline.py).

    Routing, the request context and the body limits (413, 408, framing) have run when it
    is reached; it opens the request's deadline itself, and only when the inbox can wait
    on something (a database): the in-memory one never does. Authentication and rate
    limits do nothing for this public route. The rest of Litestar's work per request (its
    Request, keyword arguments, the handler's Response and its encoding) was about a third
    of an acknowledgement, for a constant answer. Errors are raised as from any handler, so
    Litestar's exception handlers answer them with the contract's body; X-Request-ID and
    the access line come from the app's `before_send`, which wraps `send`.
    """

    def __init__(self, app: ASGIApp, *, deadlines: Deadlines | None) -> None:
        self.app = app
        # The request's dependency budget for the record; None when it cannot wait.
        self._deadlines = deadlines

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != ScopeType.HTTP
            or scope["method"] != "POST"
            or not scope["route_handler"].opt.get(OPT_WEBHOOK)
        ):
            await self.app(scope, receive, send)
            return
        body = await _body(receive)
        if self._deadlines is None:
            await acknowledge(scope["app"].state, scope, body)
        else:
            async with self._deadlines.bounded():
                await acknowledge(scope["app"].state, scope, body)
        await send(_OK_START)
        await send({"type": "http.response.body", "body": _OK_BODY, "more_body": False})


async def _body(receive: Receive) -> bytes:
    """The whole body (RequestLimitsMiddleware has read and bounded it: one message)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)
