"""Query plans on the real server: are typeahead and member paging index scans?

Asked with `explain` for the very filters and sort the Beanie directory sends. MongoDB
(MONGODB_URI) must answer with index scans and no collection scan. FerretDB 1.x over SQLite
creates the indexes but pushes none of these filters down to SQLite: it reports a full
`SCAN` of the table and `filterPushdown: false`, so there the queries cost a scan per call
(README: FerretDB is not MongoDB). The FerretDB branch pins that report, so a FerretDB that
starts using the indexes fails here and the README gets corrected.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.mongo_double.stores import mongo_stores
from yc_chat.adapters.beanie import MongoStores
from yc_chat.adapters.beanie._queries import MEMBER_ORDER, prefix_regex
from yc_chat.adapters.beanie.documents import MembershipDocument
from yc_chat.domain.model import Membership, Org, OrgId, User, UserId

ORG = OrgId("org-1")
PREFIX = prefix_regex("name1")
QUERIES: dict[str, dict[str, Any]] = {
    "typeahead, whole name": {
        "orgId": ORG, "$or": [{"sortName": PREFIX}, {"searchSpelled": PREFIX}]
    },
    "typeahead, any word or email": {
        "orgId": ORG, "$or": [{"searchWords": PREFIX}, {"searchEmail": PREFIX}]
    },
    "members, first page": {"orgId": ORG},
    "members, next page": {
        "orgId": ORG,
        "$or": [{"sortName": {"$gt": "name2"}},
                {"sortName": "name2", "userId": {"$gt": "u02"}}],
    },
}  # fmt: skip


@pytest.fixture
async def stores() -> AsyncIterator[MongoStores]:
    async with mongo_stores(backend="server") as opened:
        directory = opened.directory
        await directory.put_org(Org(id=ORG, name="Happy Paws"))
        for i in range(40):
            uid = UserId(f"u{i:02d}")
            await directory.put_user(User(id=uid, name=f"Name{i} Smith", email=f"n{i}@x.example"))
            await directory.put_membership(Membership(org_id=ORG, user_id=uid, role="vet"))
        yield opened


async def _explain(where: dict[str, Any]) -> dict[str, Any]:
    collection = MembershipDocument.get_pymongo_collection()
    sort = {field: int(direction) for field, direction in MEMBER_ORDER}
    find = {"find": collection.name, "filter": where, "sort": sort, "limit": 10}
    plan: dict[str, Any] = await collection.database.command(
        {"explain": find, "verbosity": "queryPlanner"}
    )
    return plan


@pytest.mark.parametrize("query", sorted(QUERIES))
async def test_typeahead_and_paging_plans(stores: MongoStores, query: str) -> None:
    plan = await _explain(QUERIES[query])
    if stores.server.name == "MongoDB":
        winning = json.dumps(plan["queryPlanner"]["winningPlan"])
        assert "IXSCAN" in winning, winning
        assert "COLLSCAN" not in winning, winning
    else:
        steps = " ".join(plan["queryPlanner"]["Plan"])
        assert "SCAN chat_memberships" in steps and "USING INDEX" not in steps, steps
        assert plan["filterPushdown"] is False
