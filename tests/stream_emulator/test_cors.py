"""Browsers may call the emulator from any origin: preflights pass, answers carry CORS headers."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from stream_emulator import RunningEmulator
from tests.support.emulator import API_KEY, user_token
from tests.support.emulator import stream_emulator as stream_emulator  # the fixture
from yc_chat.adapters.fake_stream import StreamState

ORIGIN = "http://localhost:5173"


@pytest.fixture
def browser(stream_emulator: RunningEmulator) -> Iterator[httpx.Client]:
    stream_emulator.control.reset(StreamState())
    with httpx.Client(base_url=stream_emulator.base_url, params={"api_key": API_KEY}) as http:
        yield http


def test_a_preflight_is_answered_without_credentials(browser: httpx.Client) -> None:
    response = browser.options(
        "/channels",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,stream-auth-type,x-stream-client",
        },
    )
    assert response.status_code in (200, 204), response.text
    assert response.headers["access-control-allow-origin"] in ("*", ORIGIN)
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed or allowed == "*"
    assert "POST" in response.headers["access-control-allow-methods"]


def test_answers_and_refusals_carry_the_allow_origin_header(browser: httpx.Client) -> None:
    refused = browser.post("/channels", json={}, headers={"Origin": ORIGIN})
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] in ("*", ORIGIN)

    answered = browser.post(
        "/channels",
        json={"filter_conditions": {}},
        headers={
            "Origin": ORIGIN,
            "Authorization": user_token("ana"),
            "Stream-Auth-Type": "jwt",
        },
    )
    assert answered.status_code == 201, answered.text
    assert answered.headers["access-control-allow-origin"] in ("*", ORIGIN)
    assert "x-ratelimit-limit" in answered.headers["access-control-expose-headers"].lower()
