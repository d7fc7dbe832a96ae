"""The webhook's acknowledging path on its own: WebhookAcknowledger as an ASGI middleware (which
requests it answers, how it reads the body), the webhook secret left unset, the refusal's
wording and the line it logs. tests/http/test_webhook.py covers the endpoint through the app.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest

from tests.http.conftest import WorldFactory
from tests.support.world import WEBHOOK_SECRET, World, assert_error, default_settings
from yc_chat.domain.errors import Unauthenticated
from yc_chat.entrypoints.http.controllers.webhooks import WebhookAcknowledger
from yc_chat.entrypoints.http.keys import OPT_WEBHOOK

BODY = json.dumps({"type": "health.check", "created_at": "2026-01-15T14:00:00Z"}).encode()
REFUSAL = "Webhook signature missing or wrong"


def sign(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _digest_id(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


class _Inner:
    """The rest of the chain: records whether the request was passed on."""

    def __init__(self) -> None:
        self.scopes: list[dict[str, Any]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.scopes.append(scope)


def _scope(
    world: World, *, kind: str = "http", method: str | None = "POST", webhook: bool = True
) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": kind,
        "app": world.app,
        "route_handler": SimpleNamespace(opt={OPT_WEBHOOK: True} if webhook else {}),
        "headers": [(b"x-signature", sign(BODY).encode())],
        "path": "/api/webhooks/stream",
    }
    if method is not None:
        scope["method"] = method
    return scope


def _receiver(*messages: dict[str, Any]) -> Any:
    """ASGI's receive over `messages`; reading past them is a test failure (a server would
    wait there for a body that never comes)."""
    pending = list(messages)

    async def receive() -> dict[str, Any]:
        if not pending:
            pytest.fail("read past the end of the request body")
        return pending.pop(0)

    return receive


class _Sent:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def __call__(self, message: dict[str, Any]) -> None:
        self.messages.append(message)

    def answer(self) -> tuple[int, bytes]:
        start, *bodies = self.messages
        assert start["type"] == "http.response.start"
        assert all(m["type"] == "http.response.body" for m in bodies)
        assert not bodies[-1].get("more_body", False)
        return start["status"], b"".join(m.get("body", b"") for m in bodies)


async def test_a_signed_webhook_post_is_answered_here_and_not_passed_on(world: World) -> None:
    inner, sent = _Inner(), _Sent()
    await WebhookAcknowledger(inner, deadlines=None)(
        _scope(world), _receiver({"type": "http.request", "body": BODY}), sent
    )
    assert inner.scopes == []
    assert sent.answer() == (200, b'{"ok":true}')
    recorded = await world.inbox.get(_digest_id(BODY))
    assert recorded is not None and recorded.payload == BODY


class _Budget:
    """Deadlines that say whether the record ran inside the request's budget."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.recorded: list[tuple[str, int]] = []

    async def _count(self, when: str) -> None:
        self.recorded.append((when, sum((await self.world.inbox.counts()).values())))

    @contextlib.asynccontextmanager
    async def bounded(self) -> AsyncIterator[None]:
        await self._count("entered")
        yield
        await self._count("left")


async def test_with_an_inbox_that_can_wait_the_record_runs_within_the_requests_budget(
    world: World,
) -> None:
    """A database inbox can hang: the acknowledgement then draws on the request's deadline
    (503 when it runs out), as every other dependency call does."""
    inner, sent, budget = _Inner(), _Sent(), _Budget(world)
    receive = _receiver({"type": "http.request", "body": BODY})
    await WebhookAcknowledger(inner, deadlines=budget)(_scope(world), receive, sent)
    assert budget.recorded == [("entered", 0), ("left", 1)]
    assert sent.answer() == (200, b'{"ok":true}')
    recorded = await world.inbox.get(_digest_id(BODY))
    assert recorded is not None and recorded.payload == BODY
    assert inner.scopes == []


@pytest.mark.parametrize(
    ("kind", "method", "webhook"),
    [
        ("http", "PUT", True),  # only a POST is acknowledged; Litestar answers the rest
        ("http", "GET", True),
        ("http", "POST", False),  # another route
        ("websocket", None, False),  # no method in the scope at all
    ],
)
async def test_anything_else_goes_on_down_the_chain_untouched(
    world: World, kind: str, method: str | None, webhook: bool
) -> None:
    inner, sent = _Inner(), _Sent()
    scope = _scope(world, kind=kind, method=method, webhook=webhook)
    await WebhookAcknowledger(inner, deadlines=None)(scope, _receiver(), sent)
    assert inner.scopes == [scope]
    assert sent.messages == []
    assert sum((await world.inbox.counts()).values()) == 0


