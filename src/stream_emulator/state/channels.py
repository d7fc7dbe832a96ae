"""The channel operations of the simulated Stream API: create, update, members, messages,
queries and deletion."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence

import attrs

from stream_emulator.state import events, filters, permissions
from stream_emulator.state.errors import id_list, input_error, not_allowed
from stream_emulator.state.message_fields import with_options
from stream_emulator.state.parsing import (
    DEFAULT_QUERY_CHANNELS_LIMIT,
    DEFAULT_SORT,
    MAX_QUERY_CHANNELS_LIMIT,
    MAX_QUERY_CHANNELS_OFFSET,
    MAX_QUERY_MEMBERS_LIMIT,
    READ_ONLY_CHANNEL_FIELDS,
    check_channel_id,
    check_channel_type,
    check_filter_tags,
    check_page,
    check_roles,
    dedupe,
    split_channel_data,
)
from stream_emulator.state.records import (
    MEMBER_ROLE,
    OWNER_ROLE,
    Draft,
    StreamChannel,
    StreamMember,
    StreamMessage,
)
from stream_emulator.state.store import Store


def distinct_channel_id(member_ids: Sequence[str]) -> str:
    """Stream's id for the channel of exactly these members: the same for the same set."""
    digest = hashlib.sha256(",".join(sorted(set(member_ids))).encode()).digest()
    return "!members-" + base64.urlsafe_b64encode(digest).decode().rstrip("=")


