"""Offboarding (issue 13, finding 1): a person removed from an org loses its chats everywhere.

The attack as found: after their membership was removed, GET /api/chat/channels without
orgId still listed the org's group with its last message, their Stream token still read
it, and their devices were still pushed its messages.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import uuid
from datetime import timedelta
from typing import Any

import attrs
import pytest

from tests.support.demo import USER_IDS
from tests.support.world import WEBHOOK_SECRET, World, assert_error, bearer
from yc_chat.adapters.clock import FixedClock
from yc_chat.adapters.stream.tokens import TOKEN_IAT_BACKDATE
from yc_chat.domain import errors
from yc_chat.domain.channel_ids import appointment_channel_id, colleague_dm_channel_id
from yc_chat.domain.inbox import InboxState
from yc_chat.domain.limits import OFFBOARD_CALL_BUDGET
from yc_chat.domain.model import AppointmentId, ChannelId, ChatStatus, Membership, OrgId, UserId
from yc_chat.domain.queries import ChannelQuery
from yc_chat.domain.usecases._locks import members_lock_key
from yc_chat.domain.usecases.offboarding import (
    OffboardMember,
    OffboardOutcome,
    offboarding_takes,
)

ORG = OrgId("org-1")
LEAVER = UserId("vet-2")
APT2 = appointment_channel_id(AppointmentId("apt-2"))
DM = colleague_dm_channel_id(ORG, UserId("vet-1"), LEAVER)
NOTICE = "Tom O'Brien is no longer a member of Happy Paws."


async def _staff_chats(world: World) -> dict[str, str]:
    """A group, an announcement room, a DM and an appointment chat with vet-2 in them."""
    group = await world.post(
        "/api/chat/channels/group",
        "vet-1",
        {"orgId": "org-1", "name": "Rota", "memberIds": ["vet-2", "nurse-1"], "createdBy": "vet-1"},
    )
    own = await world.post(
        "/api/chat/channels/group",
        "vet-2",
        {"orgId": "org-1", "name": "Tom's room", "memberIds": ["nurse-1"], "createdBy": "vet-2"},
    )
    dm = await world.post(
        "/api/chat/channels/internal",
        "vet-1",
        {"orgId": "org-1", "memberIds": ["vet-1", "vet-2"], "createdBy": "vet-1"},
    )
    apt = await world.post("/api/chat/channels", "owner-2", {"appointmentId": "apt-2"})
    for response in (group, own, dm, apt):
        assert response.status_code == 200, response.text
    assert dm.json()["channelId"] == DM
    return {"group": group.json()["channelId"], "own": own.json()["channelId"]}


def _members(world: World, channel_id: str) -> set[str]:
    return {m.user_id for m in world.state.channel("messaging", channel_id).members}


async def _listed(world: World, user: str, **params: str) -> list[dict[str, Any]]:
    response = await world.get("/api/chat/channels", user, params=params)
    assert response.status_code == 200, response.text
    channels: list[dict[str, Any]] = response.json()["channels"]
    return channels


async def _remove(world: World, caller: str, user: str = "vet-2", org: str = "org-1") -> Any:
    return await world.client.delete(f"/api/orgs/{org}/members/{user}", headers=bearer(caller))


def _signed_message(channel_id: str, sender: str, text: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "type": "message.new",
            "cid": f"messaging:{channel_id}",
            "channel_id": channel_id,
            "message": {"id": uuid.uuid4().hex, "text": text, "user": {"id": sender}},
            "user": {"id": sender},
        }
    ).encode()
    signature = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return body, {"X-Signature": signature, "Content-Type": "application/json"}


async def _post_message(world: World, channel_id: str, sender: str, text: str) -> None:
    body, headers = _signed_message(channel_id, sender, text)
    response = await world.client.post("/api/webhooks/stream", content=body, headers=headers)
    assert response.status_code == 200
    await world.drain()


async def test_an_admin_offboards_a_member_from_every_staff_chat(world: World) -> None:
    chats = await _staff_chats(world)
    group, own = chats["group"], chats["own"]
    assert {c["id"] for c in await _listed(world, "vet-2")} == {group, own, DM, APT2}

    response = await _remove(world, "admin-1")
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True}

    assert await world.directory.get_membership(ORG, LEAVER) is None
    # Groups: out, with one system message each (also the one they created).
    for channel_id in (group, own):
        assert LEAVER not in _members(world, channel_id)
        assert world.messages(channel_id).count(NOTICE) == 1
    assert _members(world, group) == {"vet-1", "nurse-1"}
    # The DM: ended, frozen, closed with one message, and they are out of it.
    dm = world.state.channel("messaging", DM)
    assert dm.data["status"] == "ended" and dm.frozen
    assert _members(world, DM) == {"vet-1"}
    assert world.messages(DM)[-1].startswith("This chat was closed: Tom O'Brien")
    # Their appointment chat as the vet: out; the pet owner stays.
    assert _members(world, APT2) == {"owner-2"}
    # Nothing of the org is listed for them any more, with or without orgId.
    assert await _listed(world, "vet-2") == []
    assert_error(await world.get("/api/chat/channels", "vet-2", params={"orgId": "org-1"}), 403)
    # The others keep their chats.
    assert group in {c["id"] for c in await _listed(world, "vet-1")}
    assert APT2 in {c["id"] for c in await _listed(world, "owner-2")}


async def test_offboarding_twice_changes_nothing_more(world: World) -> None:
    chats = await _staff_chats(world)
    assert (await _remove(world, "admin-1")).status_code == 200
    writes = len(world.chat.writes)
    again = await _remove(world, "admin-1")
    assert_error(again, 404, errors.CODE_MEMBER_NOT_FOUND)
    assert len(world.chat.writes) == writes
    assert world.messages(chats["group"]).count(NOTICE) == 1


@pytest.mark.parametrize(
    ("caller", "user", "org", "status"),
    [
        ("vet-1", "vet-2", "org-1", 403),  # a plain member
        ("vet-2", "vet-2", "org-1", 403),  # removing oneself is not an admin's power
        ("admin-x", "vet-2", "org-1", 403),  # an admin of another org
        ("owner-2", "vet-2", "org-1", 403),  # a pet owner
        ("admin-1", "vet-x", "org-1", 404),  # not a member of this org
        ("admin-1", "nobody", "org-1", 404),
        ("admin-1", "vet-2", "org-404", 404),
    ],
)
async def test_only_an_org_admin_removes_a_current_member(
    world: World, caller: str, user: str, org: str, status: int
) -> None:
    await _staff_chats(world)
    before = await world.snapshot()
    assert_error(await _remove(world, caller, user, org), status)
    assert await world.snapshot() == before
    assert await world.directory.get_membership(ORG, LEAVER) is not None


async def test_no_push_reaches_an_offboarded_member(world: World) -> None:
    chats = await _staff_chats(world)
    assert (await _remove(world, "admin-1")).status_code == 200
    await _post_message(world, chats["group"], "vet-1", "CONFIDENTIAL: staff rota")
    assert sorted(n.recipient_id for n in world.notifier.sent) == ["nurse-1"]


async def test_a_directory_changed_behind_the_services_back_leaks_nothing(world: World) -> None:
    """The host removed the membership in its own directory and did not call offboarding:
    Stream still lists vet-2 as a member, yet no list, read or push reaches them."""
    chats = await _staff_chats(world)
    await _post_message(world, chats["group"], "vet-1", "CONFIDENTIAL: staff rota, week 3")
    await world.directory.remove_membership(ORG, LEAVER)
    world.notifier.sent.clear()
    assert LEAVER in _members(world, chats["group"])  # Stream does not know yet

    assert await _listed(world, "vet-2") == []
    for category in ("group", "colleague", "client"):
        assert await _listed(world, "vet-2", category=category) == []
    assert await _listed(world, "vet-2", role="vet") == []
    assert_error(
        await world.get("/api/chat/channels/groups", "vet-2", params={"orgId": "org-1"}), 403
    )
    assert_error(await world.post("/api/chat/channels", "vet-2", {"appointmentId": "apt-2"}), 403)
    assert_error(await world.post(f"/api/chat/channels/{APT2}/end", "vet-2"), 403)
    assert_error(
        await world.post(
            f"/api/chat/channels/group/{chats['own']}/members",
            "vet-2",
            {"add": ["vet-1"], "addedBy": "vet-2"},
        ),
        403,
    )
    await _post_message(world, chats["group"], "vet-1", "CONFIDENTIAL: more")
    await _post_message(world, DM, "vet-1", "CONFIDENTIAL: between us")
    await _post_message(world, APT2, "owner-2", "Rex is worse")
    assert LEAVER not in {n.recipient_id for n in world.notifier.sent}
    # Reopening the appointment chat does not seat the departed vet again.
    assert (await world.post("/api/chat/channels", "owner-2", {"appointmentId": "apt-2"})).json()[
        "members"
    ] == ["owner-2"]
    assert _members(world, APT2) == {"owner-2"}


async def test_the_appointment_chat_follows_the_record_after_reassignment(world: World) -> None:
    await _staff_chats(world)
    assert (await _remove(world, "admin-1")).status_code == 200
    record = await world.appointments.get(AppointmentId("apt-2"))
    assert record is not None
    await world.appointments.put(attrs.evolve(record, vet_id=UserId("vet-1")))
    response = await world.post("/api/chat/channels", "owner-2", {"appointmentId": "apt-2"})
    assert response.json()["members"] == ["owner-2", "vet-1"]
    assert _members(world, APT2) == {"owner-2", "vet-1"}
    assert APT2 in {c["id"] for c in await _listed(world, "vet-1")}


async def test_the_rest_of_their_account_is_untouched(world: World) -> None:
    """owner-2 also works at the clinic: offboarding keeps their chats as a pet owner, and
    their membership of another org."""
    await world.directory.put_membership(
        Membership(org_id=ORG, user_id=UserId("owner-2"), role="receptionist")
    )
    await world.directory.put_membership(
        Membership(org_id=OrgId("org-2"), user_id=UserId("owner-2"), role="nurse")
    )
    await world.post("/api/chat/channels", "owner-2", {"appointmentId": "apt-2"})
    group = await world.post(
        "/api/chat/channels/group",
        "owner-2",
        {"orgId": "org-1", "name": "Front desk", "memberIds": ["nurse-1"], "createdBy": "owner-2"},
    )
    other = await world.post(
        "/api/chat/channels/group",
        "owner-2",
        {"orgId": "org-2", "name": "Elsewhere", "memberIds": ["vet-x"], "createdBy": "owner-2"},
    )
    assert (await _remove(world, "admin-1", "owner-2")).status_code == 200
    listed = {c["id"] for c in await _listed(world, "owner-2")}
    assert listed == {APT2, other.json()["channelId"]}
    assert group.json()["channelId"] not in listed
    assert "owner-2" in _members(world, APT2)


class _FailingAfter:
    """A chat provider whose `change_members` fails after `n` calls (a crash halfway)."""

    def __init__(self, inner: Any, n: int) -> None:
        self.inner, self.left = inner, n

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def change_members(self, *args: Any, **kwargs: Any) -> Any:
        if self.left == 0:
            raise errors.ProviderUnavailable("connection reset")
        self.left -= 1
        return await self.inner.change_members(*args, **kwargs)


async def test_a_run_stopped_halfway_is_finished_by_running_it_again(world: World) -> None:
    chats = await _staff_chats(world)
    await world.directory.remove_membership(ORG, LEAVER)
    flaky = OffboardMember(
        directory=world.directory,
        chat=_FailingAfter(world.stream, 1),  # type: ignore[arg-type]
        locks=world.service.offboard_member.locks,
        clock=FixedClock(world.clock.now()),
    )
    with pytest.raises(errors.ProviderUnavailable):
        await flaky(org_id=ORG, user_id=LEAVER)
    # Through HTTP: no longer a member, but there is work left, so it is finished (200).
    assert (await _remove(world, "admin-1")).status_code == 200
    for channel_id in (chats["group"], chats["own"], DM, APT2):
        assert LEAVER not in _members(world, channel_id)
    for channel_id in (chats["group"], chats["own"]):
        assert world.messages(channel_id).count(NOTICE) == 1
    assert sum(m.startswith("This chat was closed") for m in world.messages(DM)) == 1
    assert_error(await _remove(world, "admin-1"), 404)


async def test_the_library_call_offboards_after_the_host_removed_the_membership(
    world: World,
) -> None:
    await _staff_chats(world)
    with pytest.raises(errors.Conflict) as still:
        await world.service.offboard_member(org_id=ORG, user_id=LEAVER)
    assert still.value.code == errors.CODE_STILL_ORG_MEMBER
    await world.directory.remove_membership(ORG, LEAVER)
    outcome = await world.service.offboard_member(org_id=ORG, user_id=LEAVER)
    # Calls: revoke tokens, one page, two groups (read, leave), the DM (read, end, leave),
    # the appointment chat (leave).
    assert outcome == OffboardOutcome(
        groups_left=2, dms_ended=1, appointment_chats_left=1, calls=10
    )
    again = await world.service.offboard_member(org_id=ORG, user_id=LEAVER)
    assert again == OffboardOutcome(calls=2)
    assert world.state.channel("messaging", DM).data["status"] == ChatStatus.ENDED.value


async def test_a_large_org_is_read_one_query_per_page(world: World) -> None:
    for n in range(70):
        response = await world.post(
            "/api/chat/channels/group",
            "vet-1",
            {"orgId": "org-1", "name": f"Shift {n}", "memberIds": ["vet-2"], "createdBy": "vet-1"},
        )
        assert response.status_code == 200
    await world.directory.remove_membership(ORG, LEAVER)
    world.chat.calls.clear()
    offboard = world.service.offboard_member
    outcome = await offboard(org_id=ORG, user_id=LEAVER)
    left, runs = outcome.groups_left, 1
    while not outcome.complete:
        outcome = await offboard(org_id=ORG, user_id=LEAVER, resume=outcome.resume)
        left, runs = left + outcome.groups_left, runs + 1
    assert left == 70
    # 140 calls of channel work in runs of at most 60 calls: three runs, each reading its
    # pages one query per 30 channels; never one read per channel.
    assert runs == 3
    assert world.chat.calls["query_channels"] <= runs + 3
    assert world.chat.calls["change_members"] == 70


async def test_an_offboarding_cut_short_by_an_outage_is_finished_by_the_worker(
    world: World,
) -> None:
    chats = await _staff_chats(world)
    world.state.set_unavailable()
    assert_error(await _remove(world, "admin-1"), 503)
    # The membership is gone at once; the job to finish the rest is in the inbox.
    assert await world.directory.get_membership(ORG, LEAVER) is None
    assert LEAVER in _members(world, chats["group"])
    world.state.set_unavailable(False)
    await world.drain()
    for channel_id in (chats["group"], chats["own"], DM, APT2):
        assert LEAVER not in _members(world, channel_id)
    assert world.messages(chats["group"]).count(NOTICE) == 1
    assert_error(await _remove(world, "admin-1"), 404)
    # Done jobs stay done: draining again changes nothing.
    writes = len(world.chat.writes)
    await world.drain()
    assert len(world.chat.writes) == writes


async def test_a_webhook_cannot_pass_for_an_offboarding_job(world: World) -> None:
    chats = await _staff_chats(world)
    body = b'yc-offboard:{"org_id": "org-1", "user_id": "vet-1"}'
    signature = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    response = await world.client.post(
        "/api/webhooks/stream", content=body, headers={"X-Signature": signature}
    )
    assert_error(response, 400)
    await world.drain()
    assert "vet-1" in _members(world, chats["group"])


# -- It always finishes (issue 19, finding 2) ------------------------------------
#
# The attack as found: a staff member created 32 or more staff-looking channels directly on
# Stream, with himself and colleagues in them; when an admin removed him, the offboarding
# loop kept reading the same page (its offset never moved past channels it skipped), the
# request never answered, his real group and DM were never processed, and the inbox worker
# was stuck behind the job, so no push reached anyone.
#
# Here: the walk moves past every channel it looks at, each run spends at most its budget of
# provider calls (pinned through the spy, which counts every call through the port), and a
# job that has work left goes back to the inbox with its place, behind other events.

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


async def _remove_leaver(world: World) -> Any:
    return await world.client.delete(f"/api/orgs/{ORG}/members/{LEAVER}", headers=bearer("admin-1"))


async def test_planted_channels_never_stall_the_removal(world: World) -> None:
    # His real chats come first, the planted ones after: and the other way round.
    _plant(world, PLANTED // 2)
    chats = await _real_chats(world)
    _plant(world, PLANTED // 2, skip=PLANTED // 2)
    world.chat.calls.clear()

    response = await _remove_leaver(world)

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
    response = await _remove_leaver(world)
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
    assert (await _remove_leaver(world)).status_code == 200
    # Through the end of the removal's second (token times are whole seconds), backdated
    # as every token's `iat` is, as the real adapter sends it.
    cutoff = removed_at + timedelta(seconds=1) - TOKEN_IAT_BACKDATE
    assert world.state.tokens_revoked_before(LEAVER) == cutoff
    # A repeated removal (nothing left to do) revokes nothing newer.
    world.clock.advance(timedelta(hours=1))
    assert (await _remove_leaver(world)).status_code == 404
    assert world.state.tokens_revoked_before(LEAVER) == cutoff


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
    assert (await _remove_leaver(world)).status_code == 200
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


async def test_a_removal_behind_a_busy_group_counts_the_channels_it_left_after_it(
    world: World,
) -> None:
    """The response says only `{success: true}` (the contract); what a run did shows in the
    job: a run that stopped at a busy group but took the person out of a later one made
    progress, so the job goes on with its attempts reset instead of backing off as stuck."""
    chats = await _real_chats(world)
    later = await world.post(
        "/api/chat/channels/group",
        "vet-1",
        {"orgId": "org-1", "name": "Later", "memberIds": ["vet-2"], "createdBy": "vet-1"},
    )
    assert later.status_code == 200, later.text
    chats["later"] = later.json()["channelId"]
    locks = world.service.offboard_member.locks
    hold = world.clock.now() + timedelta(hours=1)
    for name in ("group", "later"):
        key = members_lock_key(chats[name])
        assert await locks.acquire(key, owner="other", until=hold, now=world.clock.now())

    response = await _remove_leaver(world)

    assert response.status_code == 200 and response.json() == {"success": True}
    assert LEAVER not in _members(world, DM) and LEAVER not in _members(world, APT2)
    [first] = await world.service.process_inbox_events()
    assert first.result == "continued"  # the job's first run revokes the tokens again
    await locks.release(members_lock_key(chats["later"]), owner="other")
    world.clock.advance(timedelta(minutes=1))

    [second] = await world.service.process_inbox_events()

    assert LEAVER not in _members(world, chats["later"])
    assert second.result == "continued", second.reason
    stored = await world.inbox.get(second.event_id)
    assert stored is not None and stored.attempts == 0
    await locks.release(members_lock_key(chats["group"]), owner="other")
    for _ in range(3):
        world.clock.advance(timedelta(minutes=5))
        await world.drain()
    stored = await world.inbox.get(second.event_id)
    assert stored is not None and stored.state is InboxState.DONE
    for channel_id in chats.values():
        assert LEAVER not in _members(world, channel_id)
        assert world.messages(channel_id).count(NOTICE) <= 1
    assert world.messages(chats["later"]).count(NOTICE) == 1
