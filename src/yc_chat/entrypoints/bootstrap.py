"""The one composition root: settings in, adapters chosen and opened, service and app built.

Adapters that hold connections (MongoDB, the Stream SDK client) are opened inside the event
loop that will use them, by `open_runtime`, and closed when it exits.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Protocol

import attrs
from litestar import Litestar

from yc_chat.adapters.beanie import open_mongo_stores
from yc_chat.adapters.clock import SystemClock
from yc_chat.adapters.fake_stream import StreamState
from yc_chat.adapters.memory import (
    InMemoryAppointments,
    InMemoryChannelLocks,
    InMemoryDevices,
    InMemoryDirectory,
    InMemoryEventInbox,
    InMemoryEventLog,
    InMemoryFingerprints,
)
from yc_chat.adapters.metrics import PrometheusMetrics
from yc_chat.adapters.push import LogNotifier
from yc_chat.adapters.push.expo import EXPO_BASE_URL, ExpoNotifier
from yc_chat.adapters.redis import RedisRateLimitStore
from yc_chat.adapters.stream import StreamChatProvider, StreamConfig
from yc_chat.domain.service import ChatService
from yc_chat.entrypoints import background
from yc_chat.entrypoints.fixture import Fixture, seed
from yc_chat.entrypoints.http import create_app
from yc_chat.entrypoints.http.deps import Probe
from yc_chat.entrypoints.settings import Settings, SettingsError
from yc_chat.entrypoints.stream_emulator import (
    RunningEmulator,
    new_credentials,
    start_in_background,
)
from yc_chat.ports import (
    AppointmentStore,
    ChannelLocks,
    ChatProvider,
    Clock,
    DeviceRegistry,
    Directory,
    DirectoryWriter,
    EventInbox,
    EventLog,
    Notifier,
    ProfileFingerprints,
    RateLimitStore,
)

logger = logging.getLogger("yc_chat.bootstrap")

DEFAULT_DATABASE = "yc_chat"
WEBHOOK_PATH = "/api/webhooks/stream"


class DirectoryStore(Directory, DirectoryWriter, Protocol):
    """A directory this process can also load seed data into."""


@attrs.frozen(kw_only=True)
class Stores:
    """Every store port, from one backend."""

    directory: DirectoryStore
    appointments: AppointmentStore
    devices: DeviceRegistry
    event_log: EventLog
    inbox: EventInbox
    fingerprints: ProfileFingerprints
    locks: ChannelLocks
    persistent: bool
    probe: Probe


@attrs.frozen(kw_only=True)
class Runtime:
    """Opened adapters and the service over them, ready to seed and serve."""

    settings: Settings
    service: ChatService
    directory: DirectoryStore
    appointments: AppointmentStore
    chat: ChatProvider
    inbox: EventInbox
    metrics: PrometheusMetrics
    clock: Clock
    rate_limit_store: RateLimitStore | None
    persistent: bool
    emulator: RunningEmulator | None
    probes: Mapping[str, Probe]

    def deliver_webhooks_to(self, service_base_url: str) -> None:
        """Point the built-in emulator's webhooks at this service (no-op with real Stream)."""
        if self.emulator is not None:
            self.emulator.control.webhook_url = service_base_url.rstrip("/") + WEBHOOK_PATH


@asynccontextmanager
async def open_stores(settings: Settings) -> AsyncIterator[Stores]:
    """MongoDB when MONGODB_URI is set, else memory (loudly not persisted)."""
    if settings.mongodb_uri is not None:
        mongo = await open_mongo_stores(
            settings.mongodb_uri, settings.database_name or DEFAULT_DATABASE
        )
        try:
            logger.info("stores: MongoDB", extra={"database": mongo.database})
            yield Stores(
                directory=mongo.directory,
                appointments=mongo.appointments,
                devices=mongo.devices,
                event_log=mongo.event_log,
                inbox=mongo.inbox,
                fingerprints=mongo.fingerprints,
                locks=mongo.locks,
                persistent=True,
                probe=mongo.ping,
            )
        finally:
            await mongo.close()
        return
    logger.warning(
        "IN-MEMORY STORES: directory, appointments, chats, devices and received webhook "
        "events are NOT persisted and are lost when this process exits (set MONGODB_URI to "
        "keep them)"
    )

    async def always_ready() -> None:
        return None

    yield Stores(
        directory=InMemoryDirectory(),
        appointments=InMemoryAppointments(),
        devices=InMemoryDevices(),
        event_log=InMemoryEventLog(),
        inbox=InMemoryEventInbox(),
        fingerprints=InMemoryFingerprints(),
        locks=InMemoryChannelLocks(),
        persistent=False,
        probe=always_ready,
    )


@asynccontextmanager
async def open_chat(
    settings: Settings, clock: Clock
) -> AsyncIterator[tuple[StreamChatProvider, str, RunningEmulator | None]]:
    """The Stream adapter, on real Stream or on the built-in emulator; with its secret."""
    emulator: RunningEmulator | None = None
    if settings.stream_api_key is not None:
        if settings.stream_api_secret is None:
            raise SettingsError("STREAM_API_KEY is set without STREAM_API_SECRET")
        key, secret = settings.stream_api_key, settings.stream_api_secret
        base_url = settings.stream_base_url
        logger.info("chat provider: Stream", extra={"base_url": base_url or "default"})
    else:
        key, generated = new_credentials()
        # A given STREAM_API_SECRET lets developers sign test webhooks themselves.
        secret = settings.stream_api_secret or generated
        emulator = start_in_background(
            StreamState(clock=clock.now), api_key=key, api_secret=secret, clock=clock.now
        )
        base_url = emulator.base_url
        logger.info("chat provider: built-in Stream emulator", extra={"base_url": base_url})
    try:
        provider = await StreamChatProvider.open(
            StreamConfig(api_key=key, api_secret=secret, base_url=base_url)
        )
        try:
            yield provider, secret, emulator
        finally:
            await provider.aclose()
    finally:
        if emulator is not None:
            await asyncio.to_thread(emulator.stop)