class ChannelOperations:
    """Stream's channel endpoints over a `Store`; every operation raises `StreamAPIError`."""

    _store: Store

    def get_or_create_channel(
        self,
        channel_type: str,
        channel_id: str,
        *,
        created_by_id: str,
        data: Mapping[str, object] | None = None,
        members: Sequence[str] = (),
        member_roles: Mapping[str, str] | None = None,
        filter_tags: Sequence[str] = (),
    ) -> tuple[StreamChannel, bool]:
        """The existing channel unchanged, or a new one; True when this call created it.

        `data` is the custom data plus optional top-level `frozen` and `config_overrides`;
        creator and members are given apart, as the REST layer extracts them from Stream's
        `data` object. `member_roles` gives some members an explicit channel role.
        """
        endpoint = "GetOrCreateChannel"
        self._store.faults.gate()
        check_channel_type(endpoint, channel_type, self._store.channel_type_names())
        # A distinct channel's `!members-` id is the one valid id a caller cannot choose.
        existing = self._store.channels.get((channel_type, channel_id))
        if existing is not None:
            return existing, False
        check_channel_id(endpoint, channel_id)
        return self._create_channel(
            endpoint,
            channel_type,
            channel_id,
            created_by_id,
            data,
            members,
            member_roles,
            filter_tags,
        )

    def get_or_create_distinct_channel(
        self,
        channel_type: str,
        *,
        created_by_id: str,
        members: Sequence[str],
        data: Mapping[str, object] | None = None,
        member_roles: Mapping[str, str] | None = None,
        filter_tags: Sequence[str] = (),
    ) -> tuple[StreamChannel, bool]:
        """The one channel of exactly this member set (id `!members-` and a hash of it)."""
        endpoint = "GetOrCreateChannel"
        self._store.faults.gate()
        check_channel_type(endpoint, channel_type, self._store.channel_type_names())
        member_ids = dedupe(members)
        if not member_ids:
            raise input_error(endpoint, "a channel without an id needs data.members")
        channel_id = distinct_channel_id(member_ids)
        existing = self._store.channels.get((channel_type, channel_id))
        if existing is not None:
            return existing, False
        return self._create_channel(
            endpoint,
            channel_type,
            channel_id,
            created_by_id,
            data,
            member_ids,
            member_roles,
            filter_tags,
        )

    def _create_channel(
        self,
        endpoint: str,
        channel_type: str,
        channel_id: str,
        created_by_id: str,
        data: Mapping[str, object] | None,
        members: Sequence[str],
        member_roles: Mapping[str, str] | None,
        filter_tags: Sequence[str] = (),
    ) -> tuple[StreamChannel, bool]:
        frozen, custom, overrides = split_channel_data(endpoint, data or {}, frozen=False)
        tags = check_filter_tags(endpoint, filter_tags)
        member_ids = dedupe(members)
        roles = check_roles(endpoint, member_roles or {}, member_ids)
        self._store.require_users(endpoint, [created_by_id, *member_ids], operation="create")
        now = self._store.now()
        channel = StreamChannel(
            type=channel_type,
            id=channel_id,
            data=custom,
            created_by_id=created_by_id,
            frozen=frozen,
            created_at=now,
            updated_at=now,
            members=tuple(
                StreamMember(
                    user_id=uid,
                    channel_role=roles.get(uid)
                    or (OWNER_ROLE if uid == created_by_id else MEMBER_ROLE),
                    created_at=now,
                )
                for uid in member_ids
            ),
            config_overrides=overrides or {},
            filter_tags=tuple(tags),
        )
        self._store.channels[(channel_type, channel_id)] = channel
        self._store.messages[(channel_type, channel_id)] = []
        return channel, True

    def update_channel(
        self,
        channel_type: str,
        channel_id: str,
        data: Mapping[str, object],
        *,
        message: Mapping[str, object] | None = None,
    ) -> StreamChannel:
        """Replace the custom data (and set `frozen`), posting `message` first if given."""
        endpoint = "UpdateChannel"
        self._store.faults.gate()
        channel = self._store.require_channel(endpoint, channel_type, channel_id)
        # A full update that leaves `frozen` out unfreezes, as Stream's full replace does.
        frozen, custom, overrides = split_channel_data(endpoint, data, frozen=False)
        draft = self._store.parse_update_message(endpoint, message)
        now = self._store.now()
        channel = self._store.post_update_message(channel, draft, now)
        kept = channel.config_overrides if overrides is None else overrides
        updated = self._store.put(
            attrs.evolve(channel, data=custom, frozen=frozen, config_overrides=kept, updated_at=now)
        )
        self._store.events.emit(events.channel_updated(updated, self._store.users.get, now))
        return updated

    def update_channel_partial(
        self,
        channel_type: str,
        channel_id: str,
        *,
        set_fields: Mapping[str, object] | None = None,
        unset: Sequence[str] = (),
    ) -> StreamChannel:
        """Set and unset custom fields (and top-level `frozen`), keeping the rest."""
        endpoint = "UpdateChannelPartial"
        self._store.faults.gate()
        channel = self._store.require_channel(endpoint, channel_type, channel_id)
        to_set = dict(set_fields or {})
        both = sorted(set(to_set) & set(unset))
        if both:
            raise input_error(endpoint, f"fields cannot be both set and unset: {id_list(both)}")
        for key in unset:
            if key in READ_ONLY_CHANNEL_FIELDS:
                raise input_error(endpoint, f"field {key} cannot be unset")
        frozen, custom_set, overrides = split_channel_data(endpoint, to_set, frozen=channel.frozen)
        if "frozen" in unset:
            frozen = False
        kept: Mapping[str, object] = channel.config_overrides if overrides is None else overrides
        if overrides is None and "config_overrides" in unset:
            kept = {}
        custom = {**channel.data, **custom_set}
        for key in unset:
            custom.pop(key, None)
        now = self._store.now()
        updated = self._store.put(
            attrs.evolve(channel, data=custom, frozen=frozen, config_overrides=kept, updated_at=now)
        )
        self._store.events.emit(events.channel_updated(updated, self._store.users.get, now))
        return updated

    def update_members(
        self,
        channel_type: str,
        channel_id: str,
        *,
        add: Sequence[str] = (),
        remove: Sequence[str] = (),
        message: Mapping[str, object] | None = None,
        add_roles: Mapping[str, str] | None = None,
    ) -> StreamChannel:
        """Add and remove members in one update; members are a set, `message` is posted.

        `add_roles` gives some of the added users an explicit channel role; users who are
        members already keep theirs.
        """
        endpoint = "UpdateChannel"
        self._store.faults.gate()
        channel = self._store.require_channel(endpoint, channel_type, channel_id)
        to_add = dedupe(add)
        roles = check_roles(endpoint, add_roles or {}, to_add)
        to_remove = set(remove)
        overlap = sorted(set(to_add) & to_remove)
        if overlap:
            raise input_error(
                endpoint, f"users cannot be both added and removed: {id_list(overlap)}"
            )
        self._store.require_users(endpoint, to_add, operation="update")
        draft = self._store.parse_update_message(endpoint, message)
        now = self._store.now()
        kept = [member for member in channel.members if member.user_id not in to_remove]
        present = {member.user_id for member in kept}
        joined = [
            StreamMember(user_id=uid, channel_role=roles.get(uid, MEMBER_ROLE), created_at=now)
            for uid in to_add
            if uid not in present
        ]
        left = [member for member in channel.members if member.user_id in to_remove]
        channel = self._store.put(attrs.evolve(channel, members=(*kept, *joined), updated_at=now))
        lookup = self._store.users.get
        for kind, changed in (("member.removed", left), ("member.added", joined)):
            for member in changed:
                self._store.events.emit(events.member_changed(kind, channel, member, lookup, now))
        return self._store.post_update_message(channel, draft, now)

    def add_members(
        self,
        channel_type: str,
        channel_id: str,
        user_ids: Sequence[str],
        *,
        message: Mapping[str, object] | None = None,
    ) -> StreamChannel:
        """Add members (already-present ones are a no-op)."""
        return self.update_members(channel_type, channel_id, add=user_ids, message=message)

    def remove_members(
        self,
        channel_type: str,
        channel_id: str,
        user_ids: Sequence[str],
        *,
        message: Mapping[str, object] | None = None,
    ) -> StreamChannel:
        """Remove members (non-members are a no-op)."""
        return self.update_members(channel_type, channel_id, remove=user_ids, message=message)

    def send_message(
        self,
        channel_type: str,
        channel_id: str,
        *,
        text: str,
        user_id: str,
        attachments: Sequence[Mapping[str, object]] = (),
        message_type: str = "regular",
        message_id: str | None = None,
        client_side: bool = False,
        parent_id: str | None = None,
        show_in_channel: bool = False,
        fields: Mapping[str, object] | None = None,
        pending: bool | None = None,
        pending_metadata: Mapping[str, object] | None = None,
    ) -> StreamMessage:
        """Post a message as `user_id`; refused (403) while the channel is frozen.

        `pending` (None: as the type's `mark_messages_pending` says) holds it for its
        sender until `commit_message`, with `pending_metadata` kept beside it.

        With `parent_id` it is a thread reply to a top-level message of the same channel;
        `fields` are the message's other fields as Stream's JSON gives them (custom data,
        `pinned`, `silent`, `restricted_visibility`, `quoted_message_id`).

        `client_side` is a request authenticated as `user_id` (a user token): then Stream's
        permission checks apply too (CreateMessage; CreateReply for a reply, CreateAttachment
        with attachments; the type's grants with the channel's modifiers).
        """
        endpoint = "SendMessage"
        self._store.faults.gate()
        channel = self._store.require_channel(endpoint, channel_type, channel_id)
        draft = Draft(
            text=text,
            user_id=user_id,
            type=message_type,
            attachments=tuple(dict(item) for item in attachments),
            id=message_id,
            parent_id=parent_id,
            show_in_channel=show_in_channel,
        )
        draft = with_options(endpoint, draft, fields or {})
        if pending is None:
            settings = {**self._store.type_settings(channel_type), **channel.config_overrides}
            pending = settings.get("mark_messages_pending") is True
        draft = attrs.evolve(
            draft, pending=pending, pending_message_metadata=dict(pending_metadata or {})
        )
        self._store.check_draft(endpoint, draft)
        if draft.quoted_message_id is not None and draft.quoted_message_id not in (
            m.id for m in self._store.messages[(channel_type, channel_id)]
        ):
            raise input_error(endpoint, "quoted_message_id names no message of this channel")
        if parent_id is not None:
            self._check_parent(endpoint, channel, parent_id)
        if client_side:
            self._store.require(endpoint, permissions.CREATE_MESSAGE, channel, user_id)
            if parent_id is not None:
                self._store.require(endpoint, permissions.CREATE_REPLY, channel, user_id)
            if draft.attachments:
                self._store.require(endpoint, permissions.CREATE_ATTACHMENT, channel, user_id)
        if channel.frozen:
            raise not_allowed(endpoint, f"channel {channel.cid} is frozen")
        now = self._store.now()
        self._store.post(channel, draft, now)
        return self._store.messages[(channel_type, channel_id)][-1]

    def _check_parent(self, endpoint: str, channel: StreamChannel, parent_id: str) -> None:
        key = (channel.type, channel.id)
        parent = next((m for m in self._store.messages[key] if m.id == parent_id), None)
        if parent is None:
            raise input_error(
                endpoint, f"parent message {parent_id} does not exist in {channel.cid}"
            )
        if parent.parent_id is not None:
            raise input_error(endpoint, "a thread reply cannot be the parent of another reply")

    def query_channels(
        self,
        filter_conditions: Mapping[str, object],
        sort: Sequence[Mapping[str, object]] | None = None,
        *,
        limit: int = DEFAULT_QUERY_CHANNELS_LIMIT,
        offset: int = 0,
        reader: str | None = None,
        hidden: bool = False,
        own_view: Mapping[str, bool] | None = None,
    ) -> list[StreamChannel]:
        """Channels matching the filter, sorted, one page (limit 1..30, offset 0..1000).

        For a `reader`, only the channels they hid (`hidden`) or only those they did not,
        and as `own_view` asks: `pinned`, `archived` (their member settings), `muted`.
        """
        endpoint = "QueryChannels"
        self._store.faults.gate()
        check_page(
            endpoint,
            limit,
            offset,
            max_limit=MAX_QUERY_CHANNELS_LIMIT,
            max_offset=MAX_QUERY_CHANNELS_OFFSET,
        )
        predicate = filters.compile_channel_filter(endpoint, filter_conditions)
        order = filters.parse_sort(endpoint, DEFAULT_SORT if sort is None else sort)
        matching = [
            channel
            for channel in self._store.channels.values()
            if predicate(channel)
            and (reader is None or ((reader, channel.cid) in self._store.hidden) == hidden)
            and (reader is None or self._own_view_matches(reader, channel, own_view or {}))
        ]
        return filters.sort_channels(matching, order)[offset : offset + limit]

    def _own_view_matches(
        self, reader: str, channel: StreamChannel, wanted: Mapping[str, bool]
    ) -> bool:
        member = channel.member(reader)
        muted = self._store.channel_mutes.get((reader, channel.cid))
        now = self._store.now()
        actual = {
            "pinned": member is not None and member.pinned_at is not None,
            "archived": member is not None and member.archived_at is not None,
            "muted": muted is not None and (muted.expires is None or muted.expires > now),
        }
        return all(actual[key] == value for key, value in wanted.items())

    def query_members(
        self,
        channel_type: str,
        channel_id: str,
        *,
        limit: int = MAX_QUERY_MEMBERS_LIMIT,
        offset: int = 0,
        filter_conditions: Mapping[str, object] | None = None,
    ) -> list[StreamMember]:
        """One page of the channel's members matching the filter, in joining order.

        Filters: `id`/`user_id` and `channel_role` by value, `$eq` or `$in`; `name` by
        value or `$autocomplete` (a case-insensitive prefix of any word of the name).
        """
        endpoint = "QueryMembers"
        self._store.faults.gate()
        check_page(endpoint, limit, offset, max_limit=MAX_QUERY_MEMBERS_LIMIT)
        channel = self._store.require_channel(endpoint, channel_type, channel_id)
        wanted = filters.compile_member_filter(endpoint, filter_conditions or {})
        matching = [m for m in channel.members if wanted(m, self._store.users.get(m.user_id))]
        return matching[offset : offset + limit]

    def delete_channel(self, channel_type: str, channel_id: str) -> StreamChannel:
        """Hard-delete the channel and its messages."""
        endpoint = "DeleteChannel"
        self._store.faults.gate()
        channel = self._store.require_channel(endpoint, channel_type, channel_id)
        self._store.remove_channel(channel)
        return channel
