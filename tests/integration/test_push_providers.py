"""FCM (through firebase-admin) and Expo adapters against local mimics of their HTTP APIs."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.push_mimics import ACCESS_TOKEN, PROJECT, Mimic, running_mimic
from yc_chat.adapters.memory import InMemoryDevices
from yc_chat.adapters.push.expo import ExpoNotifier
from yc_chat.adapters.push.fcm import FcmConfigError, FcmNotifier
from yc_chat.domain.events import push_collapse_id
from yc_chat.domain.model import (
    AppointmentId,
    ChannelId,
    ChatCategory,
    Device,
    Notification,
    PushOutcome,
    UserId,
)
from yc_chat.entrypoints import bootstrap
from yc_chat.entrypoints.settings import Settings, SettingsError

ANA, BOB, CID, DEE = UserId("ana"), UserId("bob"), UserId("cid"), UserId("dee")


def note(recipient: UserId, collapse_id: str | None = None) -> Notification:
    return Notification(
        recipient_id=recipient,
        title="Dr. Ana Núñez",
        body="Is Rex OK?",
        channel_id=ChannelId("apt_1"),
        category=ChatCategory.CLIENT,
        appointment_id=AppointmentId("apt-1"),
        collapse_id=collapse_id,
    )


@pytest.fixture
def mimic() -> Iterator[Mimic]:
    with running_mimic() as running:
        yield running


@pytest.fixture
def credentials_file(tmp_path: Path, mimic: Mimic) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    path = tmp_path / "service-account.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": PROJECT,
                "private_key_id": "key-1",
                "private_key": pem,
                "client_email": f"push@{PROJECT}.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": f"{mimic.base_url}/token",
            }
        ),
        encoding="utf-8",
    )
    return path


@pytest.fixture
async def devices() -> InMemoryDevices:
    registry = InMemoryDevices()
    for user, token, platform in [
        (ANA, "fcm-ana-phone", "android"),
        (ANA, "dead-ana-old-tablet", "android"),
        (BOB, "dead-bob", "ios"),
        (CID, "bad-cid", "ios"),
        (ANA, "ExponentPushToken[ana-phone]", "ios"),
        (BOB, "ExponentPushToken[dead-bob]", "ios"),
        (CID, "ExponentPushToken[busy-cid]", "android"),
    ]:
        await registry.register(Device(user_id=user, token=token, platform=platform))
    return registry


@pytest.fixture
async def fcm(
    devices: InMemoryDevices, credentials_file: Path, mimic: Mimic
) -> AsyncIterator[FcmNotifier]:
    notifier = FcmNotifier.open(
        devices, credentials_file=str(credentials_file), base_url=mimic.base_url
    )
    yield notifier
    await notifier.aclose()


async def test_fcm_sends_through_the_sdk_and_forgets_unregistered_tokens(
    fcm: FcmNotifier, devices: InMemoryDevices, mimic: Mimic
) -> None:
    fcm_only = InMemoryDevices()
    for device in await devices.devices_of([ANA, BOB, CID]):
        if not device.token.startswith("ExponentPushToken"):
            await fcm_only.register(device)
    fcm._devices = fcm_only  # the FCM tokens only, as an FCM deployment registers
    outcomes = await fcm.notify([note(ANA), note(BOB), note(CID), note(DEE)])
    assert outcomes == [
        PushOutcome.SENT,  # one live device is enough
        PushOutcome.NO_DEVICE,  # its only token was unregistered: forgotten
        PushOutcome.REJECTED,  # an invalid token: retrying will not help
        PushOutcome.NO_DEVICE,  # no device at all
    ]
    assert {d.token for d in await fcm_only.devices_of([ANA, BOB, CID])} == {
        "fcm-ana-phone",
        "bad-cid",
    }
    # The OAuth token came from the credentials' token_uri, once, by the JWT-bearer grant.
    [grant] = mimic.token_requests
    assert grant["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    assert set(mimic.fcm_auth) == {f"Bearer {ACCESS_TOKEN}"}
    sent = next(m for m in mimic.fcm_messages if m["token"] == "fcm-ana-phone")
    assert sent["notification"] == {"title": "Dr. Ana Núñez", "body": "Is Rex OK?"}
    assert sent["data"] == {
        "channelId": "apt_1",
        "chatCategory": "client",
        "appointmentId": "apt-1",
    }
    await fcm.notify([note(ANA)])
    assert len(mimic.token_requests) == 1  # the access token is reused until it expires


async def test_fcm_messages_carry_the_collapse_id_for_android_and_ios(
    fcm: FcmNotifier, mimic: Mimic
) -> None:
    """A repeat of one push (sent again after a crash) shows once: Android's collapse key
    and notification tag, and iOS's apns-collapse-id, all the push's stable id."""
    fcm._devices = InMemoryDevices()
    for user, token, platform in [(ANA, "fcm-ana", "android"), (BOB, "fcm-bob", "ios")]:
        await fcm._devices.register(Device(user_id=user, token=token, platform=platform))
    # An event id as long as a webhook id may be: the collapse id stays within APNs' limit.
    event_id = "wh-" + "9" * 200
    ids = {ANA: push_collapse_id(event_id, ANA), BOB: push_collapse_id(event_id, BOB)}
    for _ in range(2):  # the first send, and its repeat
        outcomes = await fcm.notify([note(ANA, ids[ANA]), note(BOB, ids[BOB])])
        assert outcomes == [PushOutcome.SENT, PushOutcome.SENT]  # the mimic accepted both
    assert len(mimic.fcm_messages) == 4
    for message in mimic.fcm_messages:
        expected = ids[ANA] if message["token"] == "fcm-ana" else ids[BOB]
        assert message["android"]["collapse_key"] == expected
        assert message["android"]["notification"]["tag"] == expected
        assert message["apns"]["headers"]["apns-collapse-id"] == expected
    assert ids[ANA] != ids[BOB] != push_collapse_id("wh-other", BOB)
    # The mimic holds FCM to APNs' limit, as FCM does: an id over 64 bytes is refused.
    assert await fcm.notify([note(ANA, "x" * 65)]) == [PushOutcome.REJECTED]
    # Without one (not a chat message's push), FCM gets no collapsing fields at all.
    await fcm.notify([note(ANA)])
    assert "android" not in mimic.fcm_messages[-1] and "apns" not in mimic.fcm_messages[-1]


async def test_fcm_refuses_unusable_credentials(tmp_path: Path, devices: InMemoryDevices) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(FcmConfigError, match=r"nope\.json"):
        FcmNotifier.open(devices, credentials_file=str(missing))
    garbage = tmp_path / "garbage.json"
    garbage.write_text('{"type": "service_account", "private_key": "SECRET-MATERIAL"}')
    with pytest.raises(FcmConfigError) as caught:
        FcmNotifier.open(devices, credentials_file=str(garbage))
    assert "SECRET-MATERIAL" not in str(caught.value)


async def test_expo_sends_batches_and_forgets_device_not_registered(
    devices: InMemoryDevices, mimic: Mimic
) -> None:
    expo_only = InMemoryDevices()
    for device in await devices.devices_of([ANA, BOB, CID]):
        if device.token.startswith("ExponentPushToken"):
            await expo_only.register(device)
    expo = ExpoNotifier(expo_only, base_url=mimic.base_url, access_token="expo-access")
    try:
        outcomes = await expo.notify([note(ANA), note(BOB), note(CID), note(DEE)])
        assert outcomes == [
            PushOutcome.SENT,
            PushOutcome.NO_DEVICE,  # DeviceNotRegistered: forgotten
            PushOutcome.RETRY,  # MessageRateExceeded: worth another try
            PushOutcome.NO_DEVICE,
        ]
        [batch] = mimic.expo_requests
        assert {m["to"] for m in batch} == {
            "ExponentPushToken[ana-phone]",
            "ExponentPushToken[dead-bob]",
            "ExponentPushToken[busy-cid]",
        }
        first = next(m for m in batch if m["to"] == "ExponentPushToken[ana-phone]")
        assert (first["title"], first["body"]) == ("Dr. Ana Núñez", "Is Rex OK?")
        assert first["data"]["appointmentId"] == "apt-1"
        assert mimic.expo_auth == ["Bearer expo-access"]
        assert [d.token for d in await expo_only.devices_of([BOB])] == []

        mimic.expo_down = True
        assert await expo.notify([note(ANA)]) == [PushOutcome.RETRY]
    finally:
        await expo.aclose()


async def test_expo_messages_carry_the_collapse_id(mimic: Mimic) -> None:
    """Expo's `collapseId` (FCM collapse key and apns-collapse-id downstream) and `tag`
    (the Android notification tag): the same on a repeat, distinct per recipient."""
    registry = InMemoryDevices()
    await registry.register(Device(user_id=ANA, token="ExponentPushToken[ana]", platform="ios"))
    await registry.register(Device(user_id=BOB, token="ExponentPushToken[bob]", platform="android"))
    expo = ExpoNotifier(registry, base_url=mimic.base_url)
    ids = {ANA: push_collapse_id("wh-1", ANA), BOB: push_collapse_id("wh-1", BOB)}
    try:
        for _ in range(2):
            outcomes = await expo.notify([note(ANA, ids[ANA]), note(BOB, ids[BOB])])
            assert outcomes == [PushOutcome.SENT, PushOutcome.SENT]
        await expo.notify([note(ANA)])
    finally:
        await expo.aclose()
    first, repeat, plain = mimic.expo_requests
    for batch in (first, repeat):
        by_token = {m["to"]: m for m in batch}
        for user, token in [(ANA, "ExponentPushToken[ana]"), (BOB, "ExponentPushToken[bob]")]:
            assert by_token[token]["collapseId"] == by_token[token]["tag"] == ids[user]
    assert "collapseId" not in plain[0] and "tag" not in plain[0]


async def test_expo_unreachable_is_a_retry(devices: InMemoryDevices) -> None:
    expo = ExpoNotifier(devices, base_url="http://127.0.0.1:9", timeout=2)
    try:
        assert await expo.notify([note(ANA)]) == [PushOutcome.RETRY]
    finally:
        await expo.aclose()


async def test_the_push_provider_is_chosen_by_configuration(
    credentials_file: Path, mimic: Mimic
) -> None:
    registry = InMemoryDevices()
    async with bootstrap.open_notifier(Settings.from_env({}), registry) as chosen:
        assert type(chosen).__name__ == "LogNotifier"
    expo_env = {"PUSH_PROVIDER": "expo", "EXPO_BASE_URL": mimic.base_url}
    async with bootstrap.open_notifier(Settings.from_env(expo_env), registry) as chosen:
        assert isinstance(chosen, ExpoNotifier)
    fcm_env = {
        "PUSH_PROVIDER": "fcm",
        "FCM_CREDENTIALS_FILE": str(credentials_file),
        "FCM_BASE_URL": mimic.base_url,
    }
    async with bootstrap.open_notifier(Settings.from_env(fcm_env), registry) as chosen:
        assert isinstance(chosen, FcmNotifier)
    with pytest.raises(SettingsError, match="FCM_CREDENTIALS_FILE"):
        Settings.from_env({"PUSH_PROVIDER": "fcm"})
    with pytest.raises(SettingsError, match="PUSH_PROVIDER"):
        Settings.from_env({"PUSH_PROVIDER": "pigeon"})
