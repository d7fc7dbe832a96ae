"""Typeahead and member pages answered from the end of the middleware chain (issue 22):
for a plain query string the answer, its errors and its headers are exactly what
Litestar's handler gives for the same request spelled so that it takes Litestar's path
(a percent-encoded character), and anything not plain takes that path."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.world import World
from yc_chat.entrypoints.http.controllers import orgs

S, M = "/api/orgs/org-1/search", "/api/orgs/org-1/members"
# (caller, plain path and query, the same request percent-encoded: Litestar's path)
SAME = [
    ("vet-1", S + "?query=pri&limit=5", S + "?query=%70ri&limit=5"),
    ("vet-1", S + "?query=an", S + "?query=%61n"),
    ("vet-1", S + "?limit=3&query=nu", S + "?limit=3&query=n%75"),
    ("vet-1", M + "?limit=2", M + "?limit=%32"),
    ("vet-1", M, M + "?limit=%31%30%30"),
    # Errors: out of range, too short, not a member, no such org, a bad cursor.
    ("vet-1", S + "?query=pri&limit=0", S + "?query=pri&limit=%30"),
    ("vet-1", S + "?query=p", S + "?query=%70"),
    ("vet-1", M + "?limit=1000", M + "?limit=%31000"),
    ("vet-x", S + "?query=pri", S + "?query=%70ri"),
    ("vet-1", "/api/orgs/org-9/members", "/api/orgs/org-9/members?limit=%31"),
    ("vet-1", M + "?cursor=nope", M + "?cursor=%6Eope"),
]  # fmt: skip


@pytest.fixture
def direct(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The reads OrgReadAnswerer answered itself."""
    taken: list[str] = []
    for name, (names, reader) in list(orgs._READERS.items()):

        def counted(*args: Any, _name: str = name, _reader: Any = reader) -> Any:
            taken.append(_name)
            return _reader(*args)

        monkeypatch.setitem(orgs._READERS, name, (names, counted))
    return taken


def _seen(response: Any) -> tuple[int, Any, str | None]:
    return response.status_code, response.json(), response.headers.get("content-type")


@pytest.mark.parametrize(("caller", "plain", "encoded"), SAME)
async def test_a_plain_query_is_answered_as_litestar_answers_it(
    world: World, direct: list[str], caller: str, plain: str, encoded: str
) -> None:
    first = await world.get(plain, caller)
    assert direct == [plain.split("/")[4].split("?")[0]]
    second = await world.get(encoded, caller)
    assert len(direct) == 1  # the encoded one took Litestar's path
    assert _seen(first) == _seen(second)
    assert first.headers["content-length"] == second.headers["content-length"]
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


@pytest.mark.parametrize(
    "query",
    [
        "query=an+a",  # a space
        "query=pri&limit=abc",  # Litestar's own 400
        "query=pri&limit=-1",
        "query=pri&limit=05",
        "query=pri&query=an",  # twice
        "query=pri&other=1",  # unknown parameter
        "query=pri&limit",  # no value
        "query=%C3%A1n",  # not ASCII
    ],
)
async def test_anything_else_takes_litestars_path(
    world: World, direct: list[str], query: str
) -> None:
    response = await world.get(f"/api/orgs/org-1/search?{query}", "vet-1")
    assert direct == []
    assert response.status_code in (200, 400)


async def test_no_token_no_answer(world: World, direct: list[str]) -> None:
    response = await world.get("/api/orgs/org-1/search?query=pri", None)
    assert response.status_code == 401
    assert direct == []
