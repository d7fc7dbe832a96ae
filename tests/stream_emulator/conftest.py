"""Fixtures of the emulator suites (tests/support/emulator.py): the served emulator, over a
fresh Stream state per test, and a server-side SDK with three users and a 'visit' channel."""

from tests.support.emulator import emulator as emulator
from tests.support.emulator import server as server
from tests.support.emulator import stream_emulator as stream_emulator
