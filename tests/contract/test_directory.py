"""Directory port contract: every adapter of ours passes the suite hosts get as
`yc_chat.testing.DirectoryContract` (so the shipped suite is the one that runs here)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.contract.adapters import DIRECTORIES
from yc_chat.testing import DirectoryContract


class TestDirectory(DirectoryContract):
    @pytest.fixture(params=sorted(DIRECTORIES))
    async def new_directory(self, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
        async with DIRECTORIES[request.param]() as store:
            yield store