@pytest.mark.parametrize(
    "messages",
    [
        # In pieces: the signature covers all of them, in order.
        [
            {"body": BODY[:5], "more_body": True},
            {"body": BODY[5:9], "more_body": True},
            {"body": BODY[9:], "more_body": False},
        ],
        # ASGI's keys are optional: no `body` is empty, no `more_body` is the last piece.
        [{"more_body": True}, {"body": BODY[:7], "more_body": True}, {"body": BODY[7:]}],
    ],
)
async def test_the_whole_body_is_read_however_it_arrives(
    world: World, messages: list[dict[str, Any]]
) -> None:
    """The chain before it hands the body on whole; read as ASGI allows all the same, so a
    reordered chain cannot verify part of a body, or wait for more after the last piece."""
    inner, sent = _Inner(), _Sent()
    receive = _receiver(*({"type": "http.request", **m} for m in messages))
    await WebhookAcknowledger(inner, deadlines=None)(_scope(world), receive, sent)
    assert sent.answer() == (200, b'{"ok":true}')
    recorded = await world.inbox.get(_digest_id(BODY))
    assert recorded is not None and recorded.payload == BODY


async def test_a_client_gone_mid_body_is_refused_and_nothing_recorded(world: World) -> None:
    """What arrived before the disconnect is all that is verified: the whole body's signature
    does not cover it."""
    receive = _receiver(
        {"type": "http.request", "body": BODY[:10], "more_body": True},
        {"type": "http.request", "body": BODY[10:20], "more_body": True},
        {"type": "http.disconnect"},
    )
    sent = _Sent()
    with pytest.raises(Unauthenticated):
        await WebhookAcknowledger(_Inner(), deadlines=None)(_scope(world), receive, sent)
    assert sent.messages == []
    assert sum((await world.inbox.counts()).values()) == 0


@pytest.mark.parametrize("secret", [None, ""])
async def test_without_a_webhook_secret_no_signature_passes(
    make_world: WorldFactory, secret: str | None
) -> None:
    """An unset (or empty) secret refuses everything: a body signed with the empty key, which
    anyone can compute, is no webhook."""
    world: World = await make_world(default_settings(webhook_secret=secret))
    for signature in (sign(BODY, ""), sign(BODY), "0" * 64):
        response = await world.client.post(
            "/api/webhooks/stream",
            content=BODY,
            headers={"Content-Type": "application/json", "X-Signature": signature},
        )
        body = assert_error(response, 401, "invalid_signature")
        assert body["error"] == REFUSAL
    assert sum((await world.inbox.counts()).values()) == 0


async def test_a_refused_signature_says_why_and_nothing_of_the_secret(world: World) -> None:
    response = await world.client.post(
        "/api/webhooks/stream", content=BODY, headers={"X-Signature": sign(BODY, "guess")}
    )
    body = assert_error(response, 401, "invalid_signature")
    assert body == {"error": REFUSAL, "code": "invalid_signature"}
    assert WEBHOOK_SECRET not in response.text


async def test_each_delivery_logs_its_id_type_and_whether_it_was_a_repeat(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """The DEBUG line an operator follows a delivery by; never the body's text."""
    caplog.set_level(logging.DEBUG, logger="yc_chat.webhooks")
    body = json.dumps({"type": "user.updated", "user": {"id": "owner-2", "name": "Rex"}}).encode()
    for _ in range(2):
        response = await world.client.post(
            "/api/webhooks/stream",
            content=body,
            headers={"X-Signature": sign(body), "X-Webhook-Id": "w-log"},
        )
        assert response.status_code == 200
    lines = [r for r in caplog.records if r.name == "yc_chat.webhooks"]
    assert [r.getMessage() for r in lines] == ["webhook received", "webhook received"]
    assert [(r.event_id, r.event_type, r.duplicate) for r in lines] == [  # type: ignore[attr-defined]
        ("w-log", "user.updated", False),
        ("w-log", "user.updated", True),
    ]
    assert all("Rex" not in r.getMessage() and "Rex" not in str(r.__dict__) for r in lines)
