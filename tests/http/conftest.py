"""The HTTP test world: the real app over in-memory stores, the Stream fake and a fixed clock."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs
import jwt
import pytest
import redis.asyncio as aioredis
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests import servers
from tests.support.chat_spy import SpyChat
from tests.support.notifier import RecordingNotifier
from yc_chat import in_memory
from yc_chat.adapters.clock import FixedClock
from yc_chat.adapters.fake_stream import FakeStreamChatProvider, StreamState
from yc_chat.adapters.memory import (
    InMemoryAppointments,
    InMemoryDevices,
    InMemoryDirectory,
    InMemoryEventInbox,
)
from yc_chat.adapters.metrics import PrometheusMetrics
from yc_chat.domain.inbox import InboxState
from yc_chat.domain.model import (
    Appointment,
    AppointmentId,
    Device,
    UserId,
)
from yc_chat.domain.service import ChatService
from yc_chat.entrypoints.fixture import parse_fixture
from yc_chat.entrypoints.http import create_app
from yc_chat.entrypoints.runtime import Runtime
from yc_chat.entrypoints.settings import AuthSettings, HttpSettings, Settings, WorkerSettings
from yc_chat.ports import RateLimitStore

JWT_SECRET = "test-secret-" + "x" * 60
WEBHOOK_SECRET = "stream-secret-" + "y" * 30
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)

FIXTURE: dict[str, Any] = {
    "orgs": [{"id": "org-1", "name": "Happy Paws"}, {"id": "org-2", "name": "Other Clinic"}],
    "users": [
        {"id": "admin-1", "name": "Maya Ortega", "email": "maya@hp.example", "kind": "staff"},
        {"id": "vet-1", "name": "Dr. Ana Núñez", "email": "ana@hp.example", "kind": "staff"},
        {"id": "vet-2", "name": "Tom O'Brien", "email": "tom@hp.example", "kind": "staff"},
        {"id": "nurse-1", "name": "Priya Shah", "email": "priya@hp.example", "kind": "staff"},
        {"id": "vet-x", "name": "Kenji Watanabe", "email": "kenji@oc.example", "kind": "staff"},
        {"id": "admin-x", "name": "Sofia Rossi", "email": "sofia@oc.example", "kind": "staff"},
        {"id": "owner-1", "name": "Sam Lee", "kind": "pet_owner"},
        {"id": "owner-2", "name": "Jordan Müller", "kind": "pet_owner"},
    ],
    "memberships": [
        {"orgId": "org-1", "userId": "admin-1", "role": "owner"},
        {"orgId": "org-1", "userId": "vet-1", "role": "vet"},
        {"orgId": "org-1", "userId": "vet-2", "role": "vet"},
        {"orgId": "org-1", "userId": "nurse-1", "role": "nurse"},
        {"orgId": "org-2", "userId": "vet-x", "role": "vet"},
        {"orgId": "org-2", "userId": "admin-x", "role": "admin"},
    ],
    "appointments": [
        # Opens at 13:55, so pending at NOW.
        {"id": "apt-1", "orgId": "org-1", "petOwnerId": "owner-1", "vetId": "vet-1",
         "startsAt": "2026-01-15T14:00:00Z", "petName": "Rex", "petOwnerName": "Sam Lee"},
        # Opens at 11:58, so active at NOW.
        {"id": "apt-2", "orgId": "org-1", "petOwnerId": "owner-2", "vetId": "vet-2",
         "startsAt": "2026-01-15T12:03:00Z", "petName": "Mochi", "petOwnerName": "Jordan Müller"},
        {"id": "apt-x", "orgId": "org-2", "petOwnerId": "owner-2", "vetId": "vet-x",
         "startsAt": "2026-01-15T12:01:00Z", "petName": "Biscuit", "petOwnerName": "Jordan Müller"},
    ],
}  # fmt: skip

APPOINTMENT_IDS = ("apt-1", "apt-2", "apt-x")
USER_IDS = tuple(UserId(u["id"]) for u in FIXTURE["users"])


def make_token(
    user_id: str | None,
    *,
    secret: str = JWT_SECRET,
    ttl: int = 3600,
    now: float | None = None,
    algorithm: str = "HS256",
    headers: dict[str, Any] | None = None,
    **claims: Any,
) -> str:
    """A bearer JWT for `user_id` (None: no `sub`)."""
    issued = int(now if now is not None else time.time())
    payload: dict[str, Any] = {"iat": issued, "exp": issued + ttl, **claims}
    if user_id is not None:
        payload["sub"] = user_id
    return jwt.encode(payload, secret, algorithm=algorithm, headers=headers)


def bearer(user_id: str, **kwargs: Any) -> dict[str, str]:
    """Authorization headers for `user_id`."""
    return {"Authorization": f"Bearer {make_token(user_id, **kwargs)}"}


@attrs.frozen
class Snapshot:
    """Everything a request could change, read through the ports."""

    writes: int
    appointments: tuple[Appointment | None, ...]
    devices: tuple[Device, ...]
    notifications: int
    inbox: tuple[tuple[InboxState, int], ...]


@attrs.define
class World:
    """One app and everything behind it."""

    app: Litestar
    client: AsyncTestClient[Litestar]
    runtime: Runtime
    service: ChatService
    chat: SpyChat
    stream: FakeStreamChatProvider
    directory: InMemoryDirectory
    appointments: InMemoryAppointments
    devices: InMemoryDevices
    notifier: RecordingNotifier
    clock: FixedClock
    inbox: InMemoryEventInbox
    metrics: PrometheusMetrics
    worker: WorkerSettings

    async def drain(self) -> int:
        """Handle every recorded event that is due now, as the worker would."""
        return await self.service.process_inbox_events.drain()

    @property
    def state(self) -> StreamState:
        return self.stream.state

    async def snapshot(self) -> Snapshot:
        appointments = tuple(
            [await self.appointments.get(AppointmentId(a)) for a in APPOINTMENT_IDS]
        )
        devices = tuple(await self.devices.devices_of(USER_IDS))
        return Snapshot(
            writes=len(self.chat.writes),
            appointments=appointments,
            devices=devices,
            notifications=len(self.notifier.sent),
            inbox=tuple(sorted((await self.inbox.counts()).items())),
        )

    def messages(self, channel_id: str) -> list[str]:
        return [m.text for m in self.state.messages("messaging", channel_id)]

    async def post(self, path: str, user: str | None, body: Any = None, **kw: Any) -> Any:
        headers = {**(bearer(user) if user else {}), **kw.pop("headers", {})}
        return await self.client.post(path, json=body, headers=headers, **kw)

    async def get(self, path: str, user: str | None, **kw: Any) -> Any:
        headers = {**(bearer(user) if user else {}), **kw.pop("headers", {})}
        return await self.client.get(path, headers=headers, **kw)


WorldFactory = Callable[..., Any]


# The worker is off in the test world: tests run its passes themselves (World.drain), so
# what they see never depends on a background task's timing.
NO_WORKER = WorkerSettings(enabled=False)


def default_settings(**overrides: Any) -> HttpSettings:
    """Settings for tests: HS256 auth, a known webhook secret, no background lifecycle."""
    values: dict[str, Any] = {
        "auth": AuthSettings(jwt_secret=JWT_SECRET),
        "webhook_secret": WEBHOOK_SECRET,
        "activation_interval_seconds": 0,
        "token_rate_limit": None,
        "write_rate_limit": None,
    }
    values.update(overrides)
    return HttpSettings(**values)


@pytest.fixture
async def make_world() -> AsyncIterator[WorldFactory]:
    """Build worlds with custom settings; every client is closed at the end."""
    clients: list[AsyncTestClient[Litestar]] = []

    async def build(
        settings: HttpSettings | None = None,
        *,
        rate_limit_store: RateLimitStore | None = None,
        on_shutdown: Sequence[Callable[[], Awaitable[None]]] = (),
        worker: WorkerSettings = NO_WORKER,
    ) -> World:
        clock = FixedClock(NOW)
        notifier = RecordingNotifier()
        stream = FakeStreamChatProvider(StreamState(clock=clock.now), api_secret=WEBHOOK_SECRET)
        chat = SpyChat(stream)
        runtime = in_memory(
            Settings(http=settings or default_settings(), worker=worker),
            chat=chat,
            notifier=notifier,
            clock=clock,
            shared_rate_limits=rate_limit_store,
            on_shutdown=on_shutdown,
        )
        await runtime.load(parse_fixture(FIXTURE))
        app = create_app(runtime)
        client: AsyncTestClient[Litestar] = AsyncTestClient(app)
        await client.__aenter__()
        clients.append(client)
        ports = runtime.ports
        return World(
            app=app,
            client=client,
            runtime=runtime,
            service=runtime.service,
            chat=chat,
            stream=stream,
            directory=ports.directory,
            appointments=ports.appointments,
            devices=ports.devices,
            notifier=notifier,
            clock=clock,
            inbox=ports.inbox,
            metrics=ports.metrics,
            worker=worker,
        )

    yield build
    for client in clients:
        await client.__aexit__(None, None, None)


@pytest.fixture
async def world(make_world: WorldFactory) -> World:
    """The default world."""
    built: World = await make_world()
    return built


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is the contract's error body with this status (and code)."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) <= {"error", "code", "details"}, body
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["code"], str) and body["code"]
    assert "Traceback" not in response.text
    if code is not None:
        assert body["code"] == code, body
    return body


@pytest.fixture
def redis_url() -> str:
    """The session's own Redis server (tests/servers.py): started here, or skipped."""
    return servers.redis_url()


@pytest.fixture
async def redis_prefix(redis_url: str) -> AsyncIterator[str]:
    """A key prefix of this test's own on that server, its keys deleted afterwards."""
    prefix = f"yc-chat-test:{uuid.uuid4().hex}:"
    yield prefix
    client: Any = aioredis.Redis.from_url(redis_url)
    keys = [key async for key in client.scan_iter(match=prefix + "*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()
