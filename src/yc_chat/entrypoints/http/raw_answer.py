"""JSON answers sent on the ASGI channel directly, for the paths that skip Litestar's
response machinery (the fixed /healthz answer, the direct org reads, the webhook's
acknowledgement, the pipeline's refusals): the bytes and headers Litestar would send."""

from __future__ import annotations

from litestar.types import HTTPResponseStartEvent, Send


def json_start(status: int, body: bytes, *extra: tuple[bytes, bytes]) -> HTTPResponseStartEvent:
    """The response start of a JSON `body`, with any `extra` headers after the two usual."""
    return {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(body)),
            *extra,
        ],
    }


async def send_json(
    send: Send, body: bytes, status: int = 200, *extra: tuple[bytes, bytes]
) -> None:
    """Send `body` as the whole JSON answer."""
    await send(json_start(status, body, *extra))
    await send({"type": "http.response.body", "body": body, "more_body": False})
