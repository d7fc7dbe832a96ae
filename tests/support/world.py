"""The one test world: the service over in-memory stores, the Stream fake behind a call spy,
a recording notifier and a fixed clock, loaded with the demo clinic (tests/support/demo.py).

`build_world()` makes it for use-case tests; `build_http_world()` adds the real HTTP app
and a test client (tests/http/conftest.py's `make_world` and `world` fixtures);
`build_system_user_world()` is the clinic under a configured Stream system user. The HTTP
helpers (tokens, settings, the contract's error body) live here too.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs
import jwt
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.support.chat_spy import SpyChat
from tests.support.demo import APPOINTMENT_IDS, FIXTURE, NOW, USER_IDS
from tests.support.notifier import RecordingNotifier
from yc_chat import ChatService, in_memory
from yc_chat.adapters.clock import FixedClock, SystemClock
from yc_chat.adapters.fake_stream import FakeStreamChatProvider, StreamState
from yc_chat.adapters.memory import (
    InMemoryAppointments,
    InMemoryChannelLocks,
    InMemoryDevices,
    InMemoryDirectory,
    InMemoryEventInbox,
    InMemoryFingerprints,
)
from yc_chat.adapters.metrics import PrometheusMetrics
from yc_chat.domain.inbox import InboxState
from yc_chat.domain.model import Appointment, AppointmentId, ChannelId, Device
from yc_chat.entrypoints.fixture import parse_fixture
from yc_chat.entrypoints.http import create_app
from yc_chat.entrypoints.runtime import Runtime
from yc_chat.entrypoints.settings import AuthSettings, HttpSettings, Settings, WorkerSettings
from yc_chat.ports import Clock, RateLimitStore

TEST_SECRET = "test-secret-0123456789abcdef-0123456789"
JWT_SECRET = "test-secret-" + "x" * 60
WEBHOOK_SECRET = "stream-secret-" + "y" * 30

# The worker is off in the test world: tests run its passes themselves (World.drain), so
# what they see never depends on a background task's timing.
NO_WORKER = WorkerSettings(enabled=False)


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
    """One service and everything behind it; with `app` and `client` when built for HTTP."""

    runtime: Runtime
    service: ChatService
    chat: SpyChat
    stream: FakeStreamChatProvider
    directory: InMemoryDirectory
    appointments: InMemoryAppointments
    devices: InMemoryDevices
    fingerprints: InMemoryFingerprints
    locks: InMemoryChannelLocks
    inbox: InMemoryEventInbox
    metrics: PrometheusMetrics
    notifier: RecordingNotifier
    clock: FixedClock
    worker: WorkerSettings = NO_WORKER
    app: Litestar | None = None
    client: Any = None  # AsyncTestClient[Litestar] in an HTTP world

    @property
    def state(self) -> StreamState:
        return self.stream.state

    def messages(self, channel_id: str) -> list[str]:
        """The text of every message in the channel, in order."""
        return [m.text for m in self.state.messages("messaging", channel_id)]

    def message_rows(self, channel_id: str) -> list[tuple[str, str, str]]:
        """(user id, type, text) of every message in the channel, in order."""
        return [(m.user_id, m.type, m.text) for m in self.state.messages("messaging", channel_id)]

    async def channel(self, channel_id: str) -> Any:
        return await self.chat.inner.get_channel(ChannelId(channel_id))

    async def drain(self) -> int:
        """Handle every recorded event that is due now, as the worker would."""
        return await self.service.process_inbox_events.drain()

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

    async def post(self, path: str, user: str | None, body: Any = None, **kw: Any) -> Any:
        headers = {**(bearer(user) if user else {}), **kw.pop("headers", {})}
        return await self.client.post(path, json=body, headers=headers, **kw)

    async def get(self, path: str, user: str | None, **kw: Any) -> Any:
        headers = {**(bearer(user) if user else {}), **kw.pop("headers", {})}
        return await self.client.get(path, headers=headers, **kw)


def _world(runtime: Runtime, chat: SpyChat, stream: FakeStreamChatProvider, **extra: Any) -> World:
    ports = runtime.ports
    return World(
        runtime=runtime,
        service=runtime.service,
        chat=chat,
        stream=stream,
        directory=ports.directory,  # type: ignore[arg-type]
        appointments=ports.appointments,  # type: ignore[arg-type]
        devices=ports.devices,  # type: ignore[arg-type]
        fingerprints=ports.fingerprints,  # type: ignore[arg-type]
        locks=ports.locks,  # type: ignore[arg-type]
        inbox=ports.inbox,  # type: ignore[arg-type]
        metrics=ports.metrics,  # type: ignore[arg-type]
        **extra,
    )


async def build_world(now: datetime = NOW) -> World:
    """The world for use-case tests: no HTTP, group ids counted from `grp_test1`."""
    clock = FixedClock(now)
    stream = FakeStreamChatProvider(state=StreamState(clock=clock.now), api_secret=TEST_SECRET)
    chat = SpyChat(stream)
    notifier = RecordingNotifier()
    counter = iter(range(1, 10_000))
    runtime = in_memory(
        Settings(chat_token_ttl=timedelta(hours=24)),
        chat=chat,  # type: ignore[arg-type]
        notifier=notifier,
        clock=clock,
        new_group_id=lambda: ChannelId(f"grp_test{next(counter)}"),
    )
    await runtime.load(parse_fixture(FIXTURE))
    return _world(runtime, chat, stream, notifier=notifier, clock=clock)


async def build_system_user_world(
    system_user: str, clock: Clock | None = None
) -> tuple[Runtime, StreamState]:
    """The demo clinic under a configured STREAM_SYSTEM_USER_ID, over the Stream fake (no
    spy), on `clock` (the system's when None): the runtime and the fake's state."""
    clock = clock or SystemClock()
    state = StreamState(clock=clock.now)
    runtime = in_memory(
        Settings(stream_system_user_id=system_user),
        chat=FakeStreamChatProvider(state, system_user_id=system_user),
        clock=clock,
    )
    await runtime.load(parse_fixture(FIXTURE))
    return runtime, state


async def build_http_world(
    settings: HttpSettings | None = None,
    *,
    rate_limit_store: RateLimitStore | None = None,
    on_shutdown: Sequence[Callable[[], Awaitable[None]]] = (),
    worker: WorkerSettings = NO_WORKER,
) -> World:
    """The world behind the real HTTP app, with an entered test client (close it after)."""
    clock = FixedClock(NOW)
    notifier = RecordingNotifier()
    stream = FakeStreamChatProvider(StreamState(clock=clock.now), api_secret=WEBHOOK_SECRET)
    stream.apply_setup_now()  # as `yc-chat stream setup` leaves a Stream app
    chat = SpyChat(stream)
    runtime = in_memory(
        Settings(http=settings or default_settings(), worker=worker),
        chat=chat,  # type: ignore[arg-type]
        notifier=notifier,
        clock=clock,
        shared_rate_limits=rate_limit_store,
        on_shutdown=on_shutdown,
    )
    await runtime.load(parse_fixture(FIXTURE))
    app = create_app(runtime)
    client: AsyncTestClient[Litestar] = AsyncTestClient(app)
    await client.__aenter__()
    return _world(
        runtime, chat, stream, notifier=notifier, clock=clock, worker=worker, app=app, client=client
    )


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
