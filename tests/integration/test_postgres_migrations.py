"""The PostgreSQL schema's migrations, on the real server: each upgrades from empty, the
models agree with them, and a database behind head is refused with what to run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support import servers
from tests.support.postgres import create_database
from yc_chat.adapters.postgres import (
    SchemaBehind,
    create_engine,
    current_revision,
    head_revision,
    open_postgres_stores,
    require_current,
    stores_on,
    upgrade,
)
from yc_chat.adapters.postgres.migrate import alembic_config
from yc_chat.adapters.postgres.schema import METADATA, VERSION_TABLE
from yc_chat.domain.errors import ProviderUnavailable
from yc_chat.domain.model import Member, OrgId, User, UserId, UserKind


@pytest.fixture
async def empty_engine() -> AsyncIterator[AsyncEngine]:
    engine = create_engine(await create_database(servers.postgres_url()))
    try:
        yield engine
    finally:
        await engine.dispose()


def _revisions_oldest_first() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


async def test_every_migration_upgrades_one_step_at_a_time_from_empty(
    empty_engine: AsyncEngine,
) -> None:
    assert await current_revision(empty_engine) is None
    revisions = _revisions_oldest_first()
    assert revisions[-1] == head_revision()
    for revision in revisions:
        await upgrade(empty_engine, revision)
        assert await current_revision(empty_engine) == revision
    # Upgrading at head changes nothing.
    assert await upgrade(empty_engine) == (head_revision(), head_revision())


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection,
        opts={
            "version_table": VERSION_TABLE,
            "compare_type": True,
            "include_object": lambda obj, name, kind, reflected, other: name != VERSION_TABLE,
        },
    )
    return list(compare_metadata(context, METADATA))


async def test_the_models_and_the_migrations_agree(empty_engine: AsyncEngine) -> None:
    await upgrade(empty_engine)
    async with empty_engine.connect() as conn:
        assert await conn.run_sync(_differences) == []


async def test_a_database_behind_head_is_refused_with_what_to_run(
    empty_engine: AsyncEngine,
) -> None:
    with pytest.raises(SchemaBehind, match=r"run `yc-chat db upgrade`") as caught:
        await require_current(empty_engine)
    assert "\n" not in str(caught.value)
    url = empty_engine.url.render_as_string(hide_password=False)
    with pytest.raises(SchemaBehind):
        await open_postgres_stores(url)
    # Opening with migrate=True brings it to head, and then it opens as it is.
    async with await open_postgres_stores(url, migrate=True) as stores:
        await stores.ping()
    assert await current_revision(empty_engine) == head_revision()
    async with await open_postgres_stores(url) as stores:
        await stores.ping()


async def test_an_unreachable_server_is_provider_unavailable_never_the_password() -> None:
    url = f"postgresql://chat:hunter2@127.0.0.1:{servers.free_port()}/nowhere"
    with pytest.raises(ProviderUnavailable) as opening:
        await open_postgres_stores(url)
    assert "hunter2" not in str(opening.value)
    # Stores whose server goes away answer every call with the domain's 503 error.
    async with stores_on(create_engine(url)) as stores:
        for call in (
            stores.directory.get_user(UserId("u")),
            stores.inbox.counts(),
            stores.effect_claims.claim(
                "k", owner="o", now=datetime.now(UTC), until=datetime.now(UTC)
            ),
            stores.locks.release("k", owner="o"),
        ):
            with pytest.raises(ProviderUnavailable):
                await call


async def test_memberships_made_before_0002_are_listed_with_their_users_profile(
    empty_engine: AsyncEngine,
) -> None:
    await upgrade(empty_engine, "0001")
    async with empty_engine.begin() as conn:
        for statement in (
            "INSERT INTO chat_orgs (id, name) VALUES ('org-1', 'Clinic')",
            "INSERT INTO chat_users (id, name, kind, email, image) VALUES "
            "('u-1', 'Ana Smith', 'pet_owner', 'ana@x.example', 'https://img.example/a.png')",
            "INSERT INTO chat_memberships (org_id, user_id, role, sort_name, search_email) "
            "VALUES ('org-1', 'u-1', 'vet', 'ana smith', 'ana@x.example')",
        ):
            await conn.exec_driver_sql(statement)
    await upgrade(empty_engine)
    page = await stores_on(empty_engine).directory.list_members(OrgId("org-1"), limit=5, after=None)
    assert page.members == (
        Member(
            user=User(
                id=UserId("u-1"),
                name="Ana Smith",
                kind=UserKind.PET_OWNER,
                email="ana@x.example",
                image="https://img.example/a.png",
            ),
            role="vet",
        ),
    )
