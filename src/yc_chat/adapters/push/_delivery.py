"""What push adapters share: finding each recipient's devices, and folding per-device results
into one outcome per notification."""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence

from yc_chat.domain.model import Device, Notification, PushOutcome, UserId
from yc_chat.ports import DeviceRegistry


def push_data(notification: Notification) -> dict[str, str]:
    """The data payload frontends read: `{channelId, chatCategory, appointmentId?}`."""
    data: dict[str, str] = {}
    if notification.channel_id is not None:
        data["channelId"] = notification.channel_id
    if notification.category is not None:
        data["chatCategory"] = notification.category.value
    if notification.appointment_id is not None:
        data["appointmentId"] = notification.appointment_id
    return data


class DeviceResult(enum.Enum):
    """What the provider said about one message to one device."""

    DELIVERED = "delivered"
    UNREGISTERED = "unregistered"  # the token is dead: forget it
    RETRY = "retry"
    REJECTED = "rejected"


async def devices_by_recipient(
    devices: DeviceRegistry, notifications: Sequence[Notification]
) -> Mapping[UserId, list[Device]]:
    """Every registered device of the notifications' recipients, in one registry read."""
    recipients = {n.recipient_id for n in notifications}
    found: dict[UserId, list[Device]] = defaultdict(list)
    for device in await devices.devices_of(recipients):
        found[device.user_id].append(device)
    return found


def outcome(results: Sequence[DeviceResult]) -> PushOutcome:
    """One notification's outcome from its devices' results.

    Reaching one device notifies the person, so any delivery is SENT (no retry, which
    would repeat it on the others); otherwise a passing failure is worth a retry.
    """
    if DeviceResult.DELIVERED in results:
        return PushOutcome.SENT
    if DeviceResult.RETRY in results:
        return PushOutcome.RETRY
    if DeviceResult.REJECTED in results:
        return PushOutcome.REJECTED
    return PushOutcome.NO_DEVICE


async def deliver(
    devices: DeviceRegistry,
    notifications: Sequence[Notification],
    *,
    batch: int,
    send: Callable[[list[tuple[Notification, Device]]], Awaitable[Sequence[DeviceResult]]],
    before_first_send: Callable[[], Awaitable[None]] | None = None,
) -> list[PushOutcome]:
    """Send every notification to each device of its recipient, `batch` messages a call.

    `send` answers one result per (notification, device), in order; dead tokens are
    forgotten; the results fold into one outcome per notification.
    """
    by_recipient = await devices_by_recipient(devices, notifications)
    targets = [
        (index, device)
        for index, notification in enumerate(notifications)
        for device in by_recipient.get(notification.recipient_id, [])
    ]
    results: list[list[DeviceResult]] = [[] for _ in notifications]
    if targets and before_first_send is not None:
        await before_first_send()
    for start in range(0, len(targets), batch):
        chunk = targets[start : start + batch]
        answers = await send([(notifications[i], device) for i, device in chunk])
        for (index, device), result in zip(chunk, answers, strict=True):
            if result is DeviceResult.UNREGISTERED:
                await devices.forget_token(device.token)
            results[index].append(result)
    return [outcome(found) for found in results]
