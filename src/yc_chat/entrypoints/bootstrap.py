"""The one composition root: settings in, adapters chosen, service and app built."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping

import attrs
from litestar import Litestar

from yc_chat.adapters.clock import SystemClock
from yc_chat.adapters.fake_stream import FakeStreamChatProvider, StreamState
from yc_chat.adapters.memory import (
    Fixture,
    InMemoryAppointments,
    InMemoryDevices,
    InMemoryDirectory,
    InMemoryEventLog,
    InMemoryFingerprints,
    seed,
)
from yc_chat.adapters.push import LogNotifier
from yc_chat.domain.service import ChatService
from yc_chat.entrypoints.http import create_app
from yc_chat.entrypoints.http.ratelimit import RateLimitStore, RedisRateLimitStore
from yc_chat.entrypoints.settings import Settings, SettingsError
from yc_chat.ports import Clock

logger = logging.getLogger("yc_chat.bootstrap")

Probe = Callable[[], Awaitable[None]]


@attrs.frozen(kw_only=True)
class Runtime:
    """Built adapters and the service over them, ready to seed and serve."""

    settings: Settings
    service: ChatService
    directory: InMemoryDirectory
    appointments: InMemoryAppointments
    chat: FakeStreamChatProvider
    rate_limit_store: RateLimitStore | None
    persistent: bool

    @property
    def probes(self) -> Mapping[str, Probe]:
        """Readiness checks: every store and the chat provider."""
        probes: dict[str, Probe] = {
            "directory": self.directory.ping,
            "appointments": self.appointments.ping,
            "chat": self.chat.ping,
        }
        if self.rate_limit_store is not None:
            probes["redis"] = self.rate_limit_store.ping
        return probes


def check_supported(settings: Settings) -> None:
    """Refuse configurations that name adapters this build does not have yet."""
    if settings.mongodb_uri is not None:
        raise SettingsError(
            "MONGODB_URI is set, but MongoDB storage is not supported yet; unset it to run "
            "on in-memory stores (data is then lost on exit)"
        )
    if settings.stream_api_key is not None:
        raise SettingsError(
            "STREAM_API_KEY is set, but the real Stream adapter is not supported yet; unset it "
            "to run on the built-in in-process Stream fake"
        )


def build_runtime(settings: Settings, *, clock: Clock | None = None) -> Runtime:
    """Choose and build every adapter the settings describe."""
    check_supported(settings)
    clock = clock or SystemClock()
    # The webhook secret is the Stream API secret; the in-process fake gets a fresh one
    # unless STREAM_API_SECRET is set (then callers can sign test webhooks with it).
    stream_secret = settings.stream_api_secret or secrets.token_urlsafe(32)
    settings = attrs.evolve(
        settings, http=attrs.evolve(settings.http, webhook_secret=stream_secret)
    )
    directory = InMemoryDirectory()
    appointments = InMemoryAppointments()
    chat = FakeStreamChatProvider(StreamState(clock=clock.now), api_secret=stream_secret)
    service = ChatService.build(
        directory=directory,
        appointments=appointments,
        chat=chat,
        devices=InMemoryDevices(),
        notifier=LogNotifier(),
        fingerprints=InMemoryFingerprints(),
        event_log=InMemoryEventLog(),
        clock=clock,
        token_ttl=settings.chat_token_ttl,
    )
    store = RedisRateLimitStore(settings.redis_url) if settings.redis_url else None
    logger.warning(
        "IN-MEMORY STORES: directory, appointments, chats and devices are NOT persisted and "
        "are lost when this process exits (MongoDB support comes in a later release)"
    )
    logger.info(
        "chat provider: in-process Stream fake",
        extra={"rate_limits": "redis" if store is not None else "in-process"},
    )
    return Runtime(
        settings=settings,
        service=service,
        directory=directory,
        appointments=appointments,
        chat=chat,
        rate_limit_store=store,
        persistent=False,
    )


async def load(runtime: Runtime, fixture: Fixture) -> None:
    """Write a directory/appointments fixture into the runtime's stores."""
    await seed(fixture, directory=runtime.directory, appointments=runtime.appointments)


def build_app(runtime: Runtime) -> Litestar:
    """The HTTP app over the runtime's service."""
    closers = [runtime.rate_limit_store.close] if runtime.rate_limit_store is not None else []
    return create_app(
        service=runtime.service,
        settings=runtime.settings.http,
        probes=runtime.probes,
        rate_limit_store=runtime.rate_limit_store,
        on_shutdown=closers,
    )
