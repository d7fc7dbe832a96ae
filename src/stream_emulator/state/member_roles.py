"""A member's standing in a channel, as Stream's UpdateChannel changes it: invitations and
their answers (`invites`, `accept_invite`, `reject_invite`) and moderators
(`add_moderators`, `demote_moderators`).

An invited user is a member flagged `invited` (an existing member is flagged too); the
answer is recorded on the member (`invite_accepted_at` or `invite_rejected_at`) and the
member stays, as Stream keeps it. Answering again is a no-op; someone never invited is
refused. `add_moderators` adds users who are not members yet, as moderators; demoting
needs a member. Events: `member.added` for whoever joins, `member.updated` for a changed
member, and `notification.invited`, `notification.invite_accepted` and
`notification.invite_rejected` for the invitee's own connections.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Final

import attrs

from stream_emulator.state import events, payloads
from stream_emulator.state.errors import id_list, input_error
from stream_emulator.state.parsing import dedupe
from stream_emulator.state.records import (
    MEMBER_ROLE,
    MODERATOR_ROLE,
    OWNER_ROLE,
    StreamChannel,
    StreamMember,
)
from stream_emulator.state.store import Store

ENDPOINT: Final = "UpdateChannel"
MAX_USERS: Final = 100


class MemberRoleOperations:
    """Mixed into `StreamState`; every operation raises `StreamAPIError`."""

    _store: Store

    def invite_members(
        self,
        channel_type: str,
        channel_id: str,
        user_ids: Sequence[str],
        *,
        message: Mapping[str, object] | None = None,
    ) -> StreamChannel:
        """Invite users: new ones join as invited members, members are flagged invited."""
        channel, now = self._begin(channel_type, channel_id, user_ids)
        draft = self._store.parse_update_message(ENDPOINT, message)
        changed: list[tuple[str, StreamMember]] = []
        for user_id in dedupe(user_ids):
            member = channel.member(user_id)
            if member is None:
                joined = StreamMember(user_id=user_id, created_at=now, invited=True)
                channel = channel.with_member(joined)
                changed.append(("member.added", joined))
            elif not member.invited:
                updated = attrs.evolve(member, invited=True)
                channel = channel.with_member(updated)
                changed.append(("member.updated", updated))
        channel = self._store.put(attrs.evolve(channel, updated_at=now))
        for kind, member in changed:
            self._announce(kind, channel, member, now)
            self._announce("notification.invited", channel, member, now)
        return self._store.post_update_message(channel, draft, now)

    def answer_invite(
        self,
        channel_type: str,
        channel_id: str,
        user_id: str,
        *,
        accept: bool,
        message: Mapping[str, object] | None = None,
    ) -> StreamChannel:
        """Accept or reject the user's invitation (again: a no-op)."""
        channel, now = self._begin(channel_type, channel_id, [user_id])
        member = channel.member(user_id)
        if member is None or not member.invited:
            raise input_error(ENDPOINT, f"user {user_id} has no invite to {channel.cid}")
        draft = self._store.parse_update_message(ENDPOINT, message)
        answered = member.invite_accepted_at if accept else member.invite_rejected_at
        if answered is None:
            updated = (
                attrs.evolve(member, invite_accepted_at=now, invite_rejected_at=None)
                if accept
                else attrs.evolve(member, invite_rejected_at=now, invite_accepted_at=None)
            )
            channel = self._store.put(attrs.evolve(channel.with_member(updated), updated_at=now))
            self._announce("member.updated", channel, updated, now)
            kind = "invite_accepted" if accept else "invite_rejected"
            self._announce(f"notification.{kind}", channel, updated, now)
        return self._store.post_update_message(channel, draft, now)

    def change_moderators(
        self,
        channel_type: str,
        channel_id: str,
        *,
        add: Sequence[str] = (),
        demote: Sequence[str] = (),
        message: Mapping[str, object] | None = None,
    ) -> StreamChannel:
        """Make users moderators (adding those not yet members) and demote others."""
        channel, now = self._begin(channel_type, channel_id, [*add, *demote])
        both = sorted(set(add) & set(demote))
        if both:
            raise input_error(
                ENDPOINT, f"users cannot be both promoted and demoted: {id_list(both)}"
            )
        strangers = [uid for uid in dedupe(demote) if channel.member(uid) is None]
        if strangers:
            raise input_error(
                ENDPOINT, f"users are not members of {channel.cid}: {id_list(strangers)}"
            )
        draft = self._store.parse_update_message(ENDPOINT, message)
        changed: list[tuple[str, StreamMember]] = []
        for user_id, role in [(u, MODERATOR_ROLE) for u in dedupe(add)] + [
            (u, MEMBER_ROLE) for u in dedupe(demote)
        ]:
            member = channel.member(user_id)
            if member is None:
                joined = StreamMember(user_id=user_id, channel_role=role, created_at=now)
                channel = channel.with_member(joined)
                changed.append(("member.added", joined))
            elif member.channel_role != role and not (
                role == MEMBER_ROLE and member.channel_role == OWNER_ROLE
            ):
                updated = attrs.evolve(member, channel_role=role)
                channel = channel.with_member(updated)
                changed.append(("member.updated", updated))
        channel = self._store.put(attrs.evolve(channel, updated_at=now))
        for kind, member in changed:
            self._announce(kind, channel, member, now)
        return self._store.post_update_message(channel, draft, now)

    def _begin(
        self, channel_type: str, channel_id: str, user_ids: Sequence[str]
    ) -> tuple[StreamChannel, datetime]:
        self._store.faults.gate()
        channel = self._store.require_channel(ENDPOINT, channel_type, channel_id)
        if len(user_ids) > MAX_USERS:
            raise input_error(ENDPOINT, f"at most {MAX_USERS} users per request")
        self._store.require_users(ENDPOINT, user_ids, operation="update")
        return channel, self._store.now()

    def _announce(
        self, kind: str, channel: StreamChannel, member: StreamMember, now: datetime
    ) -> None:
        lookup = self._store.users.get
        event = events.member_changed(kind, channel, member, lookup, now)
        if kind.startswith("notification."):
            event["channel"] = payloads.channel(channel, lookup)
        self._store.events.emit(event)
