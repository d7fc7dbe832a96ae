"""The schema's migrations (Alembic, shipped in this package): upgrade, and where a database is.

Migrations run under a transaction-level advisory lock, so processes starting together
(two `serve` instances, a test session) upgrade one after the other, never both at once.
"""

from __future__ import annotations

import logging
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from yc_chat.adapters.postgres.schema import VERSION_TABLE
from yc_chat.domain.errors import ProviderUnavailable

MIGRATIONS = Path(__file__).parent / "migrations"
# An arbitrary constant naming "yc-chat migrates" among advisory locks.
_MIGRATION_LOCK = 7_310_952_114


class SchemaBehind(ProviderUnavailable):
    """The database's schema is not the one this version of yc-chat needs: the store is not
    ready, and the message says what to run."""


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration for these migrations, optionally on an open connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration this version ships."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("no migrations are shipped")
    return head


def _quiet() -> None:
    # Alembic narrates every step at INFO ("Context impl PostgresqlImpl."); the service
    # logs the outcome itself.
    logging.getLogger("alembic").setLevel(logging.WARNING)


def _current(connection: Connection) -> str | None:
    _quiet()
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def _upgrade(connection: Connection, target: str) -> None:
    _quiet()
    connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
    command.upgrade(alembic_config(connection), target)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at (None: never migrated)."""
    async with engine.connect() as conn:
        return await conn.run_sync(_current)


async def upgrade(engine: AsyncEngine, target: str = "head") -> tuple[str | None, str | None]:
    """Bring the schema to `target`; the revisions before and after."""
    async with engine.begin() as conn:
        before = await conn.run_sync(_current)
        await conn.run_sync(_upgrade, target)
        after = await conn.run_sync(_current)
    return before, after


async def require_current(engine: AsyncEngine) -> None:
    """Raise SchemaBehind, saying what to run, unless the database is at the head revision."""
    current, head = await current_revision(engine), head_revision()
    if current != head:
        at = "empty (never migrated)" if current is None else f"at revision {current}"
        raise SchemaBehind(
            f"the PostgreSQL schema is {at}, this version needs {head}: "
            "run `yc-chat db upgrade` first"
        )
