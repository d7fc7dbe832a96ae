"""Hostile input reaches MongoDB only as literal values: no pattern, no operator, no change.

Runs on a real MongoDB when MONGODB_URI is set, else on the in-process double; each search
is checked against the in-memory directory, whose matching is plain string comparison.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.mongo_double.stores import MONGO_BACKENDS, mongo_stores
from yc_chat.adapters.beanie import MongoStores
from yc_chat.adapters.beanie.documents import ALL_DOCUMENTS
from yc_chat.adapters.memory import InMemoryDirectory
from yc_chat.domain.model import ClaimState, Membership, Org, OrgId, User, UserId
from yc_chat.domain.queries import MemberKey
from yc_chat.domain.text import SearchQuery

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TAKEN, HELD, DONE = ClaimState.TAKEN, ClaimState.HELD, ClaimState.DONE

ORG = OrgId("org-1")
PEOPLE = [
    ("u-ana", "Ana Núñez", "ana@paws.example"),
    ("u-star", "Star.*Man", "star@paws.example"),
    ("u-back", "Back\\slash Bob", "back\\slash@paws.example"),
    ("u-gt", '{"$gt": ""} Eve', "gt@paws.example"),
    ("u-where", "$where Wendy", "where@paws.example"),
    ("u-caret", "Caret^Carl", "caret@paws.example"),
    ("u-pipe", "Pipe|Pat", "a|b@paws.example"),
    ("u-flag", "(?i)Ivy", "ivy@paws.example"),
    ("u-bracket", "[Ab] Zed", "zed@paws.example"),
]
HOSTILE_QUERIES = [
    ".*",
    "^^",
    "^a",
    "an$",
    "$where",
    '{"$gt": ""}',
    '{"$ne": null}',
    "\\\\",
    "back\\",
    "back\\s",
    "\\d",
    "a|b",
    "(?i)ANA",
    "(?i)",
    "[a-z]",
    "[ab]",
    "star.*",
    "s.*",
    "\x00an",
    "a\nb",
    "%%",
    "??",
    "++",
    "\\Qana",
    "this.name == 'x'",
    "'; db.dropDatabase(); '",
]


@pytest.fixture(params=MONGO_BACKENDS)
async def populated(
    request: pytest.FixtureRequest,
) -> AsyncIterator[tuple[MongoStores, InMemoryDirectory]]:
    memory = InMemoryDirectory()
    async with mongo_stores(backend=request.param) as stores:
        for directory in (stores.directory, memory):
            await directory.put_org(Org(id=ORG, name="Happy Paws"))
            for uid, name, email in PEOPLE:
                await directory.put_user(User(id=UserId(uid), name=name, email=email))
                await directory.put_membership(
                    Membership(org_id=ORG, user_id=UserId(uid), role="vet")
                )
        yield stores, memory


async def _snapshot() -> dict[str, list[dict[str, Any]]]:
    snapshot = {}
    for document in ALL_DOCUMENTS:
        collection = document.get_pymongo_collection()
        docs = await collection.find({}).to_list()
        snapshot[collection.name] = sorted(docs, key=lambda d: str(d["_id"]))
    return snapshot


@pytest.mark.parametrize("text", HOSTILE_QUERIES)
async def test_hostile_queries_match_literally_and_change_nothing(
    populated: tuple[MongoStores, InMemoryDirectory], text: str
) -> None:
    stores, memory = populated
    query = SearchQuery.parse(text)
    before = await _snapshot()

    got = await stores.directory.search_members(ORG, query, limit=50, exclude=None)
    expected = await memory.search_members(ORG, query, limit=50, exclude=None)

    assert [m.user.id for m in got] == [m.user.id for m in expected]
    assert await _snapshot() == before


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("star.*", ["u-star"]),
        ('{"$gt": ""}', ["u-gt"]),
        ("$where", ["u-where"]),
        ("back\\s", ["u-back"]),
        ("caret^", ["u-caret"]),
        ("a|b@", ["u-pipe"]),
        ("(?i)iv", ["u-flag"]),
        ("[ab]", ["u-bracket"]),
    ],
)
async def test_metacharacters_in_names_are_found_by_themselves(
    populated: tuple[MongoStores, InMemoryDirectory], text: str, expected: list[str]
) -> None:
    stores, _ = populated
    hits = await stores.directory.search_members(
        ORG, SearchQuery.parse(text), limit=50, exclude=None
    )
    assert [m.user.id for m in hits] == expected


OPERATOR = {"$gt": ""}


async def test_operator_shaped_ids_are_refused_before_reaching_a_filter(
    populated: tuple[MongoStores, InMemoryDirectory],
) -> None:
    stores, _ = populated
    directory: Any = stores.directory
    before = await _snapshot()
    attempts = [
        directory.get_user(OPERATOR),
        directory.get_org(OPERATOR),
        directory.get_users([OPERATOR]),
        directory.get_membership(OPERATOR, "u-ana"),
        directory.get_memberships(ORG, ["u-ana", OPERATOR]),
        directory.list_members(OPERATOR, limit=5, after=None),
        directory.list_members(ORG, limit=5, after=MemberKey(sort_name=OPERATOR, user_id="")),
        directory.search_members(ORG, SearchQuery.parse("an"), limit=5, exclude=OPERATOR),
        directory.remove_membership(ORG, OPERATOR),
        stores.effect_claims.claim(OPERATOR, owner="w", now=NOW, until=NOW),  # type: ignore[arg-type]
        stores.effect_claims.claim("k", owner=OPERATOR, now=NOW, until=NOW),  # type: ignore[arg-type]
        stores.effect_claims.confirm(OPERATOR, owner="w"),  # type: ignore[arg-type]
        stores.effect_claims.release(OPERATOR, owner="w"),  # type: ignore[arg-type]
        stores.effect_claims.release("k", owner=OPERATOR),  # type: ignore[arg-type]
        stores.devices.unregister(OPERATOR, "t"),  # type: ignore[arg-type]
        stores.devices.forget_token(OPERATOR),  # type: ignore[arg-type]
        stores.fingerprints.invalidate(OPERATOR),  # type: ignore[arg-type]
        stores.appointments.get(OPERATOR),  # type: ignore[arg-type]
        stores.appointments.unlink_chat(OPERATOR),  # type: ignore[arg-type]
    ]
    for attempt in attempts:
        with pytest.raises(TypeError):
            await attempt
    assert await _snapshot() == before


async def test_operator_shaped_strings_are_just_ids(
    populated: tuple[MongoStores, InMemoryDirectory],
) -> None:
    stores, memory = populated
    text = '{"$gt": ""}'
    assert await stores.directory.get_user(UserId(text)) is None
    later = NOW + timedelta(minutes=1)
    assert await stores.effect_claims.claim(text, owner=text, now=NOW, until=later) is TAKEN
    assert await stores.effect_claims.claim(text, owner="w", now=NOW, until=later) is HELD
    await stores.effect_claims.confirm(text, owner=text)
    assert await stores.effect_claims.claim(text, owner="w", now=later, until=later) is DONE
    assert await stores.effect_claims.claim("evt-other", owner="w", now=NOW, until=later) is TAKEN
    for name, uid in [(text, text), ("$where", ""), (".*", ".*"), ("", '{"$ne": null}')]:
        after = MemberKey(sort_name=name, user_id=UserId(uid))
        got = await stores.directory.list_members(ORG, limit=50, after=after)
        expected = await memory.list_members(ORG, limit=50, after=after)
        assert [m.user.id for m in got.members] == [m.user.id for m in expected.members]


async def test_text_mongodb_cannot_store_matches_nothing(
    populated: tuple[MongoStores, InMemoryDirectory],
) -> None:
    stores, _ = populated
    query = SearchQuery.parse("an\ud800")  # a lone surrogate: not encodable as UTF-8
    assert await stores.directory.search_members(ORG, query, limit=5, exclude=None) == []
