"""Opening the PostgreSQL stores: one engine (one pool), every store port, one close."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING

import asyncpg
import attrs
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from yc_chat.adapters.postgres._sql import unavailable
from yc_chat.adapters.postgres.appointments import PostgresAppointments
from yc_chat.adapters.postgres.channel_locks import PostgresChannelLocks
from yc_chat.adapters.postgres.devices import PostgresDevices
from yc_chat.adapters.postgres.directory import PostgresDirectory
from yc_chat.adapters.postgres.effect_claims import PostgresEffectClaims
from yc_chat.adapters.postgres.fingerprints import PostgresFingerprints
from yc_chat.adapters.postgres.housekeeping import Housekeeping
from yc_chat.adapters.postgres.inbox import PostgresEventInbox
from yc_chat.adapters.postgres.member_reads import PostgresMemberReads
from yc_chat.adapters.postgres.migrate import require_current, upgrade
from yc_chat.adapters.postgres.read_connections import Connect, ReadConnections
from yc_chat.adapters.postgres.settings import PostgresOptions, async_url, hosts
from yc_chat.domain.errors import ProviderUnavailable

if TYPE_CHECKING:
    from yc_chat.ports import (
        AppointmentStore,
        ChannelLocks,
        DeviceRegistry,
        Directory,
        DirectoryWriter,
        EffectClaims,
        EventInbox,
        MemberReads,
        ProfileFingerprints,
    )


@attrs.define(kw_only=True, eq=False)
class PostgresStores:
    """Every store port on one PostgreSQL database; `close()` (or `async with`) when done."""

    engine: AsyncEngine
    directory: PostgresDirectory
    member_reads: PostgresMemberReads
    read_connections: ReadConnections
    appointments: PostgresAppointments
    devices: PostgresDevices
    effect_claims: PostgresEffectClaims
    inbox: PostgresEventInbox
    fingerprints: PostgresFingerprints
    locks: PostgresChannelLocks
    housekeeping: Housekeeping
    where: str

    async def ping(self) -> None:
        """Raise ProviderUnavailable when PostgreSQL cannot be reached (for `/readyz`)."""
        await self.directory.ping()

    async def close(self) -> None:
        await self.read_connections.close()
        await self.engine.dispose()

    async def __aenter__(self) -> PostgresStores:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()


def create_engine(url: str, options: PostgresOptions | None = None) -> AsyncEngine:
    """The pool the stores share; nothing connects until first used."""
    options = options or PostgresOptions()
    return create_async_engine(
        async_url(url),
        pool_size=options.pool_size,
        max_overflow=options.max_overflow,
        pool_timeout=options.pool_timeout.total_seconds(),
        pool_pre_ping=options.pre_ping,
        connect_args={
            "timeout": options.connect_timeout.total_seconds(),
            "server_settings": _server_settings(options),
        },
    )


def _server_settings(options: PostgresOptions) -> dict[str, str]:
    return {
        "application_name": options.application_name,
        "statement_timeout": str(int(options.statement_timeout.total_seconds() * 1000)),
        # Every timestamptz comes back in UTC, whatever the server's default zone.
        "TimeZone": "UTC",
    }


def _connector(engine: AsyncEngine, options: PostgresOptions) -> Connect:
    """Opens a plain asyncpg connection to the engine's database, with the pool's settings."""
    dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    # Plan the hot statements once per connection. Left to choose, PostgreSQL keeps
    # planning the member page anew (its generic plan's estimate, blind to LIMIT, looks
    # dearer): 345 µs of server CPU per page against 195 µs with the generic plan, measured
    # at 100k members. The generic plans are index ranges too (test_postgres_query_plans).
    settings = {**_server_settings(options), "plan_cache_mode": "force_generic_plan"}
    timeout = options.connect_timeout.total_seconds()

    async def connect() -> object:
        return await asyncpg.connect(dsn, timeout=timeout, server_settings=settings)

    return connect


def stores_on(
    engine: AsyncEngine, *, where: str = "the given engine", options: PostgresOptions | None = None
) -> PostgresStores:
    """Every store on `engine` (schema assumed current); `options` as the engine was made with."""
    options = options or PostgresOptions()
    housekeeping = Housekeeping(engine)
    connections = ReadConnections(
        engine, _connector(engine, options), keep=options.read_connections
    )
    directory = PostgresDirectory(engine, connections)
    return PostgresStores(
        engine=engine,
        directory=directory,
        member_reads=PostgresMemberReads(directory, connections),
        read_connections=connections,
        appointments=PostgresAppointments(engine),
        devices=PostgresDevices(engine),
        effect_claims=PostgresEffectClaims(connections),
        inbox=PostgresEventInbox(engine, connections, housekeeping=housekeeping),
        fingerprints=PostgresFingerprints(engine),
        locks=PostgresChannelLocks(engine),
        housekeeping=housekeeping,
        where=where,
    )


async def open_postgres_stores(
    url: str, *, options: PostgresOptions | None = None, migrate: bool = False
) -> PostgresStores:
    """Connect, check (or with `migrate`, bring) the schema at head, and build every store.

    Raises SchemaBehind when the schema is not current and `migrate` is off, and
    ProviderUnavailable (naming the host, never the credentials) when PostgreSQL cannot be
    reached.
    """
    engine = create_engine(url, options)
    where = hosts(url)
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))
        if migrate:
            await upgrade(engine)
        await require_current(engine)
    except (sa_exc.SQLAlchemyError, OSError) as exc:
        await engine.dispose()
        unavailable(exc)  # logs it
        raise ProviderUnavailable(
            f"Cannot use PostgreSQL at {where}: {type(getattr(exc, 'orig', None) or exc).__name__}"
        ) from exc
    except BaseException:
        await engine.dispose()
        raise
    return stores_on(engine, where=where, options=options)


async def upgrade_url(url: str) -> tuple[str | None, str | None]:
    """Bring the schema of the database at `url` to head; the revisions before and after."""
    engine = create_engine(url)
    try:
        return await upgrade(engine)
    finally:
        await engine.dispose()


if TYPE_CHECKING:

    def _implements_the_ports(
        stores: PostgresStores,
    ) -> tuple[
        Directory,
        DirectoryWriter,
        MemberReads,
        AppointmentStore,
        DeviceRegistry,
        EffectClaims,
        EventInbox,
        ProfileFingerprints,
        ChannelLocks,
    ]:
        """Never called: mypy checks here that each store satisfies its port Protocol."""
        return (
            stores.directory,
            stores.directory,
            stores.member_reads,
            stores.appointments,
            stores.devices,
            stores.effect_claims,
            stores.inbox,
            stores.fingerprints,
            stores.locks,
        )
