"""A small world for use-case tests: two clinics, staff, pet owners, appointments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from tests.support.chat_spy import SpyChat
from tests.support.notifier import RecordingNotifier
from yc_chat import ChatService, in_memory
from yc_chat.adapters.clock import FixedClock
from yc_chat.adapters.fake_stream import FakeStreamChatProvider, StreamState
from yc_chat.adapters.memory import (
    InMemoryAppointments,
    InMemoryChannelLocks,
    InMemoryDevices,
    InMemoryDirectory,
    InMemoryFingerprints,
)
from yc_chat.domain.model import ChannelId
from yc_chat.entrypoints.fixture import parse_fixture
from yc_chat.entrypoints.settings import Settings

TEST_SECRET = "test-secret-0123456789abcdef-0123456789"
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)

FIXTURE: dict[str, Any] = {
    "orgs": [{"id": "org-1", "name": "Happy Paws"}, {"id": "org-2", "name": "Other Clinic"}],
    "users": [
        {"id": "vet-1", "name": "Dr. Ana Núñez", "email": "ana@happypaws.example"},
        {"id": "vet-2", "name": "Dr. Ben Ode", "email": "ben@happypaws.example"},
        {"id": "nurse-1", "name": "Nia Nurse", "email": "nia@happypaws.example"},
        {"id": "admin-1", "name": "Ada Admin", "email": "ada@happypaws.example"},
        {"id": "owner-org", "name": "Olga Owner", "email": "olga@happypaws.example"},
        {"id": "vet-x", "name": "Xavier Other", "email": "x@other.example"},
        {"id": "admin-x", "name": "Xena Admin", "email": "xena@other.example"},
        {"id": "pet-1", "name": "Sam Lee", "kind": "pet_owner"},
        {"id": "pet-2", "name": "Pat Kim", "kind": "pet_owner"},
    ],
    "memberships": [
        {"orgId": "org-1", "userId": "vet-1", "role": "vet"},
        {"orgId": "org-1", "userId": "vet-2", "role": "vet"},
        {"orgId": "org-1", "userId": "nurse-1", "role": "nurse"},
        {"orgId": "org-1", "userId": "admin-1", "role": "admin"},
        {"orgId": "org-1", "userId": "owner-org", "role": "owner"},
        {"orgId": "org-2", "userId": "vet-x", "role": "vet"},
        {"orgId": "org-2", "userId": "admin-x", "role": "admin"},
    ],
    "appointments": [
        {
            "id": "apt-soon",
            "orgId": "org-1",
            "petOwnerId": "pet-1",
            "vetId": "vet-1",
            "startsAt": "2026-01-15T12:03:00Z",
            "petName": "Rex",
            "petOwnerName": "Sam Lee",
        },
        {
            "id": "apt-later",
            "orgId": "org-1",
            "petOwnerId": "pet-1",
            "vetId": "vet-1",
            "startsAt": "2026-01-15T15:00:00Z",
            "petName": "Rex",
            "petOwnerName": "Sam Lee",
        },
        {
            "id": "apt-pat",
            "orgId": "org-1",
            "petOwnerId": "pet-2",
            "vetId": "vet-2",
            "startsAt": "2026-01-15T12:00:00Z",
            "petName": "Tom",
            "petOwnerName": "Pat Kim",
        },
        {
            "id": "apt-other",
            "orgId": "org-2",
            "petOwnerId": "pet-2",
            "vetId": "vet-x",
            "startsAt": "2026-01-15T12:00:00Z",
            "petName": "Tom",
            "petOwnerName": "Pat Kim",
        },
    ],
}


@attrs.define
class World:
    service: ChatService
    directory: InMemoryDirectory
    appointments: InMemoryAppointments
    devices: InMemoryDevices
    notifier: RecordingNotifier
    fingerprints: InMemoryFingerprints
    state: StreamState
    chat: SpyChat
    clock: FixedClock
    locks: InMemoryChannelLocks

    def messages(self, channel_id: str) -> list[tuple[str, str, str]]:
        """(user id, type, text) of every message in the channel, in order."""
        return [(m.user_id, m.type, m.text) for m in self.state.messages("messaging", channel_id)]

    async def channel(self, channel_id: str) -> Any:
        return await self.chat.inner.get_channel(ChannelId(channel_id))


async def build_world(now: datetime = NOW) -> World:
    clock = FixedClock(now)
    state = StreamState(clock=clock.now)
    chat = SpyChat(FakeStreamChatProvider(state=state, api_secret=TEST_SECRET))
    notifier = RecordingNotifier()
    counter = iter(range(1, 10_000))
    runtime = in_memory(
        Settings(chat_token_ttl=timedelta(hours=24)),
        chat=chat,  # type: ignore[arg-type]
        notifier=notifier,
        clock=clock,
        new_group_id=lambda: ChannelId(f"grp_test{next(counter)}"),
    )
    await runtime.load(parse_fixture(FIXTURE))
    ports = runtime.ports
    return World(
        service=runtime.service,
        directory=ports.directory,  # type: ignore[arg-type]
        appointments=ports.appointments,  # type: ignore[arg-type]
        devices=ports.devices,  # type: ignore[arg-type]
        notifier=notifier,
        fingerprints=ports.fingerprints,  # type: ignore[arg-type]
        state=state,
        chat=chat,
        clock=clock,
        locks=ports.locks,  # type: ignore[arg-type]
    )
