"""Loading a large directory at once with COPY: an initial sync from the host platform.

`DirectoryWriter` writes one user or membership per transaction, which is what a host's
change feed needs; a first import of 100k members would take minutes that way. COPY
streams the rows in one round trip per table, with the same search keys the writer stores.
It adds rows: ids already present make it fail (a unique violation) and load nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from yc_chat.adapters.postgres.directory import profile, search_keys
from yc_chat.adapters.postgres.schema import MEMBER_WORDS, MEMBERSHIPS, ORGS, USERS
from yc_chat.domain.model import Org, User


async def copy_members(engine: AsyncEngine, org: Org, members: Sequence[tuple[User, str]]) -> None:
    """Add `org` (or rename it) and the new users in `members` as its members with the
    given roles, in one transaction."""
    users = [(u.id, u.name, u.kind.value, u.email, u.image) for u, _ in members]
    memberships: list[tuple[str | None, ...]] = []
    words: list[tuple[str | None, ...]] = []
    for user, role in members:
        keys, user_words = search_keys(user)
        memberships.append(
            (org.id, user.id, role, keys["sort_name"], keys["search_spelled"], keys["search_email"],
             *profile(user).values())
        )  # fmt: skip
        words.extend(
            (org.id, word, user.id, keys["sort_name"], keys["search_spelled"])
            for word in user_words
        )
    async with engine.begin() as conn:
        # A bulk load may take longer than the per-statement limit that guards requests.
        await conn.exec_driver_sql("SET LOCAL statement_timeout = 0")
        statement = insert(ORGS).values(id=org.id, name=org.name)
        await conn.execute(
            statement.on_conflict_do_update(
                index_elements=[ORGS.c.id], set_={"name": statement.excluded.name}
            )
        )
        raw = await conn.get_raw_connection()
        # The asyncpg connection under SQLAlchemy's, inside the same open transaction.
        driver = raw.driver_connection
        assert driver is not None
        for table, rows in ((USERS, users), (MEMBERSHIPS, memberships), (MEMBER_WORDS, words)):
            await driver.copy_records_to_table(
                table.name,
                records=rows,
                # PostgreSQL computes the generated ones (chat_memberships.listed).
                columns=[column.name for column in table.columns if column.computed is None],
            )
