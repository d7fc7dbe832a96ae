"""Offboarding always finishes (issue 19, finding 2).

The attack as found: a staff member created 32 or more staff-looking channels directly on
Stream, with himself and colleagues in them; when an admin removed him, the offboarding
loop kept reading the same page (its offset never moved past channels it skipped), the
request never answered, his real group and DM were never processed, and the inbox worker
was stuck behind the job, so no push reached anyone.

Here: the walk moves past every channel it looks at, each run spends at most its budget of
provider calls (pinned through the spy, which counts every call through the port), and a
job that has work left goes back to the inbox with its place, behind other events.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest

from tests.http.conftest import USER_IDS, World, bearer
from tests.http.test_offboarding import (
    DM,
    LEAVER,
    NOTICE,
    ORG,
    _members,
    _post_message,
    _signed_message,
)
from yc_chat.domain.channel_ids import appointment_channel_id
from yc_chat.domain.inbox import InboxState
from yc_chat.domain.limits import OFFBOARD_CALL_BUDGET
from yc_chat.domain.model import AppointmentId, ChannelId, UserId
from yc_chat.domain.queries import ChannelQuery
from yc_chat.domain.usecases._locks import members_lock_key
from yc_chat.domain.usecases.offboarding import (
    OffboardMember,
    OffboardOutcome,
    offboarding_takes,
)

APT2 = appointment_channel_id(AppointmentId("apt-2"))
PLANTED = 40


def _plant(world: World, count: int = PLANTED, *, skip: int = 0) -> list[str]:
    """Channels vet-2 made on Stream himself, staff-looking, with colleagues in them.

    Made without an id, as a client may: Stream names each after its member set
    (`!members-…`), an id this service never uses and cannot address.
    """
    others = [u for u in USER_IDS if u != LEAVER]
    world.state.upsert_users([{"id": user} for user in USER_IDS])
    member_sets = [
        [LEAVER, *group]
        for size in range(1, len(others) + 1)
        for group in itertools.combinations(others, size)
    ]
    ids = []
    for n, members in enumerate(member_sets[skip : skip + count]):
        channel, created = world.state.get_or_create_distinct_channel(
            "messaging",
            created_by_id=LEAVER,
            data={
                "chatCategory": "group",
                "orgId": ORG,
                "isGroup": True,
                "name": f"Happy Paws: all staff (official) {n}",
            },
            members=members,
        )
        assert created
        ids.append(channel.id)
    return ids


async def _real_chats(world: World) -> dict[str, str]:
    """A group and a DM made through the service, and vet-2's appointment chat."""
    group = await world.post(
        "/api/chat/channels/group",
        "vet-1",
        {"orgId": "org-1", "name": "Rota", "memberIds": ["vet-2", "nurse-1"], "createdBy": "vet-1"},
    )
    dm = await world.post(
        "/api/chat/channels/internal",
        "vet-1",
        {"orgId": "org-1", "memberIds": ["vet-1", "vet-2"], "createdBy": "vet-1"},
    )
    apt = await world.post("/api/chat/channels", "owner-2", {"appointmentId": "apt-2"})
    for response in (group, dm, apt):
        assert response.status_code == 200, response.text
    return {"group": group.json()["channelId"], "dm": DM, "apt": APT2}


async def _remove(world: World) -> Any:
    return await world.client.delete(f"/api/orgs/{ORG}/members/{LEAVER}", headers=bearer("admin-1"))


