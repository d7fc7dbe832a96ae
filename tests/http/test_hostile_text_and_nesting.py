"""Issue 13: no input gives a 5xx, including deep nesting and odd Unicode (lone surrogates,
controls, bidi overrides, non-characters), on every body, query and path of the API."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import TestClient

from tests.support.bad_input import BODY_ENDPOINTS, IDS, QUERY_ENDPOINTS, build_app, check_answer
from tests.support.world import WEBHOOK_SECRET, bearer
from yc_chat.domain.limits import MAX_JSON_DEPTH

# Every code point, lone surrogates included (JSON carries them as \\udXXX escapes).
ODD_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=24) | st.sampled_from(
    ["¨¨", "\u202eevil", "\u200b\u200b", "\ud800", "\x00", "\ufffe", "a\u0301" * 30, "🐈‍⬛"]
)


@st.composite
def nested(draw: st.DrawFn) -> tuple[int, Any]:
    """A value wrapped in `depth` arrays or objects, with odd text at the bottom."""
    depth = draw(st.integers(min_value=1, max_value=400))
    value: Any = draw(ODD_TEXT)
    for index in range(depth):
        value = [value] if draw(st.booleans()) else {f"k{index % 3}": value}
    return depth, value


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient[Litestar]]:
    with TestClient(build_app()) as test_client:
        yield test_client


@pytest.mark.parametrize("path", list(BODY_ENDPOINTS))
def test_deep_or_odd_bodies_never_5xx(client: TestClient[Litestar], path: str) -> None:
    fields = BODY_ENDPOINTS[path]

    @given(shape=nested(), field=st.sampled_from(fields), caller=IDS)
    def run(shape: tuple[int, Any], field: str, caller: str) -> None:
        depth, value = shape
        raw = json.dumps({field: value}).encode()
        response = client.post(path, content=raw, headers=bearer(caller))
        check_answer(response)
        if depth + 1 > MAX_JSON_DEPTH:
            assert response.status_code == 400
            assert response.json()["code"] in ("json_too_deep", "rate_limited")

    run()


def test_deep_or_odd_webhook_events_never_5xx(client: TestClient[Litestar]) -> None:
    @given(shape=nested(), text=ODD_TEXT)
    def run(shape: tuple[int, Any], text: str) -> None:
        _, value = shape
        event = {"type": "message.new", "cid": "messaging:x", "message": {"text": text, "x": value}}
        raw = json.dumps(event).encode()
        signature = hmac.new(WEBHOOK_SECRET.encode(), raw, hashlib.sha256).hexdigest()
        check_answer(
            client.post(
                "/api/webhooks/stream",
                content=raw,
                headers={"X-Signature": signature, "Content-Type": "application/json"},
            )
        )

    run()


@pytest.mark.parametrize("path", list(QUERY_ENDPOINTS))
def test_odd_unicode_queries_never_5xx(client: TestClient[Litestar], path: str) -> None:
    @given(field=st.sampled_from(QUERY_ENDPOINTS[path]), text=ODD_TEXT, caller=IDS)
    def run(field: str, text: str, caller: str) -> None:
        query = quote(text.encode("utf-8", "surrogatepass"), safe="")
        check_answer(client.get(f"{path}?{field}={query}", headers=bearer(caller)))

    run()


def test_odd_unicode_path_segments_never_5xx(client: TestClient[Litestar]) -> None:
    @given(text=ODD_TEXT.filter(bool), caller=IDS)
    def run(text: str, caller: str) -> None:
        segment = quote(text.encode("utf-8", "surrogatepass"), safe="")
        headers = bearer(caller)
        check_answer(client.delete(f"/api/orgs/org-1/members/{segment}", headers=headers))
        check_answer(client.delete(f"/api/orgs/{segment}/members/vet-2", headers=headers))
        check_answer(client.delete(f"/api/devices/{segment}", headers=headers))

    run()
