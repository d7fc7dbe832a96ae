"""Fixtures shared by the emulator suites: a fresh simulation per test on the emulator, and
a server-side SDK with three users and a 'visit' channel (ana and sam) in it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from stream_chat import StreamChat

from stream_emulator import RunningEmulator
from tests.support.emulator import API_KEY, API_SECRET
from tests.support.emulator import stream_emulator as stream_emulator  # the fixture
from yc_chat.adapters.fake_stream import StreamState


@pytest.fixture
def emulator(stream_emulator: RunningEmulator) -> RunningEmulator:
    """The emulator over a fresh simulation, delivering no webhooks."""
    stream_emulator.control.reset(StreamState())
    stream_emulator.control.webhook_url = None
    return stream_emulator


@pytest.fixture
def server(emulator: RunningEmulator) -> Iterator[StreamChat]:
    """The official SDK with the app's secret: ana, sam and cleo; ana and sam in 'visit'."""
    sdk = StreamChat(API_KEY, API_SECRET, base_url=emulator.base_url)
    sdk.upsert_users([{"id": uid, "name": uid.title()} for uid in ("ana", "sam", "cleo")])
    sdk.channel("messaging", "visit", {"members": ["ana", "sam"]}).create("ana")
    yield sdk
    sdk.session.close()