async def test_planted_channels_never_stall_the_removal(world: World) -> None:
    # His real chats come first, the planted ones after: and the other way round.
    _plant(world, PLANTED // 2)
    chats = await _real_chats(world)
    _plant(world, PLANTED // 2, skip=PLANTED // 2)
    world.chat.calls.clear()

    response = await _remove(world)

    assert response.status_code == 200, response.text
    assert sum(world.chat.calls.values()) <= OFFBOARD_CALL_BUDGET
    await world.drain()
    for channel_id in chats.values():
        assert LEAVER not in _members(world, channel_id)
    assert world.messages(chats["group"]).count(NOTICE) == 1
    # The job is done, not parked or waiting.
    counts = await world.inbox.counts()
    assert counts.get(InboxState.PARKED, 0) == 0 and counts.get(InboxState.PENDING, 0) == 0
    # Pushes keep flowing for the others.
    await _post_message(world, chats["group"], "vet-1", "rota for next week")
    assert [n.recipient_id for n in world.notifier.sent] == ["nurse-1"]


@pytest.mark.parametrize("budget", [5, 6, 9, 23])
async def test_every_run_stays_within_its_budget_and_the_last_one_is_complete(
    world: World, budget: int
) -> None:
    chats = await _real_chats(world)
    planted = _plant(world, 7)
    # Channels yc-chat did not create are passed over, whatever their data says.
    taken = [await world.stream.get_channel(ChannelId(c)) for c in planted]
    taken_planted = sum(c is not None and offboarding_takes(c) for c in taken)
    for n in range(4):
        response = await world.post(
            "/api/chat/channels/group",
            "vet-1",
            {"orgId": "org-1", "name": f"Shift {n}", "memberIds": ["vet-2"], "createdBy": "vet-1"},
        )
        assert response.status_code == 200
    await world.directory.remove_membership(ORG, LEAVER)
    offboard = OffboardMember(
        directory=world.directory,
        chat=world.chat,
        locks=world.service.offboard_member.locks,
        clock=world.clock,
        budget=budget,
    )
    outcome: OffboardOutcome | None = None
    left = [0, 0, 0]
    for _ in range(20):
        world.chat.calls.clear()
        outcome = await offboard(
            org_id=ORG, user_id=LEAVER, resume=outcome.resume if outcome else None
        )
        # What the run reports is what it spent through the port, never over the budget.
        assert outcome.calls == sum(world.chat.calls.values()) <= budget
        left = [
            left[0] + outcome.groups_left,
            left[1] + outcome.dms_ended,
            left[2] + outcome.appointment_chats_left,
        ]
        if outcome.complete:
            break
        assert outcome.resume is not None
    assert outcome is not None and outcome.complete
    assert left == [5 + taken_planted, 1, 1]
    for channel_id in chats.values():
        assert LEAVER not in _members(world, channel_id)


async def test_a_run_that_spent_its_budget_is_not_complete(world: World) -> None:
    chats = await _real_chats(world)
    await world.directory.remove_membership(ORG, LEAVER)
    offboard = OffboardMember(
        directory=world.directory,
        chat=world.chat,
        locks=world.service.offboard_member.locks,
        clock=world.clock,
        budget=5,
    )
    # Revoke, read a page, then the group (2 calls): the DM (3) does not fit.
    first = await offboard(org_id=ORG, user_id=LEAVER)
    assert (first.groups_left, first.dms_ended, first.calls) == (1, 0, 4)
    assert not first.complete
    assert LEAVER in _members(world, chats["dm"])
    # The next run starts where it stopped: the group is not read again.
    world.chat.calls.clear()
    second = await offboard(org_id=ORG, user_id=LEAVER, resume=first.resume)
    assert (second.groups_left, second.dms_ended, second.appointment_chats_left) == (0, 1, 1)
    assert second.complete and second.calls == 5
    assert world.chat.calls["revoke_tokens"] == 0


async def test_a_job_with_work_left_goes_back_with_its_place_and_blocks_nothing(
    world: World,
) -> None:
    chats = await _real_chats(world)
    for n in range(70):
        response = await world.post(
            "/api/chat/channels/group",
            "vet-1",
            {"orgId": "org-1", "name": f"Shift {n}", "memberIds": ["vet-2"], "createdBy": "vet-1"},
        )
        assert response.status_code == 200
    response = await _remove(world)
    assert response.status_code == 200
    # The request ran once within its budget; a message arrives meanwhile.
    await _post_message_without_drain(world, chats["group"], "nurse-1", "handover at 6")

    outcomes = await world.service.process_inbox_events()

    by_kind = {o.kind: o for o in outcomes}
    assert by_kind["message_posted"].result == "processed"
    assert [n.recipient_id for n in world.notifier.sent] == ["vet-1"]
    job = by_kind["member_left_org"]
    assert job.result == "continued"
    stored = await world.inbox.get(job.event_id)
    assert stored is not None and stored.state is InboxState.PENDING
    assert stored.attempts == 0 and stored.due_at > world.clock.now()
    # Not due yet: other events are what the next passes handle.
    assert await world.service.process_inbox_events() == []
    for _ in range(10):
        world.clock.advance(timedelta(minutes=1))
        await world.drain()
    stored = await world.inbox.get(job.event_id)
    assert stored is not None and stored.state is InboxState.DONE
    remaining = await world.stream.query_channels(
        ChannelQuery(member=LEAVER, org_id=ORG), limit=100, offset=0
    )
    assert remaining.channels == ()


async def _post_message_without_drain(
    world: World, channel_id: str, sender: str, text: str
) -> None:
    body, headers = _signed_message(channel_id, sender, text)
    response = await world.client.post("/api/webhooks/stream", content=body, headers=headers)
    assert response.status_code == 200


async def test_the_removal_revokes_the_tokens_issued_before_it(world: World) -> None:
    token = await world.post("/api/chat/token", "vet-2", {"userId": "vet-2"})
    assert token.status_code == 200
    removed_at = world.clock.now()
    assert (await _remove(world)).status_code == 200
    user = world.state.user(LEAVER)
    assert user is not None
    # Through the end of the removal's second: token times are whole seconds.
    cutoff = removed_at + timedelta(seconds=1)
    assert user.custom["revoke_tokens_issued_before"] == cutoff.isoformat()
    # A repeated removal (nothing left to do) revokes nothing newer.
    world.clock.advance(timedelta(hours=1))
    assert (await _remove(world)).status_code == 404
    again = world.state.user(UserId(LEAVER))
    assert again is not None and again.custom["revoke_tokens_issued_before"] == cutoff.isoformat()


async def test_a_job_stuck_on_a_busy_channel_backs_off_and_finishes_once_it_is_free(
    world: World,
) -> None:
    chats = await _real_chats(world)
    locks = world.service.offboard_member.locks
    key = members_lock_key(chats["group"])
    hold = timedelta(hours=1)
    assert await locks.acquire(
        key, owner="other", until=world.clock.now() + hold, now=world.clock.now()
    )
    assert (await _remove(world)).status_code == 200
    # The group is busy: the walk stops there (the rest of its page is done meanwhile).
    assert LEAVER in _members(world, chats["group"]) and LEAVER not in _members(world, DM)

    [first] = await world.service.process_inbox_events()
    assert first.result == "continued"  # tokens revoked: that was progress
    world.clock.advance(timedelta(minutes=1))
    [second] = await world.service.process_inbox_events()
    # No progress at all: a failure, retried with backoff, counted.
    assert second.result == "retry" and second.reason is not None and "busy" in second.reason
    stored = await world.inbox.get(second.event_id)
    assert stored is not None and stored.attempts == 1

    await locks.release(key, owner="other")
    for _ in range(5):
        world.clock.advance(timedelta(minutes=5))
        await world.drain()
    stored = await world.inbox.get(second.event_id)
    assert stored is not None and stored.state is InboxState.DONE
    for channel_id in chats.values():
        assert LEAVER not in _members(world, channel_id)
    assert world.messages(chats["group"]).count(NOTICE) == 1
