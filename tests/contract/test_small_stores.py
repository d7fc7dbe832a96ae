"""Contracts of DeviceRegistry, ProfileFingerprints, Notifier and Clock.

EffectClaims has its own: test_once_only_claims.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.contract.adapters import DEVICE_REGISTRIES, FINGERPRINT_STORES
from tests.support.notifier import RecordingNotifier
from yc_chat.adapters.clock import FixedClock, SystemClock
from yc_chat.domain.model import Device, Notification, UserId

ANA, BOB = UserId("ana"), UserId("bob")


@pytest.fixture(params=sorted(DEVICE_REGISTRIES))
async def devices(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    async with DEVICE_REGISTRIES[request.param]() as built:
        yield built


@pytest.fixture(params=sorted(FINGERPRINT_STORES))
async def fingerprints(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    async with FINGERPRINT_STORES[request.param]() as built:
        yield built


async def test_devices_register_list_and_unregister(devices: Any) -> None:
    await devices.register(Device(user_id=ANA, token="t1", platform="ios"))
    await devices.register(Device(user_id=ANA, token="t2", platform="android"))
    await devices.register(Device(user_id=BOB, token="t3", platform="web"))
    assert {d.token for d in await devices.devices_of([ANA])} == {"t1", "t2"}
    assert not await devices.unregister(BOB, "t1")  # not Bob's token
    assert await devices.unregister(ANA, "t1")
    assert not await devices.unregister(ANA, "t1")
    assert {d.token for d in await devices.devices_of([ANA, BOB])} == {"t2", "t3"}


async def test_device_token_moves_to_its_new_owner(devices: Any) -> None:
    await devices.register(Device(user_id=ANA, token="shared", platform="ios"))
    await devices.register(Device(user_id=BOB, token="shared", platform="ios"))
    assert await devices.devices_of([ANA]) == []
    assert [d.user_id for d in await devices.devices_of([BOB])] == [BOB]
    await devices.forget_token("shared")
    assert await devices.devices_of([BOB]) == []


async def test_devices_keep_only_the_newest_when_capped(devices: Any) -> None:
    """Issue 13: one user registered 2,000 tokens; with `keep` the oldest are dropped."""
    for n in range(15):
        await devices.register(Device(user_id=ANA, token=f"t{n:02}", platform="ios"), keep=10)
    await devices.register(Device(user_id=BOB, token="bob", platform="ios"), keep=10)
    assert {d.token for d in await devices.devices_of([ANA])} == {f"t{n:02}" for n in range(5, 15)}
    # Re-registering an old token makes it the newest: the next one drops t06, not t05.
    await devices.register(Device(user_id=ANA, token="t05", platform="ios"), keep=10)
    await devices.register(Device(user_id=ANA, token="new", platform="ios"), keep=10)
    mine = {d.token for d in await devices.devices_of([ANA])}
    assert len(mine) == 10 and "t05" in mine and "new" in mine and "t06" not in mine
    assert [d.token for d in await devices.devices_of([BOB])] == ["bob"]


async def test_fingerprints_store_and_invalidate(fingerprints: Any) -> None:
    assert await fingerprints.get_many([ANA]) == {}
    await fingerprints.put_many({ANA: "f1", BOB: "f2"})
    assert await fingerprints.get_many([ANA, BOB, UserId("c")]) == {ANA: "f1", BOB: "f2"}
    await fingerprints.invalidate(ANA)
    assert await fingerprints.get_many([ANA, BOB]) == {BOB: "f2"}


async def test_recording_notifier_keeps_order_per_recipient() -> None:
    notifier = RecordingNotifier()
    first = Notification(recipient_id=ANA, title="Bob", body="hi")
    second = Notification(recipient_id=BOB, title="Ana", body="yo")
    third = Notification(recipient_id=ANA, title="Bob", body="again")
    await notifier.notify([first, second])
    await notifier.notify([third])
    assert notifier.sent == [first, second, third]
    assert notifier.for_recipient(ANA) == [first, third]


def test_clocks_are_aware_and_fixed_clock_moves_only_when_told() -> None:
    assert SystemClock().now().tzinfo is not None
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    assert clock.now() == clock.now()
    clock.advance(timedelta(minutes=5))
    assert clock.now() == datetime(2026, 1, 1, 0, 5, tzinfo=UTC)
    with pytest.raises(ValueError, match="aware"):
        clock.set(datetime(2026, 1, 1))
