"""What the bad-input suites share: ids worth trying, the endpoints with their fields, the
in-process app over the demo clinic, and the check every answer to bad input must pass."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import strategies as st
from litestar import Litestar

from tests.support.demo import FIXTURE, NOW
from tests.support.notifier import RecordingNotifier
from tests.support.world import default_settings
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


def build_app(api_secret: str | None = None) -> Litestar:
    """The real app over in-memory stores and the Stream fake, loaded with the demo clinic."""
    clock = FixedClock(NOW)
    state = StreamState(clock=clock.now)
    chat = (
        FakeStreamChatProvider(state)
        if api_secret is None
        else FakeStreamChatProvider(state, api_secret=api_secret)
    )
    runtime = in_memory(
        Settings(http=default_settings()), chat=chat, notifier=RecordingNotifier(), clock=clock
    )
    asyncio.run(runtime.load(parse_fixture(FIXTURE)))
    return create_app(runtime)


def check_answer(response: Any) -> None:
    """Never a 5xx: a JSON object, and on a 4xx the contract's error body."""
    assert response.status_code < 500, (response.status_code, response.text)
    body = response.json()
    assert isinstance(body, dict)
    if response.status_code >= 400:
        assert set(body) <= {"error", "code", "details"}, body
        assert isinstance(body["error"], str) and isinstance(body["code"], str)
        assert isinstance(body.get("details", []), list)
