"""The appointment ports' contract (`yc_chat.ports.appointments`), for any adapter.

One record per appointment carries all of them, so each adapter implements them all
(`AppointmentStore`); the writer seeds records for the others. Subclass
`AppointmentStoreContract` and override `new_store` to yield an empty store.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio

from yc_chat.domain.model import (
    Appointment,
    AppointmentId,
    ChannelId,
    ChatStatus,
    OrgId,
    UserId,
)
from yc_chat.ports import AppointmentStore

T0 = datetime(2026, 1, 15, 14, 0, tzinfo=UTC)


def appointment(aid: str, starts_at: datetime = T0) -> Appointment:
    return Appointment(
        id=AppointmentId(aid),
        org_id=OrgId("org-1"),
        pet_owner_id=UserId("owner-1"),
        vet_id=UserId("vet-1"),
        starts_at=starts_at,
        pet_name="Rex",
        pet_owner_name="Sam Lee",
    )


# -- AppointmentRecords and AppointmentWriter ------------------------------------------


async def _linked(
    store: AppointmentStore, aid: str, starts_at: datetime, status: ChatStatus
) -> None:
    await store.put(appointment(aid, starts_at))
    await store.link_chat(
        AppointmentId(aid),
        channel_id=ChannelId(f"ch-{aid}"),
        status=status,
        activation_minutes=5,
    )


class AppointmentStoreContract:
    """Every AppointmentStore keeps records, chat links, schedules and claims alike."""

    pytestmark = pytest.mark.asyncio  # also where pytest-asyncio runs in strict mode

    @pytest_asyncio.fixture
    async def new_store(self) -> Any:
        """An empty store: override it."""
        raise NotImplementedError("override the new_store fixture with your adapter")

    @pytest_asyncio.fixture
    async def store(self, new_store: AppointmentStore) -> AppointmentStore:
        return new_store

    async def test_put_and_get_round_trip(self, store: Any) -> None:
        await store.put(appointment("apt-1"))
        got = await store.get(AppointmentId("apt-1"))
        assert got == appointment("apt-1")
        assert await store.get(AppointmentId("apt-2")) is None

    # -- AppointmentChatLinks --------------------------------------------------------------

    async def test_link_chat_records_channel_status_and_minutes(self, store: Any) -> None:
        await store.put(appointment("apt-1"))
        linked = await store.link_chat(
            AppointmentId("apt-1"),
            channel_id=ChannelId("apt_x"),
            status=ChatStatus.PENDING,
            activation_minutes=15,
        )
        assert linked.chat_channel_id == "apt_x"
        assert linked.chat_status is ChatStatus.PENDING
        assert linked.chat_activation_minutes == 15
        assert await store.get(AppointmentId("apt-1")) == linked
        assert (await store.find_by_channel(ChannelId("apt_x"))).id == "apt-1"
        assert await store.find_by_channel(ChannelId("apt_y")) is None

    async def test_status_only_moves_forward(self, store: Any) -> None:
        await store.put(appointment("apt-1"))
        aid = AppointmentId("apt-1")
        await store.link_chat(
            aid, channel_id=ChannelId("c"), status=ChatStatus.ACTIVE, activation_minutes=None
        )
        assert (
            await store.set_chat_status(aid, ChatStatus.PENDING)
        ).chat_status is ChatStatus.ACTIVE
        assert (await store.set_chat_status(aid, ChatStatus.ENDED)).chat_status is ChatStatus.ENDED
        relinked = await store.link_chat(
            aid, channel_id=ChannelId("c"), status=ChatStatus.ACTIVE, activation_minutes=None
        )
        assert relinked.chat_status is ChatStatus.ENDED
        assert await store.set_chat_status(AppointmentId("ghost"), ChatStatus.ENDED) is None

    async def test_unlink_marks_ended_and_forgets_channel(self, store: Any) -> None:
        await store.put(appointment("apt-1"))
        aid = AppointmentId("apt-1")
        await store.link_chat(
            aid, channel_id=ChannelId("c"), status=ChatStatus.ACTIVE, activation_minutes=None
        )
        await store.unlink_chat(aid)
        got = await store.get(aid)
        assert got.chat_channel_id is None
        assert got.chat_status is ChatStatus.ENDED
        assert await store.find_by_channel(ChannelId("c")) is None
        await store.unlink_chat(AppointmentId("ghost"))  # unknown ids are a no-op

    # -- ChatSchedule ----------------------------------------------------------------------

    async def test_due_for_activation_lists_pending_chats_whose_time_came(
        self,
        store: AppointmentStore,
    ) -> None:
        for aid, offset, minutes in [("a", 0, 5), ("b", 60, 5), ("c", 10, 30), ("d", -5, 0)]:
            await store.put(appointment(aid, T0 + timedelta(minutes=offset)))
            await store.link_chat(
                AppointmentId(aid),
                channel_id=ChannelId(f"ch-{aid}"),
                status=ChatStatus.PENDING,
                activation_minutes=minutes,
            )
        await store.put(appointment("unlinked", T0 - timedelta(days=1)))
        now = T0 - timedelta(minutes=5)
        due = await store.due_for_activation(now, limit=10)
        # a opens at now exactly; c opened at T0-20; d opened at T0-5; b opens later.
        assert [a.id for a in due] == ["c", "a", "d"]
        assert [a.id for a in await store.due_for_activation(now, limit=1)] == ["c"]
        await store.set_chat_status(AppointmentId("c"), ChatStatus.ACTIVE)
        assert [a.id for a in await store.due_for_activation(now, limit=10)] == ["a", "d"]

    async def test_due_for_ending_lists_linked_chats_not_ended_by_start(
        self,
        store: AppointmentStore,
    ) -> None:
        await _linked(store, "early", T0 - timedelta(hours=2), ChatStatus.ACTIVE)
        await _linked(store, "pending", T0 - timedelta(hours=1), ChatStatus.PENDING)
        await _linked(store, "ended", T0 - timedelta(hours=3), ChatStatus.ENDED)
        await _linked(store, "later", T0 + timedelta(hours=1), ChatStatus.PENDING)
        await store.put(appointment("unlinked", T0 - timedelta(days=1)))
        due = await store.due_for_ending(T0 - timedelta(hours=1), limit=10)
        assert [a.id for a in due] == ["early", "pending"]
        assert [a.id for a in await store.due_for_ending(T0, limit=1)] == ["early"]

    async def test_next_opening_is_the_earliest_pending_linked_chat(self, store: Any) -> None:
        assert await store.next_opening() is None
        await _linked(store, "b", T0 + timedelta(hours=2), ChatStatus.PENDING)
        await _linked(store, "a", T0 + timedelta(hours=1), ChatStatus.PENDING)
        await _linked(store, "active", T0, ChatStatus.ACTIVE)
        assert await store.next_opening() == T0 + timedelta(hours=1) - timedelta(minutes=5)

    # -- TransitionClaims ------------------------------------------------------------------

    async def test_a_transition_claim_is_a_compare_and_set(self, store: Any) -> None:
        await _linked(store, "a", T0, ChatStatus.PENDING)
        key = AppointmentId("a")
        until = T0 + timedelta(seconds=60)
        claim = {"status": ChatStatus.PENDING, "until": until, "now": T0}
        assert await store.claim_transition(key, owner="one", **claim)
        assert not await store.claim_transition(key, owner="two", **claim)
        assert not await store.claim_transition(
            key, status=ChatStatus.ACTIVE, owner="two", until=until, now=T0
        )
        # An abandoned claim lapses at its time.
        assert await store.claim_transition(
            key,
            status=ChatStatus.PENDING,
            owner="two",
            until=until + timedelta(minutes=1),
            now=until,
        )
        # Writing the status ends the claim; the next transition starts from the new status.
        await store.set_chat_status(key, ChatStatus.ACTIVE)
        assert not await store.claim_transition(key, owner="three", **claim)
        assert await store.claim_transition(
            key, status=ChatStatus.ACTIVE, owner="three", until=until, now=T0
        )
        assert not await store.claim_transition(
            AppointmentId("ghost"), status=ChatStatus.PENDING, owner="x", until=until, now=T0
        )

    async def test_concurrent_claims_have_one_winner(self, store: Any) -> None:
        await _linked(store, "a", T0, ChatStatus.PENDING)
        results = await asyncio.gather(
            *(
                store.claim_transition(
                    AppointmentId("a"),
                    status=ChatStatus.PENDING,
                    owner=f"o{i}",
                    until=T0 + timedelta(minutes=1),
                    now=T0,
                )
                for i in range(20)
            )
        )
        assert results.count(True) == 1
