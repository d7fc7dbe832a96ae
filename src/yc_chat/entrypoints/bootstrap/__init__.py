"""The one composition root: the only module that chooses concrete adapters.

`in_memory()` builds a Runtime with every store in memory (the library's quick start, the
demo and the tests); `open_runtime()` opens what the settings describe (MongoDB, real Stream
or the built-in emulator, Redis, a push provider) inside the event loop that will use them
and closes them on exit. Both fill one `Ports` record and call `assemble`, the one place
the service, the inbox recorder and processor and the lifecycle are built from it.

Adapters that need an optional extra (MongoDB, the Stream SDK, Redis, the HTTP stack) are
imported where they are chosen, so `in_memory()` works with the core dependencies alone.
The chat provider (`bootstrap.chat`) and the push provider (`bootstrap.push`) are chosen in
modules of their own, part of this composition root and re-exported here.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Unpack

import attrs

from yc_chat.adapters.clock import SystemClock
from yc_chat.adapters.deadline import ContextDeadlines
from yc_chat.adapters.fake_stream import FakeStreamChatProvider, StreamState
from yc_chat.adapters.memory import (
    InMemoryAppointments,
    InMemoryChannelLocks,
    InMemoryDevices,
    InMemoryDirectory,
    InMemoryEffectClaims,
    InMemoryEventInbox,
    InMemoryFingerprints,
    InMemoryIssuedTokens,
    MemoryRateLimitStore,
)
from yc_chat.adapters.metrics import PrometheusMetrics
from yc_chat.adapters.push import LogNotifier
from yc_chat.adapters.stream.events import STREAM_WEBHOOKS
from yc_chat.domain.channel_ids import random_group_channel_id
from yc_chat.domain.inbox import RetryPolicy
from yc_chat.domain.model import ChannelId, UserId
from yc_chat.domain.service import ChatService, PortOverrides, Ports
from yc_chat.entrypoints.background import run_worker as run_worker
from yc_chat.entrypoints.bootstrap.chat import check_chat_provider as check_chat_provider
from yc_chat.entrypoints.bootstrap.chat import open_chat as open_chat
from yc_chat.entrypoints.bootstrap.chat import system_user_of as system_user_of
from yc_chat.entrypoints.bootstrap.push import open_notifier as open_notifier
from yc_chat.entrypoints.readiness import with_setup_probe
from yc_chat.entrypoints.runtime import RATE_LIMIT_STORE, Fallback, Probe, Runtime
from yc_chat.entrypoints.settings import Settings, SettingsError
from yc_chat.entrypoints.timers import timeout_at
from yc_chat.ports import (
    DeviceRegistry,
    Notifier,
    RateLimitStore,
)

if TYPE_CHECKING:
    from litestar import Litestar

    from stream_emulator.server import RunningEmulator
    from yc_chat.adapters.beanie import MongoStores
    from yc_chat.adapters.postgres import PostgresStores
    from yc_chat.adapters.redis import RedisIssuedTokens

logger = logging.getLogger("yc_chat.bootstrap")

DEFAULT_DATABASE = "yc_chat"


def assemble(
    ports: Ports,
    settings: Settings,
    *,
    exporter: PrometheusMetrics,
    probes: Mapping[str, Probe],
    persistent: bool,
    shared_rate_limits: RateLimitStore | None = None,
    emulator: RunningEmulator | None = None,
    on_shutdown: Sequence[Callable[[], Awaitable[None]]] = (),
    new_group_id: Callable[[], ChannelId] = random_group_channel_id,
    instance_id: str | None = None,
) -> Runtime:
    """The service over `ports`, shaped by `settings`, and what serving it needs.

    `exporter` is `ports.metrics` seen as the `/metrics` body; `shared_rate_limits` (Redis)
    counts the token budget across instances, else this process counts it.
    """
    worker = settings.worker
    service = ChatService.build(
        ports,
        token_ttl=settings.chat_token_ttl,
        new_group_id=new_group_id,
        auto_end_after=settings.chat_auto_end,
        instance_id=instance_id,
        retry=RetryPolicy(
            max_attempts=worker.max_attempts,
            base_delay=timedelta(seconds=worker.retry_base_seconds),
            max_delay=timedelta(seconds=worker.retry_max_seconds),
        ),
        lease_for=timedelta(seconds=worker.lease_seconds),
        batch_size=worker.batch_size,
        event_deadlines=ContextDeadlines.for_events(
            worker.event_deadline_seconds, worker.lease_seconds
        ),
        system_user=UserId(system_user_of(settings)),
    )
    degradable = {}
    if shared_rate_limits is not None:
        degradable[RATE_LIMIT_STORE] = Fallback(
            probe=shared_rate_limits.ping,
            meaning="rate limits are counted in each process until it answers",
        )
    return Runtime(
        settings=settings,
        ports=ports,
        service=service,
        exporter=exporter,
        rate_limits=shared_rate_limits or MemoryRateLimitStore(),
        local_rate_limits=MemoryRateLimitStore(),
        probes=with_setup_probe(probes, ports.chat),
        degradable=degradable,
        persistent=persistent,
        emulator=emulator,
        # A request's backstop on the server's shared timers (timers.py), not a loop timer each.
        request_deadlines=ContextDeadlines(
            settings.http.request_deadline_seconds, cut_at=timeout_at
        ),
        on_shutdown=tuple(on_shutdown),
        inbox_never_waits=type(ports.inbox) is InMemoryEventInbox,
    )


async def _always_ready() -> None:
    return None


def in_memory(
    settings: Settings | None = None,
    *,
    shared_rate_limits: RateLimitStore | None = None,
    emulator: RunningEmulator | None = None,
    on_shutdown: Sequence[Callable[[], Awaitable[None]]] = (),
    new_group_id: Callable[[], ChannelId] = random_group_channel_id,
    instance_id: str | None = None,
    **overrides: Unpack[PortOverrides],
) -> Runtime:
    """A Runtime with every store in memory (one process; lost on exit), but `overrides`.

    The chat provider is the in-process Stream simulation and push notifications go to the
    log unless `chat` and `notifier` are given; `devices` is the registry a given notifier
    drops dead tokens from. Any other port (`directory=`, `appointments=`, ...) may be the
    host's own adapter. Stream tokens are kept for reuse in this process (`issued_tokens`).
    `runtime.service` is the ChatService; `await runtime.load(fixture)` seeds the directory
    and appointments.
    """
    settings = settings if settings is not None else Settings()
    clock = overrides.get("clock") or SystemClock()
    state, system_user = StreamState(clock=clock.now), system_user_of(settings)
    chat = overrides.get("chat") or FakeStreamChatProvider(state, system_user_id=system_user)
    metrics = PrometheusMetrics(multiprocess_dir=settings.metrics_multiprocess_dir)
    directory = InMemoryDirectory()
    ports = _with_overrides(
        Ports(
            directory=directory,
            directory_writer=directory,
            appointments=InMemoryAppointments(),
            chat=chat,
            devices=InMemoryDevices(),
            notifier=LogNotifier(),
            fingerprints=InMemoryFingerprints(),
            effect_claims=InMemoryEffectClaims(),
            inbox=InMemoryEventInbox(),
            locks=InMemoryChannelLocks(),
            clock=clock,
            issued_tokens=InMemoryIssuedTokens(keep_for=settings.chat_token_ttl),
            webhooks=STREAM_WEBHOOKS,
            metrics=metrics,
        ),
        overrides,
    )
    return assemble(
        ports,
        settings,
        exporter=metrics,
        probes={"stores": ports.directory.ping, "chat": chat.ping},
        persistent=False,
        shared_rate_limits=shared_rate_limits,
        emulator=emulator,
        on_shutdown=on_shutdown,
        new_group_id=new_group_id,
        instance_id=instance_id,
    )


def _with_overrides(built: Ports, overrides: PortOverrides) -> Ports:
    """The ports the builder chose, each replaced by the host's override if given."""
    if "directory" in overrides:
        # The host's people are the host's to change, and are read through the host's
        # directory, unless the host brings its writer or member reads too.
        built = attrs.evolve(built, directory_writer=None, member_reads=None)
    return attrs.evolve(built, **overrides)


