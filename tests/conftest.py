"""Shared test setup: Hypothesis profiles (bounded `ci` by default, long `nightly`), and the
real servers of tests/support/servers.py stopped at the session's end, with one line per
missing one."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from tests.support import servers

settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile(
    "nightly",
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("dev", max_examples=20, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    servers.stop_all()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # Tests skipped for want of a real server are folded into one summary line per server
    # (pytest groups skips by location and reason; they all get the servers module's).
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        if isinstance(longrepr, tuple) and servers.is_missing_server_reason(str(longrepr[2])):
            report.longrepr = (servers.__file__, 1, longrepr[2])
