"""Appointment ports contract: every adapter of ours passes the suite hosts get as
`yc_chat.testing.AppointmentStoreContract`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.contract.adapters import APPOINTMENT_STORES
from yc_chat.ports import AppointmentStore
from yc_chat.testing import AppointmentStoreContract


class TestAppointmentStore(AppointmentStoreContract):
    @pytest.fixture(params=sorted(APPOINTMENT_STORES))
    async def new_store(self, request: pytest.FixtureRequest) -> AsyncIterator[AppointmentStore]:
        async with APPOINTMENT_STORES[request.param]() as built:
            yield built