async def open_mongo_stores(uri: str, database: str) -> MongoStores:
    """Every store on one MongoDB database (Beanie, of the `mongo` extra)."""
    from yc_chat.adapters.beanie import open_mongo_stores as open_beanie_stores

    return await open_beanie_stores(uri, database)


@asynccontextmanager
async def open_mongo(settings: Settings) -> AsyncIterator[MongoStores]:
    """The stores on the MongoDB that MONGODB_URI names; closed on exit."""
    if settings.mongodb_uri is None:
        raise SettingsError("MONGODB_URI is not set")
    mongo = await open_mongo_stores(
        settings.mongodb_uri, settings.database_name or DEFAULT_DATABASE
    )
    try:
        logger.info("stores: MongoDB", extra={"database": mongo.database})
        yield mongo
    finally:
        await mongo.close()


@asynccontextmanager
async def open_database(
    settings: Settings, *, migrate: bool = False
) -> AsyncIterator[MongoStores | PostgresStores]:
    """The stores on DATABASE_URL's PostgreSQL (its schema at head, or brought there with
    `migrate`; else a one-line refusal), or on MONGODB_URI's MongoDB; closed on exit."""
    if settings.database_url is None:
        async with open_mongo(settings) as mongo:
            yield mongo
        return
    from yc_chat.adapters.postgres import open_postgres_stores  # the `postgres` extra

    async with await open_postgres_stores(settings.database_url, migrate=migrate) as postgres:
        logger.info("stores: PostgreSQL", extra={"database": postgres.where})
        yield postgres


async def upgrade_database(database_url: str) -> tuple[str | None, str | None]:
    """`yc-chat db upgrade`: the schema brought to head; the revisions before and after."""
    from yc_chat.adapters.postgres import upgrade_url

    return await upgrade_url(database_url)


