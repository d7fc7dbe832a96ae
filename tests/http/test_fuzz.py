"""Generated bad input, endpoint by endpoint: never a 5xx; the error body or a real answer."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import TestClient

from tests.http.conftest import FIXTURE, NOW, bearer, default_settings
from tests.support.notifier import RecordingNotifier
from yc_chat import in_memory
from yc_chat.adapters.clock import FixedClock
from yc_chat.adapters.fake_stream import FakeStreamChatProvider, StreamState
from yc_chat.entrypoints.fixture import parse_fixture
from yc_chat.entrypoints.http import create_app
from yc_chat.entrypoints.settings import Settings

IDS = st.sampled_from(
    ["vet-1", "vet-2", "nurse-1", "admin-1", "owner-1", "vet-x", "org-1", "org-2", "apt-1", "apt-2"]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | IDS
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)

# Each body endpoint with its fields: the fuzzer fills known fields with anything, so both
# near-valid and wildly wrong bodies reach the decoder and the use case.
BODY_ENDPOINTS: dict[str, tuple[str, ...]] = {
    "/api/chat/token": ("userId",),
    "/api/chat/channels": (
        "appointmentId", "petOwnerId", "vetId", "appointmentTime", "activationMinutes",
    ),
    "/api/chat/channels/internal": ("orgId", "memberIds", "createdBy"),
    "/api/chat/channels/group": (
        "orgId", "name", "memberIds", "createdBy", "isReadOnly", "image", "channelId",
    ),
    "/api/chat/channels/group/grp-fuzz/members": ("add", "remove", "addedBy"),
    "/api/devices": ("token", "platform"),
}  # fmt: skip
QUERY_ENDPOINTS: dict[str, tuple[str, ...]] = {
    "/api/orgs/org-1/search": ("query", "limit"),
    "/api/orgs/org-1/members": ("limit", "cursor"),
    "/api/chat/channels/groups": ("orgId",),
    "/api/chat/channels": ("category", "orgId", "role", "limit", "cursor"),
}
ID_LISTS = st.lists(IDS, max_size=4)


def _body_for(fields: tuple[str, ...]) -> st.SearchStrategy[Any]:
    value = JSON | IDS | ID_LISTS
    shaped = st.fixed_dictionaries({}, optional=dict.fromkeys(fields, value))
    return shaped | JSON


def _build_app() -> Litestar:
    clock = FixedClock(NOW)
    runtime = in_memory(
        Settings(http=default_settings()),
        chat=FakeStreamChatProvider(StreamState(clock=clock.now)),
        notifier=RecordingNotifier(),
        clock=clock,
    )
    asyncio.run(runtime.load(parse_fixture(FIXTURE)))
    return create_app(runtime)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient[Litestar]]:
    with TestClient(_build_app()) as test_client:
        # A group for the membership endpoint to aim at.
        test_client.post(
            "/api/chat/channels/group",
            json={"orgId": "org-1", "name": "Fuzz", "memberIds": ["vet-2"],
                  "createdBy": "vet-1", "channelId": "grp-fuzz"},
            headers=bearer("vet-1"),
        )  # fmt: skip
        yield test_client


def _check(response: Any) -> None:
    assert response.status_code < 500, (response.status_code, response.text)
    body = response.json()
    assert isinstance(body, dict)
    if response.status_code >= 400:
        assert set(body) <= {"error", "code", "details"}, body
        assert isinstance(body["error"], str) and isinstance(body["code"], str)
        assert isinstance(body.get("details", []), list)


@pytest.mark.parametrize("path", list(BODY_ENDPOINTS))
def test_fuzzed_bodies_never_5xx(client: TestClient[Litestar], path: str) -> None:
    @given(body=_body_for(BODY_ENDPOINTS[path]), caller=IDS)
    def run(body: Any, caller: str) -> None:
        _check(client.post(path, json=body, headers=bearer(caller)))

    run()


def test_fuzzed_raw_bytes_never_5xx(client: TestClient[Litestar]) -> None:
    @given(raw=st.binary(max_size=200) | JSON.map(lambda v: repr(v).encode()))
    def run(raw: bytes) -> None:
        _check(client.post("/api/chat/channels/group", content=raw, headers=bearer("vet-1")))

    run()


@pytest.mark.parametrize("path", list(QUERY_ENDPOINTS))
def test_fuzzed_query_strings_never_5xx(client: TestClient[Litestar], path: str) -> None:
    params = st.fixed_dictionaries(
        {}, optional=dict.fromkeys(QUERY_ENDPOINTS[path], st.text(max_size=30) | IDS)
    )

    @given(query=params, caller=IDS)
    def run(query: dict[str, str], caller: str) -> None:
        _check(client.get(path, params=query, headers=bearer(caller)))

    run()


def test_fuzzed_path_segments_never_5xx(client: TestClient[Litestar]) -> None:
    segment = st.text(min_size=1, max_size=80).map(lambda s: quote(s, safe=""))

    @given(segment=segment, caller=IDS)
    def run(segment: str, caller: str) -> None:
        headers = bearer(caller)
        _check(client.post(f"/api/chat/channels/{segment}/end", headers=headers))
        _check(client.get(f"/api/orgs/{segment}/members", headers=headers))
        _check(client.delete(f"/api/devices/{segment}", headers=headers))
        _check(
            client.post(
                f"/api/chat/channels/group/{segment}/members",
                json={"add": ["vet-2"], "addedBy": caller},
                headers=headers,
            )
        )

    run()
