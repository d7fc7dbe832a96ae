"""The contract's check order: 413, 401, 429, 400, then 404, 403, 400 not_org_member, 409."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from tests.http.conftest import WorldFactory
from tests.support.world import (
    WEBHOOK_SECRET,
    World,
    assert_error,
    bearer,
    default_settings,
    make_token,
)
from yc_chat.entrypoints.settings import RateLimit

BIG = b'{"appointmentId": "' + b"a" * (300 * 1024) + b'"}'


async def test_bad_body_without_token_is_401(world: World) -> None:
    response = await world.client.post("/api/chat/channels", content=b"{not json")
    assert_error(response, 401, "missing_token")


async def test_bad_body_with_forged_token_is_401(world: World) -> None:
    forged = make_token("admin-1", secret="guess-" + "g" * 60)
    response = await world.client.post(
        "/api/chat/channels",
        content=b'{"appointmentId": 5}',
        headers={"Authorization": f"Bearer {forged}"},
    )
    assert_error(response, 401, "invalid_token")


async def test_oversized_body_is_413_before_401(world: World) -> None:
    response = await world.client.post("/api/chat/channels", content=BIG)
    assert_error(response, 413, "payload_too_large")


async def _raw_asgi(
    world: World,
    chunks: list[bytes],
    headers: dict[str, str] | None = None,
    *,
    chunked: bool = True,
) -> tuple[int, bytes]:
    """POST a body in these chunks straight through the ASGI interface (by default
    declared chunked, without Content-Length)."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/chat/channels",
        "raw_path": b"/api/chat/channels",
        "root_path": "",
        "query_string": b"",
        "headers": [
            *([(b"transfer-encoding", b"chunked")] if chunked else []),
            (b"content-type", b"application/json"),
            *((k.lower().encode(), v.encode()) for k, v in (headers or {}).items()),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 3000),
    }
    pending = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await world.app(scope, receive, send)  # type: ignore[arg-type]
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body


async def test_oversized_chunked_body_is_413_before_401(world: World) -> None:
    status, body = await _raw_asgi(world, [b"x" * 8192] * 40)
    assert status == 413
    assert json.loads(body)["code"] == "payload_too_large"


async def test_small_chunked_body_is_replayed_to_the_app(world: World) -> None:
    chunks = [b'{"appoint', b'mentId": "apt-1"}']
    status, body = await _raw_asgi(world, chunks, bearer("vet-1"))
    assert status == 200, body
    assert json.loads(body)["members"] == ["owner-1", "vet-1"]


async def test_body_just_under_the_limit_reaches_validation(world: World) -> None:
    body = b'{"appointmentId": "' + b"a" * (250 * 1024) + b'"}'
    response = await world.client.post("/api/chat/channels", content=body, headers=bearer("vet-1"))
    assert_error(response, 400, "invalid_input")  # too long an id: the domain's rule


async def test_webhook_limit_is_one_mebibyte(world: World) -> None:
    padding = "p" * (900 * 1024)
    body = ('{"type": "custom.event", "padding": "' + padding + '"}').encode()
    signature = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    ok = await world.client.post(
        "/api/webhooks/stream", content=body, headers={"X-Signature": signature}
    )
    assert ok.status_code == 200
    too_big = body + b" " * (200 * 1024)
    signature = hmac.new(WEBHOOK_SECRET.encode(), too_big, hashlib.sha256).hexdigest()
    response = await world.client.post(
        "/api/webhooks/stream", content=too_big, headers={"X-Signature": signature}
    )
    assert_error(response, 413, "payload_too_large")


async def test_rate_limit_is_429_before_body_validation(make_world: WorldFactory) -> None:
    world: World = await make_world(
        default_settings(token_rate_limit=RateLimit(limit=1, window_seconds=60))
    )
    assert (await world.post("/api/chat/token", "vet-1", {"userId": "vet-1"})).is_success
    response = await world.client.post(
        "/api/chat/token", content=b"{broken", headers=bearer("vet-1")
    )
    assert_error(response, 429, "rate_limited")


async def test_unauthenticated_requests_do_not_spend_the_budget(make_world: WorldFactory) -> None:
    world: World = await make_world(
        default_settings(token_rate_limit=RateLimit(limit=1, window_seconds=60))
    )
    for _ in range(5):
        assert_error(await world.client.post("/api/chat/token", json={"userId": "vet-1"}), 401)
    assert (await world.post("/api/chat/token", "vet-1", {"userId": "vet-1"})).is_success


async def test_shape_is_checked_before_existence(world: World) -> None:
    for body in ({"appointmentId": 5}, {"appointmentId": ""}, {}):
        response = await world.post("/api/chat/channels", "vet-x", body)
        assert_error(response, 400)


async def test_existence_is_checked_before_permission(world: World) -> None:
    response = await world.post("/api/chat/channels", "vet-x", {"appointmentId": "ghost"})
    assert_error(response, 404, "appointment_not_found")
    response = await world.post("/api/chat/channels/ghost/end", "vet-x")
    assert_error(response, 404, "channel_not_found")


async def test_permission_is_checked_before_membership_of_named_ids(world: World) -> None:
    body = {"orgId": "org-1", "name": "x", "memberIds": ["owner-1"], "createdBy": "vet-x"}
    assert_error(await world.post("/api/chat/channels/group", "vet-x", body), 403, "not_in_org")


async def test_membership_of_named_ids_is_checked_before_conflicts(world: World) -> None:
    first = {"orgId": "org-1", "name": "x", "memberIds": ["vet-2"], "createdBy": "vet-1"}
    first["channelId"] = "taken"
    assert (await world.post("/api/chat/channels/group", "vet-1", first)).is_success
    second = {**first, "memberIds": ["owner-1"]}
    response = await world.post("/api/chat/channels/group", "vet-1", second)
    assert_error(response, 400, "not_org_member")


async def test_malformed_content_length_does_not_jump_ahead_of_credentials(world: World) -> None:
    # Servers usually refuse such a header; if one lets it through, 401 still comes first.
    forged = {"Content-Length": "abc", "Authorization": "Bearer not-a-jwt"}
    status, body = await _raw_asgi(world, [b'{"appointmentId": "apt-1"}'], forged, chunked=False)
    assert status == 401
    assert json.loads(body)["code"] == "invalid_token"
    status, _ = await _raw_asgi(world, [b"x" * 8192] * 40, {"Content-Length": "abc"}, chunked=False)
    assert status == 413


async def test_content_length_with_transfer_encoding_is_400_before_anything(world: World) -> None:
    """The two framings disagree (request smuggling): refused before credentials are read."""
    status, body = await _raw_asgi(
        world, [b'{"appointmentId": "apt-1"}'], {"Content-Length": "10", "Authorization": "x"}
    )
    assert status == 400
    assert json.loads(body)["code"] == "ambiguous_length"
