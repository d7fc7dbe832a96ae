"""The whole product on one machine: our service, the SDK adapter and the Stream emulator,
with the stores in memory and on PostgreSQL.

A pet owner gets a token from our service, posts as that user through the emulator into
the appointment channel our service created; the emulator's signed webhook reaches our
service (through a proxy that fails the first delivery, so the emulator really retries)
and the vet gets exactly one push. Then the emulator fails: our API answers 503 with
Retry-After and, once it recovers, the state is consistent.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
import uvicorn
from stream_chat.async_chat.client import StreamChatAsync

from tests.support.postgres import migrated_database
from yc_chat.domain.model import User, UserId, UserKind
from yc_chat.entrypoints import bootstrap
from yc_chat.entrypoints.fixture import parse_fixture
from yc_chat.entrypoints.settings import Settings

JWT_SECRET = "product-flow-secret-" + "p" * 40
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def fixture(now: datetime) -> dict[str, Any]:
    return {
        "orgs": [{"id": "org-1", "name": "Happy Paws"}],
        "users": [
            {"id": "vet-1", "name": "Dr. Ana Núñez", "email": "ana@hp.example"},
            {"id": "nurse-1", "name": "Priya Shah", "email": "priya@hp.example"},
            {"id": "owner-1", "name": "Sam Lee", "kind": "pet_owner"},
        ],
        "memberships": [
            {"orgId": "org-1", "userId": "vet-1", "role": "vet"},
            {"orgId": "org-1", "userId": "nurse-1", "role": "nurse"},
        ],
        "appointments": [
            {"id": "apt-1", "orgId": "org-1", "petOwnerId": "owner-1", "vetId": "vet-1",
             "startsAt": (now + timedelta(minutes=2)).isoformat(), "petName": "Rex",
             "petOwnerName": "Sam Lee"},
        ],
    }  # fmt: skip


@pytest.fixture(params=["memory", "postgres"])
async def store_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """The stores the service runs on: in memory, or a fresh migrated PostgreSQL database."""
    if request.param == "memory":
        return {}
    return {"DATABASE_URL": await migrated_database()}


def bearer(user_id: str) -> dict[str, str]:
    now = datetime.now(UTC)
    claims = {"sub": user_id, "iat": now, "exp": now + timedelta(minutes=10)}
    return {"Authorization": "Bearer " + jwt.encode(claims, JWT_SECRET, algorithm="HS256")}


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    return sock


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """Serve an ASGI app in this event loop on a free port; yields its base URL."""
    sock = free_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="auto")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


class FlakyForwarder:
    """Answers 503 to the first delivery of each webhook id, forwards later attempts."""

    def __init__(self) -> None:
        self.target = ""
        self.attempts: dict[str, int] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        webhook_id = headers.get("x-webhook-id", "")
        self.attempts[webhook_id] = self.attempts.get(webhook_id, 0) + 1
        status = 503
        if self.attempts[webhook_id] > 1:
            forward = {k: v for k, v in headers.items() if k.startswith("x-")}
            forward["content-type"] = headers.get("content-type", "application/json")
            async with httpx.AsyncClient() as client:
                answer = await client.post(
                    self.target + scope["path"], content=body, headers=forward
                )
            status = answer.status_code
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def wait_for(condition: Callable[[], bool], *, seconds: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def pushes(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    return [
        (r.__dict__["recipient"], r.__dict__["channel"])
        for r in caplog.records
        if r.name == "yc_chat.push" and "recipient" in r.__dict__
    ]


async def test_owner_message_reaches_the_vet_once_through_stream_webhooks(
    caplog: pytest.LogCaptureFixture, store_env: dict[str, str]
) -> None:
    caplog.set_level(logging.INFO)
    settings = Settings.from_env(
        {"JWT_SECRET": JWT_SECRET, "ACTIVATION_INTERVAL_SECONDS": "0", **store_env}
    )
    async with bootstrap.open_runtime(settings) as runtime:
        await runtime.load(parse_fixture(fixture(datetime.now(UTC))))
        forwarder = FlakyForwarder()
        async with (
            serving(bootstrap.build_app(runtime)) as service_url,
            serving(forwarder) as proxy,
        ):
            forwarder.target = service_url
            runtime.deliver_webhooks_to(proxy)
            emulator = runtime.emulator
            assert emulator is not None
            async with httpx.AsyncClient(base_url=service_url, timeout=10) as api:
                token = await api.post(
                    "/api/chat/token", json={"userId": "owner-1"}, headers=bearer("owner-1")
                )
                assert token.status_code == 200
                opened = await api.post(
                    "/api/chat/channels", json={"appointmentId": "apt-1"}, headers=bearer("owner-1")
                )
                assert opened.status_code == 200
                channel_id = opened.json()["channelId"]

                # The mobile app posts with the Stream token our service handed out.
                # The secret is never used: the user token below replaces the server token.
                client = StreamChatAsync(
                    emulator.api_key, "never-used-" + "x" * 32, base_url=emulator.base_url
                )
                client.auth_token = token.json()["token"]
                try:
                    await client.channel("messaging", channel_id).send_message(
                        {"text": "Rex is limping again"}, "owner-1"
                    )
                finally:
                    await client.close()

                await wait_for(lambda: bool(pushes(caplog)))
                await wait_for(lambda: emulator.control.webhook_stats.delivered >= 1)
                assert max(forwarder.attempts.values()) >= 2  # the emulator did retry
                assert pushes(caplog) == [("vet-1", channel_id)]

                listed = await api.get("/api/chat/channels", headers=bearer("vet-1"))
                assert listed.json()["channels"][0]["lastMessage"] == "Rex is limping again"


async def test_failing_stream_gives_503_with_retry_after_and_no_half_state(
    store_env: dict[str, str],
) -> None:
    settings = Settings.from_env(
        {"JWT_SECRET": JWT_SECRET, "ACTIVATION_INTERVAL_SECONDS": "0", **store_env}
    )
    async with bootstrap.open_runtime(settings) as runtime:
        await runtime.load(parse_fixture(fixture(datetime.now(UTC))))
        emulator = runtime.emulator
        assert emulator is not None
        body = {"orgId": "org-1", "memberIds": ["vet-1", "nurse-1"], "createdBy": "vet-1"}
        async with (
            serving(bootstrap.build_app(runtime)) as service_url,
            httpx.AsyncClient(base_url=service_url, timeout=20) as api,
        ):
            emulator.control.fail(503)
            failed = await api.post(
                "/api/chat/channels/internal", json=body, headers=bearer("vet-1")
            )
            assert failed.status_code == 503
            assert int(failed.headers["retry-after"]) >= 1
            assert failed.json()["code"] == "provider_unavailable"
            assert "Traceback" not in failed.text

            emulator.control.heal()
            ok = await api.post("/api/chat/channels/internal", json=body, headers=bearer("vet-1"))
            assert ok.status_code == 200
            from_nurse = {**body, "memberIds": ["nurse-1", "vet-1"], "createdBy": "nurse-1"}
            again = await api.post(
                "/api/chat/channels/internal", json=from_nurse, headers=bearer("nurse-1")
            )
            assert again.status_code == 200
            assert again.json()["channelId"] == ok.json()["channelId"]
        # One DM with exactly the two members, whatever failed before.
        state = emulator.control.state
        channels = state.query_channels({"type": "messaging"}, limit=30)
        assert [sorted(c.member_ids) for c in channels] == [["nurse-1", "vet-1"]]


async def test_a_user_id_stream_refuses_is_a_502_without_streams_wording(
    store_env: dict[str, str],
) -> None:
    settings = Settings.from_env(
        {"JWT_SECRET": JWT_SECRET, "ACTIVATION_INTERVAL_SECONDS": "0", **store_env}
    )
    async with bootstrap.open_runtime(settings) as runtime:
        await runtime.load(parse_fixture(fixture(datetime.now(UTC))))
        # A host's own directory may hold such an id (a fixture file refuses it up front).
        pipe_user = User(id=UserId("auth0|abc"), name="Pipe User", kind=UserKind.PET_OWNER)
        await runtime.ports.directory_writer.put_user(pipe_user)
        async with (
            serving(bootstrap.build_app(runtime)) as service_url,
            httpx.AsyncClient(base_url=service_url, timeout=20) as api,
        ):
            answer = await api.post(
                "/api/chat/token", json={"userId": "auth0|abc"}, headers=bearer("auth0|abc")
            )
    # The caller's request was fine; Stream refusing the id is the provider failing us.
    assert answer.status_code == 502
    assert answer.json()["code"] == "provider_rejected"
    assert "auth0" not in answer.json()["error"]
