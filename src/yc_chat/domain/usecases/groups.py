"""Org groups: CreateGroup and UpdateGroupMembers."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import attrs

from yc_chat.domain import errors, policies
from yc_chat.domain.channel_ids import random_group_channel_id
from yc_chat.domain.limits import MAX_GROUP_MEMBERS, MAX_GROUP_NAME
from yc_chat.domain.model import (
    SYSTEM_USER_ID,
    Channel,
    ChannelId,
    ChannelRef,
    ChannelSpec,
    ChatCategory,
    ChatStatus,
    Membership,
    OrgId,
    User,
    UserId,
    UserProfile,
)
from yc_chat.domain.provenance import is_ours
from yc_chat.domain.usecases._locks import channel_lock, members_lock_key
from yc_chat.domain.usecases.org_checks import (
    dedupe,
    deny_not_caller,
    require_caller_membership,
    require_org,
    require_org_members,
)
from yc_chat.domain.usecases.profile_sync import ProfileSync
from yc_chat.domain.validation import Problems

if TYPE_CHECKING:
    from yc_chat.ports import ChannelLocks, ChatProvider, Clock, Directory


def _join_names(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def membership_notice(actor: str, added: Sequence[str], removed: Sequence[str]) -> str:
    """The one system message describing a membership change, naming people by name."""
    parts = []
    if added:
        parts.append("added " + _join_names(sorted(added)))
    if removed:
        parts.append("removed " + _join_names(sorted(removed)))
    return f"{actor} " + " and ".join(parts) + "."


def _display_name(users: dict[UserId, User], user_id: UserId) -> str:
    user = users.get(user_id)
    return user.name if user is not None else user_id


@attrs.frozen(kw_only=True)
class CreateGroup:
    """Create an org group with the given members, the creator among them.

    Guarantees: the creator is the caller (403 `not_caller`) and a member of the org; every
    member belongs to the org (400 `not_org_member`, naming them); 2 to 100 distinct
    members. Only org admins create read-only groups, where only the creator and the org
    admins among the members may post. A client-chosen id never takes an existing channel
    (409 `channel_exists`, also when another request creates it first) nor the appointment
    or DM prefixes. Members' provider profiles are synced before the channel exists.
    """

    directory: Directory
    chat: ChatProvider
    profiles: ProfileSync
    new_channel_id: Callable[[], ChannelId] = random_group_channel_id

    async def __call__(
        self,
        *,
        caller: UserId,
        org_id: OrgId,
        name: str,
        member_ids: Sequence[UserId],
        created_by: UserId,
        is_read_only: bool = False,
        image: str | None = None,
        channel_id: ChannelId | None = None,
    ) -> ChannelRef:
        problems = Problems()
        problems.identifier("org_id", org_id)
        problems.identifier("created_by", created_by)
        trimmed = name.strip()
        problems.display_name("name", name, max_length=MAX_GROUP_NAME)
        problems.identifiers("member_ids", member_ids, max_items=MAX_GROUP_MEMBERS)
        problems.https_url("image", image)
        problems.channel_id("channel_id", channel_id, client_chosen=True)
        members = dedupe([created_by, *member_ids])
        if len(members) < 2:
            problems.add("member_ids", "a group needs at least two distinct members")
        elif len(members) > MAX_GROUP_MEMBERS:
            problems.add("member_ids", f"a group has at most {MAX_GROUP_MEMBERS} members")
        problems.check()

        await require_org(self.directory, org_id)
        if created_by != caller:
            raise deny_not_caller("created_by")
        membership = await require_caller_membership(self.directory, org_id, caller)
        if not policies.may_create_group(membership, read_only=is_read_only):
            raise errors.Forbidden(
                "Only org admins can create read-only groups", code=errors.CODE_ADMIN_ONLY
            )
        memberships = await require_org_members(self.directory, org_id, members)
        if channel_id is not None and await self.chat.get_channel(channel_id) is not None:
            raise _channel_exists()

        users = await self.directory.get_users(members)
        profiles = [UserProfile.of(user) for user in users.values()]
        await self.profiles.sync(profiles)
        spec = ChannelSpec(
            id=channel_id or self.new_channel_id(),
            category=ChatCategory.GROUP,
            org_id=org_id,
            members=frozenset(members),
            created_by=caller,
            status=ChatStatus.ACTIVE,
            name=trimmed,
            image=image,
            read_only=is_read_only,
            posters=_admins(memberships),
        )
        opened = await self.profiles.healing(profiles, lambda: self.chat.open_channel(spec))
        if not opened.created:
            # Someone created the same id between our check and the create.
            raise _channel_exists()
        return ChannelRef(channel_id=opened.channel.id, members=members)


def _admins(memberships: Mapping[UserId, Membership]) -> frozenset[UserId]:
    """Org admins may post in read-only rooms they belong to, like the creator."""
    return frozenset(uid for uid, membership in memberships.items() if membership.is_admin)


def _channel_exists() -> errors.Conflict:
    return errors.Conflict("A channel with this id already exists", code=errors.CODE_CHANNEL_EXISTS)


@attrs.frozen(kw_only=True)
class UpdateGroupMembers:
    """Add and remove group members, announcing each real change in one system message.

    Concurrent changes to one group are serialised by the `members:{group}` lock, taken
    before the one channel read, so each is decided on the state the previous one left: a
    repeated request changes nothing and posts nothing. A request that would change
    something but finds the lock held is a 409 `change_in_progress`.
    """

    directory: Directory
    chat: ChatProvider
    profiles: ProfileSync
    locks: ChannelLocks
    clock: Clock
    system_user: UserId = SYSTEM_USER_ID

    async def __call__(
        self,
        *,
        caller: UserId,
        channel_id: ChannelId,
        added_by: UserId,
        add: Sequence[UserId] = (),
        remove: Sequence[UserId] = (),
    ) -> Channel:
        problems = Problems()
        problems.channel_id("channel_id", channel_id)
        problems.identifier("added_by", added_by)
        problems.identifiers("add", add, max_items=MAX_GROUP_MEMBERS)
        problems.identifiers("remove", remove, max_items=MAX_GROUP_MEMBERS)
        if not add and not remove:
            problems.add("add", "add and remove must not both be empty")
        overlap = sorted(set(add) & set(remove))
        if overlap:
            problems.add("remove", "must not repeat ids from add: " + ", ".join(overlap))
        problems.check()

        # The lock comes first so that the one channel read is authoritative: no other
        # member change lands between it and the write. The authorization below runs on
        # that read; the lock is short-lived and lapses by itself, and writes are capped
        # per user (WRITE_RATE_LIMIT), so an unauthorised caller holds it for one read.
        async with channel_lock(self.locks, members_lock_key(channel_id), clock=self.clock) as held:
            group = _require_group(await self.chat.get_channel(channel_id), self.system_user)
            if added_by != caller:
                raise deny_not_caller("added_by")
            membership = await self.directory.get_membership(group.org_id, caller)
            if not (
                policies.may_edit_group(caller, group, membership)
                # Leaving needs a current membership too: who left the org is offboarded.
                or (membership is not None and policies.is_leaving(caller, group, add, remove))
            ):
                raise errors.Forbidden(
                    "Only the group's creator or an org admin can change its members; "
                    "others may only leave",
                    code=errors.CODE_NOT_PARTICIPANT,
                )
            added = await require_org_members(self.directory, group.org_id, dedupe(add))
            _require_open(group)
            if group.created_by is not None and group.created_by in remove:
                raise errors.Conflict(
                    "The group's creator cannot be removed",
                    code=errors.CODE_CANNOT_REMOVE_CREATOR,
                )
            if not _has_change(group, *_effective_change(group, add, remove)):
                return group  # nothing to do, whoever holds the lock: no message
            if not held:
                raise errors.Conflict(
                    "Another change to this group is in progress, try again",
                    code=errors.CODE_CHANGE_IN_PROGRESS,
                )
            return await self._apply(group, caller, add, remove, added)

    async def _apply(
        self,
        group: Channel,
        caller: UserId,
        add: Sequence[UserId],
        remove: Sequence[UserId],
        added: Mapping[UserId, Membership],
    ) -> Channel:
        to_add, to_remove = _effective_change(group, add, remove)
        if not _has_change(group, to_add, to_remove):
            return group
        users = dict(await self.directory.get_users({caller, *to_add, *to_remove}))
        joining = [UserProfile.of(users[uid]) for uid in to_add if uid in users]
        await self.profiles.sync(joining)
        if not to_add and to_remove == {caller}:
            notice = f"{_display_name(users, caller)} left the group."
        else:
            notice = membership_notice(
                _display_name(users, caller),
                [_display_name(users, uid) for uid in to_add],
                [_display_name(users, uid) for uid in to_remove],
            )
        posters = _admins(added) & to_add if group.read_only else frozenset()
        return await self.profiles.healing(
            joining,
            lambda: self.chat.change_members(
                group.id, add=to_add, remove=to_remove, notice=notice, posters=posters
            ),
        )


def _require_group(channel: Channel | None, system_user: UserId) -> Channel:
    """The channel if it is a group yc-chat created; 404 otherwise (a DM, or a channel
    someone made directly on Stream, looks like no group at all)."""
    if (
        channel is None
        or channel.category is not ChatCategory.GROUP
        or not is_ours(channel, system_user=system_user)
    ):
        raise errors.NotFound("Group not found", code=errors.CODE_GROUP_NOT_FOUND)
    return channel


def _require_open(group: Channel) -> Channel:
    """The group unless it has ended (409: ended groups cannot be edited)."""
    if group.is_ended:
        raise errors.Conflict("This group has ended", code=errors.CODE_CHAT_ENDED)
    return group


def _effective_change(
    group: Channel, add: Sequence[UserId], remove: Sequence[UserId]
) -> tuple[frozenset[UserId], frozenset[UserId]]:
    """Who would really join and leave: ids already in (for add) or out (for remove) drop."""
    return frozenset(add) - group.members, frozenset(remove) & group.members


def _has_change(group: Channel, to_add: frozenset[UserId], to_remove: frozenset[UserId]) -> bool:
    """Whether there is a change to make; 409 group_full if it would overfill the group."""
    if len((group.members | to_add) - to_remove) > MAX_GROUP_MEMBERS:
        raise errors.Conflict(
            f"A group has at most {MAX_GROUP_MEMBERS} members", code=errors.CODE_GROUP_FULL
        )
    return bool(to_add or to_remove)