@asynccontextmanager
async def open_notifier(settings: Settings, devices: DeviceRegistry) -> AsyncIterator[Notifier]:
    """The push provider PUSH_PROVIDER names: the log (default), FCM or Expo."""
    push = settings.push
    if push.provider == "fcm":
        if push.fcm_credentials_file is None:
            raise SettingsError("PUSH_PROVIDER=fcm needs FCM_CREDENTIALS_FILE")
        try:
            # Imported here: firebase-admin is the optional `push` extra, needed only for FCM.
            from yc_chat.adapters.push.fcm import FcmConfigError, FcmNotifier
        except ImportError as exc:
            raise SettingsError(
                "PUSH_PROVIDER=fcm needs firebase-admin: pip install 'yc-chat[push]'"
            ) from exc
        try:
            fcm = FcmNotifier.open(
                devices, credentials_file=push.fcm_credentials_file, base_url=push.fcm_base_url
            )
        except FcmConfigError as exc:
            raise SettingsError(str(exc)) from exc
        logger.info("push: FCM", extra={"base_url": push.fcm_base_url or "default"})
        try:
            yield fcm
        finally:
            await fcm.aclose()
        return
    if push.provider == "expo":
        expo = ExpoNotifier(
            devices,
            base_url=push.expo_base_url or EXPO_BASE_URL,
            access_token=push.expo_access_token,
        )
        logger.info("push: Expo", extra={"base_url": push.expo_base_url or EXPO_BASE_URL})
        try:
            yield expo
        finally:
            await expo.aclose()
        return
    logger.info("push: log only (set PUSH_PROVIDER=fcm or expo to reach devices)")
    yield LogNotifier()


def instance_name() -> str:
    """This process among others: host, pid and a random suffix (lifecycle claim owner)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@asynccontextmanager
async def open_runtime(settings: Settings, *, clock: Clock | None = None) -> AsyncIterator[Runtime]:
    """Open every adapter the settings describe; closes them all on exit."""
    clock = clock or SystemClock()
    async with AsyncExitStack() as stack:
        stores = await stack.enter_async_context(open_stores(settings))
        chat, secret, emulator = await stack.enter_async_context(open_chat(settings, clock))
        notifier = await stack.enter_async_context(open_notifier(settings, stores.devices))
        # Webhooks are signed with the Stream API secret (the emulator's when built in).
        settings = attrs.evolve(settings, http=attrs.evolve(settings.http, webhook_secret=secret))
        metrics = PrometheusMetrics()
        service = ChatService.build(
            directory=stores.directory,
            appointments=stores.appointments,
            chat=chat,
            devices=stores.devices,
            notifier=notifier,
            fingerprints=stores.fingerprints,
            event_log=stores.event_log,
            locks=stores.locks,
            clock=clock,
            token_ttl=settings.chat_token_ttl,
            metrics=metrics,
            auto_end_after=settings.chat_auto_end,
            instance_id=instance_name(),
        )
        rate_limits = RedisRateLimitStore(settings.redis_url) if settings.redis_url else None
        probes: dict[str, Probe] = {"stores": stores.probe, "chat": chat.ping}
        if rate_limits is not None:
            probes["redis"] = rate_limits.ping
        logger.info(
            "rate limits", extra={"store": "redis" if rate_limits is not None else "in-process"}
        )
        yield Runtime(
            settings=settings,
            service=service,
            directory=stores.directory,
            appointments=stores.appointments,
            chat=chat,
            inbox=stores.inbox,
            metrics=metrics,
            clock=clock,
            rate_limit_store=rate_limits,
            persistent=stores.persistent,
            emulator=emulator,
            probes=probes,
        )


async def load(runtime: Runtime, fixture: Fixture) -> None:
    """Write a directory/appointments fixture into the runtime's stores."""
    await seed(fixture, directory=runtime.directory, appointments=runtime.appointments)


def build_app(runtime: Runtime) -> Litestar:
    """The HTTP app over the runtime's service (running the worker unless disabled)."""
    closers = [runtime.rate_limit_store.close] if runtime.rate_limit_store is not None else []
    return create_app(
        service=runtime.service,
        settings=runtime.settings.http,
        probes=runtime.probes,
        rate_limit_store=runtime.rate_limit_store,
        on_shutdown=closers,
        inbox=runtime.inbox,
        metrics=runtime.metrics,
        clock=runtime.clock,
        worker=runtime.settings.worker,
    )


async def run_worker(runtime: Runtime, stop: asyncio.Event) -> None:
    """The inbox worker and the lifecycle scheduler, without HTTP, until `stop` is set."""
    # Without HTTP this process exists to work: the worker runs even if serve disables it.
    loops = background.background_loops(
        service=runtime.service,
        inbox=runtime.inbox,
        clock=runtime.clock,
        worker=attrs.evolve(runtime.settings.worker, enabled=True),
        metrics=runtime.metrics,
        activation_interval_seconds=runtime.settings.http.activation_interval_seconds,
    )
    for loop in loops:
        loop.start()
    try:
        await stop.wait()
    finally:
        for loop in loops:
            await loop.stop(runtime.settings.worker.stop_grace_seconds)