def instance_name() -> str:
    """This process among others: host, pid and a random suffix (lifecycle claim owner)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@asynccontextmanager
async def open_runtime(
    settings: Settings, *, migrate: bool = False, **overrides: Unpack[PortOverrides]
) -> AsyncIterator[Runtime]:
    """Open every adapter the settings describe, but `overrides`; closes them all on exit.

    A host's own adapters (`directory=`, `notifier=`, `chat=`, ...) replace the ones the
    settings would open; the host opens and closes those itself. `migrate`: see open_database.
    """
    clock = overrides.get("clock") or SystemClock()
    async with AsyncExitStack() as stack:
        stores = None
        if settings.database_url or settings.mongodb_uri:
            stores = await stack.enter_async_context(open_database(settings, migrate=migrate))
        if "chat" in overrides:
            chat, secret, emulator = overrides["chat"], settings.stream_api_secret, None
        else:
            chat, secret, emulator = await stack.enter_async_context(open_chat(settings, clock))
        # Webhooks are signed with the Stream API secret (the emulator's when built in).
        settings = attrs.evolve(settings, http=attrs.evolve(settings.http, webhook_secret=secret))
        shared_rate_limits = _redis_rate_limits(settings)
        issued = _redis_issued_tokens(settings, secret)
        logger.info(
            "rate limits",
            extra={"store": "redis" if shared_rate_limits is not None else "in-process"},
        )
        # Closed by the app's lifespan: the Redis clients belong to the serving event loop.
        closers = [c.close for c in (shared_rate_limits, issued) if c is not None]
        if issued is not None:
            overrides = {"issued_tokens": issued, **overrides}
        if stores is None:
            logger.warning(
                "IN-MEMORY STORES: directory, appointments, chats, devices and received webhook "
                "events are NOT persisted and are lost when this process exits (set DATABASE_URL "
                "or MONGODB_URI to keep them)"
            )
            devices = overrides.get("devices") or InMemoryDevices()
            notifier = await _notifier(stack, settings, devices, overrides)
            chosen: PortOverrides = {
                **overrides,
                "chat": chat,
                "notifier": notifier,
                "devices": devices,
                "clock": clock,
            }
            yield in_memory(
                settings,
                **chosen,
                shared_rate_limits=shared_rate_limits,
                emulator=emulator,
                on_shutdown=closers,
                instance_id=instance_name(),
            )
            return
        devices = overrides.get("devices") or stores.devices
        notifier = await _notifier(stack, settings, devices, overrides)
        metrics = PrometheusMetrics(multiprocess_dir=settings.metrics_multiprocess_dir)
        ports = _with_overrides(
            Ports(
                directory=stores.directory,
                directory_writer=stores.directory,
                member_reads=stores.member_reads,
                appointments=stores.appointments,
                chat=chat,
                devices=devices,
                notifier=notifier,
                fingerprints=stores.fingerprints,
                effect_claims=stores.effect_claims,
                inbox=stores.inbox,
                locks=stores.locks,
                clock=clock,
                # Several instances may share the database: tokens are reused only where
                # the revocation cut-offs are shared too (Redis, above).
                issued_tokens=None,
                webhooks=STREAM_WEBHOOKS,
                metrics=metrics,
            ),
            overrides,
        )
        yield assemble(
            ports,
            settings,
            exporter=metrics,
            probes={"stores": stores.ping, "chat": chat.ping, "directory": ports.directory.ping},
            persistent=True,
            shared_rate_limits=shared_rate_limits,
            emulator=emulator,
            on_shutdown=closers,
            instance_id=instance_name(),
        )


async def _notifier(
    stack: AsyncExitStack, settings: Settings, devices: DeviceRegistry, overrides: PortOverrides
) -> Notifier:
    """The host's notifier, or the one PUSH_PROVIDER names (closed with `stack`)."""
    given = overrides.get("notifier")
    if given is not None:
        return given
    return await stack.enter_async_context(open_notifier(settings, devices))


def _redis_rate_limits(settings: Settings) -> RateLimitStore | None:
    # Imported here: redis is of the `http` extra.
    from yc_chat.adapters.redis import BreakerRateLimitStore, RedisRateLimitStore

    if settings.redis_url is None:
        return None
    store = RedisRateLimitStore(settings.redis_url)
    return BreakerRateLimitStore(store, cool_down=settings.redis_cool_down_seconds)


def _redis_issued_tokens(settings: Settings, secret: str | None) -> RedisIssuedTokens | None:
    """Stream tokens kept for reuse in Redis, under a name of the signing app (a changed key
    or secret reuses nothing signed before)."""
    from yc_chat.adapters.redis import RedisIssuedTokens

    if settings.redis_url is None:
        return None
    app = hashlib.sha256(f"{settings.stream_api_key}\0{secret}".encode()).hexdigest()[:16]
    return RedisIssuedTokens(
        settings.redis_url,
        prefix=f"yc-chat:tok:{app}:",
        keep_for=settings.chat_token_ttl,
        cool_down=settings.redis_cool_down_seconds,
    )


def build_app(runtime: Runtime) -> Litestar:
    """The HTTP app over the runtime (running the worker unless disabled)."""
    from yc_chat.entrypoints.http import create_app

    return create_app(runtime)
