"""Query plans at 100k members on the real PostgreSQL: the hot paths are index scans.

The very statements the adapters send (typeahead's two queries, member pages, the
one-statement typeahead and member page a caller's request sends with its org and
membership checks, the inbox lease's pick, the lifecycle's due queries) are explained over
100k members, 100k appointments, 100k inbox events and 10k orgs (members loaded with COPY,
the rest made by the server), and ANALYZEd. Every table a plan
reads must be read through an index; a sequential scan anywhere fails the test. Plans are
asked both as the first executions get them (custom, with the values) and as a prepared
statement may later run them (generic, without), since asyncpg prepares every statement.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.postgres import postgres_stores
from yc_chat.adapters.postgres.appointments import (
    due_for_activation_query,
    due_for_ending_query,
)
from yc_chat.adapters.postgres.bulk import copy_members
from yc_chat.adapters.postgres.directory import (
    member_page_query,
    whole_name_query,
    word_or_email_query,
)
from yc_chat.adapters.postgres.inbox import due_events_query
from yc_chat.adapters.postgres.member_reads import page_as_query, search_as_query
from yc_chat.domain.model import Org, OrgId, User, UserId
from yc_chat.domain.queries import MemberKey

SIZE = 100_000
ORG = OrgId("org-big")
SMALL_ORG = OrgId("org-small")
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
FIRST = ["ana", "bob", "carla", "dmitri", "eve", "farid", "greta", "hugo", "ines", "jon"]
LAST = ["smith", "núñez", "o'brien", "kowalski", "tanaka", "okafor", "lindqvist", "moreau"]
INDEX_NODES = {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}


def _person(i: int) -> User:
    name = f"{FIRST[i % len(FIRST)].title()} {LAST[(i // 10) % len(LAST)].title()} {i:06d}"
    return User(id=UserId(f"u{i:06d}"), name=name, email=f"m{i:06d}@clinic.example")


@pytest.fixture
async def engine() -> AsyncIterator[AsyncEngine]:
    async with postgres_stores() as stores:
        engine = stores.engine
        await copy_members(
            engine, Org(id=ORG, name="Big"), [(_person(i), "vet") for i in range(SIZE)]
        )
        await copy_members(
            engine, Org(id=SMALL_ORG, name="Small"), [(_person(SIZE + i), "vet") for i in range(50)]
        )
        # Appointments (a quarter each pending, active, ended, unlinked) and inbox events
        # (one in 50 pending, the rest done) made by the server itself: no rows to ship.
        # Orgs too: a deployment serves many clinics (with two, the planner rightly reads
        # the one-page table whole instead of its key).
        async with engine.begin() as conn:
            await conn.exec_driver_sql("SET LOCAL statement_timeout = 0")
            await conn.exec_driver_sql(
                "INSERT INTO chat_orgs SELECT 'org-' || i, 'Clinic ' || i"
                " FROM generate_series(1, 10000) AS i"
            )
            await conn.execute(
                sa.text(
                    """
                    INSERT INTO chat_appointments
                    SELECT 'a' || lpad(i::text, 6, '0'), :org, 'p' || i, 'u' || i,
                           t + make_interval(mins => i - :half), 'Rex', 'Sam', 'c' || i,
                           (ARRAY['pending', 'active', 'ended', NULL])[i % 4 + 1],
                           5, t + make_interval(mins => i - :half - 5), NULL, NULL
                    FROM generate_series(0, :size - 1) AS i,
                         CAST(:now AS timestamptz) AS t
                    """
                ),
                {"org": ORG, "now": NOW, "half": SIZE // 2, "size": SIZE},
            )
            await conn.execute(
                sa.text(
                    """
                    INSERT INTO chat_webhook_inbox
                    SELECT 'e' || lpad(i::text, 6, '0'), 'id' || i, 'message.new', '\\x7b7d',
                           CASE WHEN i % 50 = 0 THEN 'pending' ELSE 'done' END, t,
                           t + make_interval(secs => i), 1, NULL, NULL, t, t + interval '7 days'
                    FROM generate_series(0, :size - 1) AS i,
                         CAST(:now AS timestamptz) AS t
                    """
                ),
                {"now": NOW, "size": SIZE},
            )
        async with engine.begin() as conn:
            await conn.exec_driver_sql("SET LOCAL statement_timeout = 0")
            await conn.exec_driver_sql("ANALYZE")
        yield engine


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    found = [plan]
    for child in plan.get("Plans", []):
        found.extend(_nodes(child))
    return found


async def _plan(
    engine: AsyncEngine, statement: sa.Select[Any], *, generic: bool
) -> list[dict[str, Any]]:
    compiled = statement.compile(dialect=engine.dialect)
    names = compiled.positiontup or []
    args = [compiled.params[name] for name in names]
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        mode = "force_generic_plan" if generic else "force_custom_plan"
        await driver.execute(f"SET plan_cache_mode = {mode}")
        prepared = await driver.prepare(f"EXPLAIN (FORMAT JSON) {compiled.string}")
        text = await prepared.fetchval(*args)
        await driver.execute("RESET plan_cache_mode")
    plans = json.loads(text) if isinstance(text, str) else text
    return _nodes(plans[0]["Plan"])


QUERIES: dict[str, Callable[[], sa.Select[Any]]] = {
    "typeahead, whole name": lambda: whole_name_query(ORG, "greta o", None, 10),
    "typeahead, short prefix": lambda: whole_name_query(ORG, "an", UserId("u000001"), 10),
    "typeahead, word or email": lambda: word_or_email_query(ORG, "obrien", None, 10),
    "typeahead, email": lambda: word_or_email_query(ORG, "m00012", UserId("u000001"), 10),
    "members, first page": lambda: member_page_query(ORG, None, 51),
    "members, next page": lambda: member_page_query(
        ORG, MemberKey(sort_name="eve tanaka", user_id=UserId("u004000")), 51
    ),
    "caller's typeahead, whole name": lambda: search_as_query("u000001", ORG, "an", 10),
    "caller's typeahead, word": lambda: search_as_query("u000001", ORG, "obrien", 10),
    "caller's typeahead, email": lambda: search_as_query("u000001", ORG, "m00012", 10),
    "caller's typeahead, stranger": lambda: search_as_query("nobody", ORG, "an", 10),
    "caller's members, first page": lambda: page_as_query("u000001", ORG, None, 101),
    "caller's members, next page": lambda: page_as_query(
        "u000001", ORG, MemberKey(sort_name="eve tanaka", user_id=UserId("u004000")), 101
    ),
    "inbox lease": lambda: due_events_query(NOW + timedelta(minutes=5), 20),
    "lifecycle, due for activation": lambda: due_for_activation_query(NOW).limit(100),
    "lifecycle, due for ending": lambda: due_for_ending_query(NOW - timedelta(hours=2)).limit(100),
}  # fmt: skip


async def test_every_hot_query_reads_through_indexes_at_100k(engine: AsyncEngine) -> None:
    failures = []
    for name, build in QUERIES.items():
        for generic in (False, True):
            nodes = await _plan(engine, build(), generic=generic)
            kinds = {node["Node Type"] for node in nodes}
            sequential = [
                node.get("Relation Name") for node in nodes if node["Node Type"] == "Seq Scan"
            ]
            if sequential or not kinds & INDEX_NODES:
                plan = "generic" if generic else "custom"
                failures.append(f"{name} ({plan}): {sorted(kinds)} seq={sequential}")
    assert not failures, "\n".join(failures)
