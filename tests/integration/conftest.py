"""Fixtures of the integration suites that run the Stream adapter over the emulator
(tests/support/emulator.py): the served emulator, over a fresh Stream state per test."""

from tests.support.emulator import emulator as emulator
from tests.support.emulator import stream_emulator as stream_emulator
