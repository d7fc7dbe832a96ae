"""Generated bad input, endpoint by endpoint: never a 5xx; the error body or a real answer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import TestClient

from tests.support.bad_input import (
    BODY_ENDPOINTS,
    ID_LISTS,
    IDS,
    JSON,
    QUERY_ENDPOINTS,
    build_app,
    check_answer,
)
from tests.support.world import bearer


def _body_for(fields: tuple[str, ...]) -> st.SearchStrategy[Any]:
    value = JSON | IDS | ID_LISTS
    shaped = st.fixed_dictionaries({}, optional=dict.fromkeys(fields, value))
    return shaped | JSON


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient[Litestar]]:
    with TestClient(build_app()) as test_client:
        # A group for the membership endpoint to aim at.
        test_client.post(
            "/api/chat/channels/group",
            json={"orgId": "org-1", "name": "Fuzz", "memberIds": ["vet-2"],
                  "createdBy": "vet-1", "channelId": "grp-fuzz"},
            headers=bearer("vet-1"),
        )  # fmt: skip
        yield test_client


@pytest.mark.parametrize("path", list(BODY_ENDPOINTS))
def test_fuzzed_bodies_never_5xx(client: TestClient[Litestar], path: str) -> None:
    @given(body=_body_for(BODY_ENDPOINTS[path]), caller=IDS)
    def run(body: Any, caller: str) -> None:
        check_answer(client.post(path, json=body, headers=bearer(caller)))

    run()


def test_fuzzed_raw_bytes_never_5xx(client: TestClient[Litestar]) -> None:
    @given(raw=st.binary(max_size=200) | JSON.map(lambda v: repr(v).encode()))
    def run(raw: bytes) -> None:
        check_answer(client.post("/api/chat/channels/group", content=raw, headers=bearer("vet-1")))

    run()


@pytest.mark.parametrize("path", list(QUERY_ENDPOINTS))
def test_fuzzed_query_strings_never_5xx(client: TestClient[Litestar], path: str) -> None:
    params = st.fixed_dictionaries(
        {}, optional=dict.fromkeys(QUERY_ENDPOINTS[path], st.text(max_size=30) | IDS)
    )

    @given(query=params, caller=IDS)
    def run(query: dict[str, str], caller: str) -> None:
        check_answer(client.get(path, params=query, headers=bearer(caller)))

    run()


def test_fuzzed_path_segments_never_5xx(client: TestClient[Litestar]) -> None:
    segment = st.text(min_size=1, max_size=80).map(lambda s: quote(s, safe=""))

    @given(segment=segment, caller=IDS)
    def run(segment: str, caller: str) -> None:
        headers = bearer(caller)
        check_answer(client.post(f"/api/chat/channels/{segment}/end", headers=headers))
        check_answer(client.get(f"/api/orgs/{segment}/members", headers=headers))
        check_answer(client.delete(f"/api/devices/{segment}", headers=headers))
        check_answer(
            client.post(
                f"/api/chat/channels/group/{segment}/members",
                json={"add": ["vet-2"], "addedBy": caller},
                headers=headers,
            )
        )

    run()
