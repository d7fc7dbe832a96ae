"""POST /api/webhooks/stream: signed Stream events, acknowledged first, handled after."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from typing import Annotated, Any

from litestar import Controller, Request, Response, post
from litestar.background_tasks import BackgroundTask
from litestar.params import HeaderParameter

from yc_chat.adapters.stream_events import StreamEventError, parse_stream_event
from yc_chat.domain.errors import InvalidInput, Unauthenticated
from yc_chat.domain.events import ChatEvent
from yc_chat.domain.service import ChatService
from yc_chat.entrypoints.http.deps import error_docs, runtime_of
from yc_chat.entrypoints.http.middleware import BODY_LIMIT_WEBHOOK, OPT_BODY_LIMIT, OPT_PUBLIC
from yc_chat.entrypoints.http.schemas import OkResponse

logger = logging.getLogger("yc_chat.webhooks")

# Stream's signature: lowercase hex, exactly as sent. Anything else is not a signature.
_SIGNATURE = re.compile(r"[0-9a-f]{64}")
_WEBHOOK_ID = re.compile(r"[A-Za-z0-9._:-]{1,200}")


def signature_valid(secret: bytes | None, body: bytes, signature: str | None) -> bool:
    """Whether `signature` is the hex HMAC-SHA256 of the exact raw `body` under `secret`."""
    if secret is None or signature is None or _SIGNATURE.fullmatch(signature) is None:
        return False
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def event_id_for(header_value: str | None, body: bytes) -> str:
    """Stream's X-Webhook-Id; without one, a digest of the body (retries resend it verbatim)."""
    if header_value is not None and _WEBHOOK_ID.fullmatch(header_value):
        return header_value
    return "sha256:" + hashlib.sha256(body).hexdigest()


async def _handle(service: ChatService, event_id: str, event: ChatEvent) -> None:
    try:
        handled = await service.handle_chat_event(event_id=event_id, event=event)
    except Exception:
        # The response is already sent, so Stream will not retry: log it. The durable inbox
        # of a later release records events first and retries them.
        logger.exception("webhook event handling failed", extra={"event_id": event_id})
        return
    logger.info(
        "webhook event",
        extra={"event_id": event_id, "event_type": type(event).__name__, "handled": handled},
    )


class WebhookController(Controller):
    """Events from Stream."""

    path = "/api/webhooks"
    tags = ("webhooks",)

    @post(
        "/stream",
        operation_id="streamWebhook",
        summary="Receive a signed Stream event",
        description="`X-Signature` is the lowercase hex HMAC-SHA256 of the raw body under the "
        "Stream API secret. Deduplicated by `X-Webhook-Id`. Unknown event types are "
        "acknowledged. For now the event is handled in-process right after the response (a "
        "background task): an event whose handling fails is logged, not retried. A durable "
        "inbox, recording the event before acknowledging it, comes in a later release.",
        status_code=200,
        opt={OPT_PUBLIC: True, OPT_BODY_LIMIT: BODY_LIMIT_WEBHOOK},
        responses=error_docs(400, 401, 413),
    )
    async def stream(
        self,
        request: Request[Any, Any, Any],
        signature: Annotated[
            str | None,
            HeaderParameter(
                name="X-Signature", description="Lowercase hex HMAC-SHA256 of the raw body."
            ),
        ] = None,
        webhook_id: Annotated[
            str | None,
            HeaderParameter(name="X-Webhook-Id", description="Stream's event id, for dedupe."),
        ] = None,
    ) -> Response[OkResponse]:
        """Verify, parse, acknowledge; handle in the background."""
        runtime = runtime_of(request)
        body = await request.body()
        if not signature_valid(runtime.webhook_secret, body, signature):
            raise Unauthenticated("Webhook signature missing or wrong", code="invalid_signature")
        try:
            event = parse_stream_event(json.loads(body))
        except (ValueError, RecursionError, StreamEventError) as exc:
            raise InvalidInput(
                "The webhook body is not a Stream event", code="invalid_event"
            ) from exc
        event_id = event_id_for(webhook_id, body)
        return Response(
            OkResponse(ok=True),
            background=BackgroundTask(_handle, runtime.service, event_id, event),
        )
