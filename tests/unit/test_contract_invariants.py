"""Random sequences of use cases by random callers, checking the contract's invariants.

Invariants checked after every step: nobody lists or edits a channel they are not a member
of; nobody acts in an org they do not belong to; with memberships removed behind the
service's back or through offboarding, nobody outside an org lists, reads, edits or is
pushed any of its staff chats, and the offboarded are no longer Stream members of them;
appointment chat members are the record's pet owner and its vet while the vet is in the
org; an ended chat is frozen and never active again; member_count equals the member set
size; DM creation is idempotent; a denied action changes nothing.

People also act directly on Stream with their own tokens (issue 19): they forge channels
with any custom data (as before the setup's grants, or on an app without them) and try to
post, add members, rewrite data or unfreeze, checked as Stream checks a client. Then: no
list shows a channel yc-chat did not create, nothing in one is pushed, nobody changes the
members, data or freezing of the service's channels, and an ex-member can neither read nor
post in the org's chats.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any, TypeVar

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from stream_emulator.state import StreamAPIError, permissions
from tests.support.world import FIXTURE, World, build_world
from yc_chat.domain import errors
from yc_chat.domain.events import MessagePosted
from yc_chat.domain.limits import OFFBOARD_CALL_BUDGET
from yc_chat.domain.model import (
    AppointmentId,
    ChannelId,
    ChatCategory,
    ChatStatus,
    OrgId,
    UserId,
)
from yc_chat.domain.usecases._locks import end_lock_key, members_lock_key
from yc_chat.domain.usecases.inbox import EventIgnored

T = TypeVar("T")
USERS = [UserId(u["id"]) for u in FIXTURE["users"]]
ORGS = [OrgId(o["id"]) for o in FIXTURE["orgs"]] + [OrgId("org-ghost")]
APPOINTMENTS = [AppointmentId(a["id"]) for a in FIXTURE["appointments"]]
ROLES = {(m["orgId"], m["userId"]): m["role"] for m in FIXTURE["memberships"]}

users = st.sampled_from(USERS)
ORG1_STAFF = [UserId(u) for (o, u) in ROLES if o == "org-1"]
# Mostly staff of the busy clinic, so that group changes often pass the membership checks.
staff_first = st.sampled_from(ORG1_STAFF * 2 + USERS)
member_lists = st.lists(st.sampled_from(ORG1_STAFF * 4 + USERS), max_size=4)
# Weighted towards the busy clinic so that allowed actions are common, not just denials.
orgs = st.sampled_from([ORGS[0], ORGS[0], ORGS[0], *ORGS])
# Custom data a person may give a channel they create directly: anything, often official-looking.
forged_data = st.fixed_dictionaries(
    {
        "chatCategory": st.sampled_from(["group", "colleague", "client", "other"]),
        "orgId": st.sampled_from([str(o) for o in ORGS]),
        "isGroup": st.booleans(),
        "status": st.sampled_from(["active", "pending", "ended"]),
        "name": st.sampled_from(["Staff (official)", "Chat with Sam Lee", "x"]),
    },
    optional={
        "appointmentId": st.sampled_from([str(a) for a in APPOINTMENTS]),
        "petOwnerId": users,
        "vetId": users,
        "createdBy": users,
    },
)
DIRECT_ACTIONS = ("post", "add_member", "rewrite_data", "unfreeze")


class ChatWorld(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.world: World = self.run(build_world())
        self.channels: set[ChannelId] = set()
        self.ended: set[ChannelId] = set()
        self.groups: set[ChannelId] = set()
        self.dms: dict[tuple[str, frozenset[str]], ChannelId] = {}
        # Memberships as the directory holds them now; who was offboarded from which org.
        self.roles: dict[tuple[str, str], str] = dict(ROLES)
        self.offboarded: set[tuple[OrgId, UserId]] = set()
        # Channels people created directly on Stream, with whatever custom data.
        self.forged: set[ChannelId] = set()
        # As `yc-chat stream setup` leaves the Stream app.
        self.world.chat.inner.apply_setup_now()

    def role(self, org: str, user: str) -> str | None:
        return self.roles.get((org, user))

    def is_admin(self, org: str, user: str) -> bool:
        return self.role(org, user) in {"owner", "admin"}

    def may_see(self, user: UserId, channel: Any) -> bool:
        """The contract's rule: staff chats only for current members of the channel's org."""
        if channel.category is ChatCategory.CLIENT and channel.pet_owner_id == user:
            return True
        return self.role(channel.org_id, user) is not None

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.loop.close()

    # -- helpers -------------------------------------------------------------------------

    def snapshot(self) -> tuple[Any, ...]:
        state = self.world.state
        channels = []
        for cid in sorted(self.channels):
            channel = state.channel("messaging", cid)
            if channel is None:
                continue
            channels.append(
                (
                    cid,
                    tuple(channel.member_ids),
                    channel.frozen,
                    repr(sorted(channel.data.items())),
                    len(state.messages("messaging", cid)),
                )
            )
        records = [self.run(self.world.appointments.get(a)) for a in APPOINTMENTS]
        return (tuple(channels), tuple(records))

    def attempt(self, coro: Coroutine[Any, Any, T]) -> T | None:
        """Run a use case; a denial must leave everything as it was."""
        before = self.snapshot()
        name = coro.__qualname__
        try:
            result = self.run(coro)
        except errors.ChatError as exc:
            assert exc.status in {400, 403, 404, 409}, exc
            assert self.snapshot() == before, f"denied {exc.code} changed state"
            event(f"{name}: {exc.code}")
            return None
        event(f"{name}: ok")
        return result

    def channel(self, cid: ChannelId) -> Any:
        return self.run(self.world.chat.inner.get_channel(cid))

    # -- rules ---------------------------------------------------------------------------

    @initialize()
    def start(self) -> None:
        assert self.world.state is not None

    @rule(
        caller=users,
        appointment=st.sampled_from(APPOINTMENTS),
        minutes=st.none() | st.integers(0, 300),
    )
    def open_appointment_chat(
        self, caller: UserId, appointment: AppointmentId, minutes: int | None
    ) -> None:
        record = self.run(self.world.appointments.get(appointment))
        assert record is not None
        ref = self.attempt(
            self.world.service.open_appointment_chat(
                caller=caller, appointment_id=appointment, activation_minutes=minutes
            )
        )
        if ref is None:
            return
        # The pet owner; the vet and admins only while they belong to the org.
        assert caller == record.pet_owner_id or (
            self.role(record.org_id, caller) is not None
            and (caller == record.vet_id or self.is_admin(record.org_id, caller))
        )
        vet_seated = self.role(record.org_id, record.vet_id) is not None
        assert ref.members == (
            (record.pet_owner_id, record.vet_id) if vet_seated else (record.pet_owner_id,)
        )
        self.channels.add(ref.channel_id)

    @rule(caller=users, org=orgs, a=users, b=users, caller_in_pair=st.booleans())
    def start_dm(
        self, caller: UserId, org: OrgId, a: UserId, b: UserId, caller_in_pair: bool
    ) -> None:
        if caller_in_pair:
            a = caller
        ref = self.attempt(
            self.world.service.start_colleague_dm(
                caller=caller, org_id=org, member_ids=[a, b], created_by=caller
            )
        )
        if ref is None:
            return
        assert caller in (a, b) and a != b
        assert self.role(org, a) is not None and self.role(org, b) is not None
        key = (org, frozenset({a, b}))
        assert self.dms.setdefault(key, ref.channel_id) == ref.channel_id
        self.channels.add(ref.channel_id)

    @rule(
        caller=users,
        org=orgs,
        members=member_lists,
        read_only=st.booleans(),
    )
    def create_group(
        self, caller: UserId, org: OrgId, members: list[UserId], read_only: bool
    ) -> None:
        ref = self.attempt(
            self.world.service.create_group(
                caller=caller,
                org_id=org,
                name="Group",
                member_ids=members,
                created_by=caller,
                is_read_only=read_only,
            )
        )
        if ref is None:
            return
        assert self.role(org, caller) is not None
        assert not read_only or self.is_admin(org, caller)
        assert all(self.role(org, m) is not None for m in ref.members)
        self.channels.add(ref.channel_id)
        self.groups.add(ref.channel_id)

    @precondition(lambda self: bool(self.groups))
    @rule(data=st.data(), caller=staff_first, add=member_lists, remove=member_lists)
    def update_members(
        self, data: st.DataObject, caller: UserId, add: list[UserId], remove: list[UserId]
    ) -> None:
        # Mostly real groups; sometimes any channel, to try editing DMs and client chats.
        pool = self.groups if data.draw(st.integers(0, 3)) else self.channels
        cid = data.draw(st.sampled_from(sorted(pool)))
        before = self.channel(cid)
        if data.draw(st.booleans()) and before.created_by is not None:
            caller = before.created_by  # the creator half the time, a random user otherwise
        if data.draw(st.integers(0, 4)):
            remove = [r for r in remove if r not in add]  # overlapping lists only sometimes
        result = self.attempt(
            self.world.service.update_group_members(
                caller=caller, channel_id=cid, added_by=caller, add=add, remove=remove
            )
        )
        if result is None:
            return
        assert before.category is ChatCategory.GROUP and not before.is_ended
        # The creator or an org admin; any other member only to leave (remove just self).
        leaving = not add and set(remove) == {caller} and caller in before.members
        assert caller == before.created_by or self.is_admin(before.org_id, caller) or leaving
        assert self.role(before.org_id, caller) is not None

    @precondition(lambda self: bool(self.channels))
    @rule(data=st.data(), caller=users)
    def end_chat(self, data: st.DataObject, caller: UserId) -> None:
        cid = data.draw(st.sampled_from(sorted(self.channels)))
        before = self.channel(cid)
        result = self.attempt(self.world.service.end_chat(caller=caller, channel_id=cid))
        if result is None:
            return
        assert before.category is not ChatCategory.COLLEAGUE
        assert self.role(before.org_id, caller) is not None
        if before.category is ChatCategory.CLIENT:
            assert caller == before.vet_id or self.is_admin(before.org_id, caller)
        else:
            assert caller == before.created_by or self.is_admin(before.org_id, caller)
        self.ended.add(cid)

    @rule(caller=users, category=st.none() | st.sampled_from(ChatCategory))
    def list_my_channels(self, caller: UserId, category: ChatCategory | None) -> None:
        page = self.attempt(self.world.service.list_my_channels(caller=caller, category=category))
        assert page is not None
        for summary in page.channels:
            assert summary.id in self.channels, "listed a channel yc-chat did not create"
            assert caller in summary.members
            assert category is None or summary.category == category
            assert self.may_see(caller, self.channel(summary.id)), "listed another org's chat"

    @rule(caller=users, org=orgs)
    def list_org_groups(self, caller: UserId, org: OrgId) -> None:
        groups = self.attempt(self.world.service.list_org_groups(caller=caller, org_id=org))
        if groups is None:
            return
        assert self.role(org, caller) is not None
        assert all(caller in g.members and g.org_id == org for g in groups)
        assert all(g.id in self.groups for g in groups), "listed a group yc-chat did not create"

    @rule(org=orgs, user=staff_first)
    def remove_membership(self, org: OrgId, user: UserId) -> None:
        """The host removes someone in its own directory, behind the service's back."""
        self.run(self.world.directory.remove_membership(org, user))
        self.roles.pop((org, user), None)

    @rule(
        data=st.data(),
        caller=staff_first,
        org=orgs,
        user=staff_first,
        through_http=st.booleans(),
    )
    def offboard(
        self, data: st.DataObject, caller: UserId, org: OrgId, user: UserId, through_http: bool
    ) -> None:
        """An org admin removes a member (the HTTP use case), or the host, having removed
        them in its directory, offboards them (the library call); meanwhile other changes
        may hold some of their channels, which later runs (the job's) finish."""
        was_member = self.role(org, user) is not None
        # Forged channels too: one only claiming an appointment of the org is taken.
        was_in = sorted(
            cid
            for cid in self.channels | self.forged
            if (channel := self.channel(cid)) is not None and user in channel.members
        )
        busy = data.draw(st.sets(st.sampled_from(was_in)) if was_in else st.just(set()))
        held = [self._hold(cid) for cid in sorted(busy)]
        try:
            if through_http:
                outcome = self.attempt(
                    self.world.service.remove_org_member(caller=caller, org_id=org, user_id=user)
                )
                if outcome is None:
                    return
                assert self.is_admin(org, caller)
            else:
                if was_member:
                    self.remove_membership(org, user)
                outcome = self.attempt(self.world.service.offboard_member(org_id=org, user_id=user))
                if outcome is None:
                    return
        finally:
            for key in filter(None, held):
                self.run(self.world.locks.release(key, owner="another change"))
        # Every run ends within its call budget, whatever people planted on Stream.
        assert outcome.calls <= OFFBOARD_CALL_BUDGET
        assert outcome.complete or any(held)
        runs = [outcome]
        while not runs[-1].complete and len(runs) < 10:
            resume = runs[-1].resume
            runs.append(
                self.run(
                    self.world.service.offboard_member(org_id=org, user_id=user, resume=resume)
                )
            )
        assert runs[-1].complete and all(r.calls <= OFFBOARD_CALL_BUDGET for r in runs)
        # Together they report exactly the channels they took them out of, each once.
        left = [self.channel(c).category for c in was_in if user not in self.channel(c).members]
        totals = [
            sum(r.groups_left for r in runs),
            sum(r.dms_ended for r in runs),
            sum(r.appointment_chats_left for r in runs),
        ]
        assert totals == [
            left.count(ChatCategory.GROUP),
            left.count(ChatCategory.COLLEAGUE),
            left.count(ChatCategory.CLIENT),
        ]
        self.roles.pop((org, user), None)
        self.offboarded.add((org, user))

    def _hold(self, cid: ChannelId) -> str:
        """Another change holds the lock offboarding takes on the channel (none: it takes
        none, as for an appointment chat)."""
        channel = self.channel(cid)
        if channel.category is ChatCategory.CLIENT:
            return ""
        key = members_lock_key(cid) if channel.category is ChatCategory.GROUP else end_lock_key(cid)
        now = self.world.clock.now()
        until = now + timedelta(hours=1)
        assert self.run(self.world.locks.acquire(key, owner="another change", until=until, now=now))
        return key

    @precondition(lambda self: bool(self.channels))
    @rule(data=st.data(), sender=users)
    def message_posted(self, data: st.DataObject, sender: UserId) -> None:
        """Stream reports a message; the push fan-out must respect current memberships."""
        cid = data.draw(st.sampled_from(sorted(self.channels)))
        channel = self.channel(cid)
        pushed = len(self.world.notifier.sent)
        event = MessagePosted(
            channel_id=cid,
            sender_id=sender,
            sender_name=None,
            text="CONFIDENTIAL",
            has_attachments=False,
            is_system=False,
        )
        self.run(self.world.service.handle_chat_event(event_id=f"e{pushed}-{cid}", event=event))
        for notification in self.world.notifier.sent[pushed:]:
            assert self.may_see(notification.recipient_id, channel), "pushed another org's chat"

    @rule(
        person=users,
        number=st.integers(0, 5),
        data=forged_data,
        members=member_lists,
        before_setup=st.booleans(),
    )
    def forge_channel(
        self,
        person: UserId,
        number: int,
        data: dict[str, Any],
        members: list[UserId],
        before_setup: bool,
    ) -> None:
        """A person creates a channel directly on Stream with their own token."""
        cid = ChannelId(f"forged_{person}_{number}")
        state = self.world.state
        state.upsert_users([{"id": p, "name": p} for p in {person, *members}])
        if not before_setup:
            # Now, with the setup's grants: refused as Stream refuses it, nothing created.
            try:
                state.require_create_channel("GetOrCreateChannel", "messaging", person)
            except StreamAPIError as refused:
                assert refused.code == 17
                event("forge: refused")
                return
            raise AssertionError("a person may create channels despite the setup")
        # Made before the setup (or on an app without it): it exists, its creator a person.
        state.get_or_create_channel(
            "messaging", cid, created_by_id=person, data=data, members=[person, *members]
        )
        self.forged.add(cid)
        event("forge: made before the setup")

    @precondition(lambda self: bool(self.channels or self.forged))
    @rule(data=st.data(), person=staff_first, action=st.sampled_from(DIRECT_ACTIONS))
    def act_directly(self, data: st.DataObject, person: UserId, action: str) -> None:
        """A person calls Stream directly on a channel: post, add a member, rewrite the
        custom data or unfreeze, checked as Stream checks a client's call."""
        cid = data.draw(st.sampled_from(sorted(self.channels | self.forged)))
        state = self.world.state
        # Holding a token means being a Stream user.
        state.upsert_users([{"id": person, "name": person}, {"id": "pet-2", "name": "Pat"}])
        channel = state.channel("messaging", cid)
        assert channel is not None
        ours = cid in self.channels
        needed = {
            "post": permissions.CREATE_MESSAGE,
            "add_member": permissions.UPDATE_CHANNEL_MEMBERS,
            "rewrite_data": permissions.UPDATE_CHANNEL,
            "unfreeze": permissions.UPDATE_CHANNEL,
        }[action]
        before = self.snapshot()
        try:
            if action == "post":
                state.send_message(
                    "messaging", cid, text="direct", user_id=person, client_side=True
                )
            else:
                state.require_permission("UpdateChannel", needed, channel, person)
                if action == "add_member":
                    state.update_members("messaging", cid, add=["pet-2"])
                elif action == "rewrite_data":
                    state.update_channel_partial(
                        "messaging", cid, set_fields={"orgId": "org-2", "name": "Mine"}
                    )
                else:
                    state.update_channel_partial("messaging", cid, set_fields={"frozen": False})
        except StreamAPIError as refused:
            assert refused.status_code == 403, refused
            assert self.snapshot() == before, "a refused direct call changed a channel"
            event(f"direct {action}: refused ({'ours' if ours else 'forged'})")
            return
        event(f"direct {action}: allowed ({'ours' if ours else 'forged'})")
        if ours:
            # The only direct action on the service's channels: a member posting.
            assert action == "post", f"{person} could {action} in {cid}"
            assert person in channel.member_ids and not channel.frozen
        pushed = len(self.world.notifier.sent)
        if action == "post":
            posted = MessagePosted(
                channel_id=cid,
                sender_id=person,
                sender_name=None,
                text="direct",
                has_attachments=False,
                is_system=False,
            )
            try:
                self.run(
                    self.world.service.handle_chat_event(event_id=f"d{pushed}-{cid}", event=posted)
                )
            except EventIgnored as ignored:
                assert not ours and ignored.reason == EventIgnored.NOT_OURS
            sent = self.world.notifier.sent[pushed:]
            assert ours or not sent, "a message in a channel yc-chat did not create was pushed"

    @rule(minutes=st.integers(min_value=1, max_value=240))
    def time_passes(self, minutes: int) -> None:
        self.world.clock.advance(timedelta(minutes=minutes))
        self.run(self.world.service.advance_lifecycle())

    # -- invariants ----------------------------------------------------------------------

    @invariant()
    def channels_are_consistent(self) -> None:
        for cid in self.channels:
            channel = self.channel(cid)
            assert channel is not None
            assert channel.member_count == len(channel.members)
            if channel.status is not ChatStatus.ACTIVE:
                assert channel.frozen
            if cid in self.ended:
                assert channel.status is ChatStatus.ENDED and channel.frozen
            if channel.category is ChatCategory.CLIENT:
                record = self.run(self.world.appointments.get(channel.appointment_id))
                assert record is not None
                if self.role(record.org_id, record.vet_id) is not None:
                    assert channel.members == {record.pet_owner_id, record.vet_id}
                else:  # the vet left the org: offboarding or a reopening takes their seat
                    assert channel.members <= {record.pet_owner_id, record.vet_id}
                    assert record.pet_owner_id in channel.members
                assert record.chat_channel_id == cid
                if channel.is_ended:
                    assert record.chat_status is ChatStatus.ENDED

    @invariant()
    def offboarded_people_are_out_of_the_orgs_staff_chats(self) -> None:
        """Not Stream members any more, so their Stream token reads none of them, and
        nothing of the org is listed for them."""
        for org, user in self.offboarded:
            for cid in self.channels:
                channel = self.channel(cid)
                if channel.org_id == org and not (
                    channel.category is ChatCategory.CLIENT and channel.pet_owner_id == user
                ):
                    assert user not in channel.members, (org, user, cid)
            page = self.run(self.world.service.list_my_channels(caller=user))
            assert all(s.org_id != org or s.category is ChatCategory.CLIENT for s in page.channels)

    @invariant()
    def ex_members_neither_read_nor_post_the_orgs_chats(self) -> None:
        """Checked as Stream checks their own token's calls: no read, no post."""
        state = self.world.state
        for org, user in self.offboarded:
            for cid in self.channels:
                channel = state.channel("messaging", cid)
                assert channel is not None
                if channel.data.get("orgId") != org or channel.data.get("petOwnerId") == user:
                    continue
                assert not state.may(permissions.READ_CHANNEL, channel, user), (org, user, cid)
                assert not state.may(permissions.CREATE_MESSAGE, channel, user), (org, user, cid)


TestChatWorld = ChatWorld.TestCase
# Example count comes from the active profile (ci or nightly); steps per run are fixed.
TestChatWorld.settings = settings(settings(), stateful_step_count=40)
