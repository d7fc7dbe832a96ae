"""An in-memory Stream Chat app: users, channels, members and messages, in Stream's own terms.

This is the state behind the fake chat provider and the Stream REST API emulator, so it
behaves like Stream where our code could tell the difference: the same validation, the same
error codes, the same limits. It is not a test spy: nothing here records calls.

Choices where Stream's behaviour is undocumented or we need one answer:

- Sending a message (`send_message`) into a frozen channel is `403` / code 17.
- A message attached to a channel update or a membership change is part of that server-side
  operation: it is posted (as type `system`) even when the channel is frozen, and before the
  update's `frozen` takes effect, so a "chat closed" notice always lands.
- `query_channels` sorts a channel without messages by its `created_at` when sorting by
  `last_message_at`; ties keep creation order (newest first when the first sort is
  descending).
- Read-only channel fields (`cid`, `member_count`, `created_at`, ...) in update data are an
  input error rather than silently dropped, so an adapter that sends them is caught.
- Permissions are checked only for client-side sends (`send_message(client_side=True)`, a
  request made with a user token): server-side calls may do anything, as on Stream. The
  check models the one action we rely on, CreateMessage, with the messaging type's default
  grants and the channel's `config_overrides.grants` modifiers (`"!create-message"` revokes).
- A full update whose data leaves `config_overrides` out keeps the channel's overrides;
  a partial `set` replaces them and `unset` clears them.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Final

import attrs

from yc_chat.adapters.fake_stream import filters, payloads
from yc_chat.adapters.fake_stream.errors import (
    StreamAPIError,
    does_not_exist,
    id_list,
    input_error,
    message_too_long,
    not_allowed,
)
from yc_chat.adapters.stream_mapping import STREAM_MAINTAINED_CHANNEL_FIELDS

Clock = Callable[[], datetime]
Event = dict[str, object]
EventListener = Callable[[Event], None]

CHANNEL_TYPES: Final = frozenset({"messaging", "livestream", "team", "gaming", "commerce"})
# Our contract's channel id rule; Stream itself rejects longer ids and reserves `!`.
CHANNEL_ID_PATTERN: Final = re.compile(r"^[a-z0-9_-]{1,64}\Z")
USER_ID_PATTERN: Final = re.compile(r"^[A-Za-z0-9@_-]{1,255}\Z")
MAX_USERS_PER_UPSERT: Final = 100
MAX_QUERY_CHANNELS_LIMIT: Final = 30
MAX_QUERY_CHANNELS_OFFSET: Final = 1000
DEFAULT_QUERY_CHANNELS_LIMIT: Final = 10
MAX_QUERY_USERS_LIMIT: Final = 100
MAX_MESSAGE_LENGTH: Final = 5000
MESSAGE_TYPES: Final = frozenset({"regular", "system"})
DEFAULT_SORT: Final = ({"field": "last_updated", "direction": -1},)

OWNER_ROLE: Final = "owner"
MEMBER_ROLE: Final = "channel_member"
MODERATOR_ROLE: Final = "channel_moderator"
DEFAULT_USER_ROLE: Final = "user"
# Channel roles that can be given explicitly (Stream's built-in ones; custom roles would
# have to be created first, which the model does not offer).
ASSIGNABLE_CHANNEL_ROLES: Final = frozenset({MEMBER_ROLE, MODERATOR_ROLE})
MAX_QUERY_MEMBERS_LIMIT: Final = 300  # Stream's OpenAPI `QueryMembersPayload.limit`

# The messaging type's default grants for CreateMessage (Stream's permissions reference):
# channel members and moderators may post, the global `user` role only in channels it owns.
# The model's creator role `owner` counts as a channel member (on Stream the creator is a
# `channel_member` whose ownership comes from `created_by`).
CREATE_MESSAGE: Final = "create-message"
CREATE_MESSAGE_OWNER: Final = "create-message-owner"
_DEFAULT_MESSAGE_GRANTS: Final[dict[str, frozenset[str]]] = {
    "admin": frozenset({CREATE_MESSAGE}),
    "moderator": frozenset({CREATE_MESSAGE}),
    DEFAULT_USER_ROLE: frozenset({CREATE_MESSAGE_OWNER}),
    MEMBER_ROLE: frozenset({CREATE_MESSAGE}),
    MODERATOR_ROLE: frozenset({CREATE_MESSAGE}),
}
# The channel-level settings Stream lets `config_overrides` change (its OpenAPI
# `ChannelConfigOverrides`); anything else there is an input error.
CONFIG_OVERRIDE_KEYS: Final = frozenset(
    {
        "blocklist",
        "blocklist_behavior",
        "chat_preferences",
        "commands",
        "count_messages",
        "grants",
        "max_message_length",
        "push_level",
        "quotes",
        "reactions",
        "replies",
        "shared_locations",
        "typing_events",
        "uploads",
        "url_enrichment",
        "user_message_reminders",
    }
)
_GRANT_PATTERN: Final = re.compile(r"^!?[a-z][a-z0-9-]{0,99}\Z")

# Channel fields Stream maintains itself; custom data may not use these names.
READ_ONLY_CHANNEL_FIELDS: Final = STREAM_MAINTAINED_CHANNEL_FIELDS
READ_ONLY_USER_FIELDS: Final = frozenset(
    {"created_at", "updated_at", "last_active", "online", "deactivated_at", "deleted_at"}
)


def system_clock() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


@attrs.frozen(kw_only=True)
class StreamUser:
    """A Stream user: id, role, the well-known `name`/`image` and any custom fields."""

    id: str
    role: str = DEFAULT_USER_ROLE
    name: str | None = None
    image: str | None = None
    custom: Mapping[str, object] = attrs.field(factory=dict)
    created_at: datetime
    updated_at: datetime


@attrs.frozen(kw_only=True)
class StreamMember:
    """A channel member: the user and when and with which channel role they joined."""

    user_id: str
    channel_role: str = MEMBER_ROLE
    created_at: datetime


@attrs.frozen(kw_only=True)
class StreamMessage:
    """A message in a channel; `type` is `regular` or `system`."""

    id: str
    cid: str
    text: str
    user_id: str
    type: str = "regular"
    attachments: tuple[Mapping[str, object], ...] = ()
    created_at: datetime


@attrs.frozen(kw_only=True)
class StreamChannel:
    """A channel: reserved fields Stream maintains plus the custom `data` dict."""

    type: str
    id: str
    data: Mapping[str, object] = attrs.field(factory=dict)
    created_by_id: str
    frozen: bool = False
    created_at: datetime
    updated_at: datetime
    last_message_at: datetime | None = None
    # An ordered set: insertion order, no repeats (the operations keep it so).
    members: tuple[StreamMember, ...] = ()
    # Channel-level settings (`grants` modifiers among them); never part of custom data.
    config_overrides: Mapping[str, object] = attrs.field(factory=dict)

    @property
    def cid(self) -> str:
        """Stream's full channel id, `type:id`."""
        return f"{self.type}:{self.id}"

    @property
    def member_count(self) -> int:
        """Derived, as Stream derives it: never stored, never settable."""
        return len(self.members)

    @property
    def member_ids(self) -> tuple[str, ...]:
        """Member user ids in joining order."""
        return tuple(member.user_id for member in self.members)

    def member(self, user_id: str) -> StreamMember | None:
        """The member record of `user_id`, or None."""
        return next((m for m in self.members if m.user_id == user_id), None)


@attrs.define
class _Faults:
    """Injected failures: a queue of one-shot errors and a sticky "unreachable" switch."""

    queued: list[StreamAPIError] = attrs.field(factory=list)
    unavailable: bool = False


class StreamState:
    """One Stream Chat app held in memory; every API operation raises `StreamAPIError`."""

    def __init__(self, *, clock: Clock = system_clock) -> None:
        self._clock = clock
        self._users: dict[str, StreamUser] = {}
        # Insertion order is creation order: query_channels uses it to break ties.
        self._channels: dict[tuple[str, str], StreamChannel] = {}
        self._messages: dict[tuple[str, str], list[StreamMessage]] = {}
        self._message_ids: set[str] = set()
        self._listeners: list[EventListener] = []
        self._faults = _Faults()

    # -- failure switch -------------------------------------------------------------------

    def fail_next(self, count: int = 1, *, status_code: int = 503, message: str = "") -> None:
        """Make the next `count` API operations fail with `status_code`, as Stream would."""
        text = message or f"injected failure with status {status_code}"
        self._faults.queued.extend(
            StreamAPIError.for_status(status_code, text) for _ in range(count)
        )

    def set_unavailable(self, unavailable: bool = True) -> None:
        """While set, every API operation fails with 503 (Stream unreachable)."""
        self._faults.unavailable = unavailable

    def _gate(self) -> None:
        if self._faults.unavailable:
            raise StreamAPIError.for_status(503, "service unavailable")
        if self._faults.queued:
            raise self._faults.queued.pop(0)

    # -- events ---------------------------------------------------------------------------

    def subscribe(self, listener: EventListener) -> Callable[[], None]:
        """Call `listener` with each Stream-shaped event; returns the unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _emit(self, event: Event) -> None:
        for listener in list(self._listeners):
            listener(event)

    # -- inspection (not API operations: never fail, never emit) ---------------------------

    def now(self) -> datetime:
        """The model's current time, from its clock, in UTC."""
        value = self._clock()
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("the clock must return an aware datetime")
        return value.astimezone(UTC)

    def user(self, user_id: str) -> StreamUser | None:
        """The user, or None."""
        return self._users.get(user_id)

    def channel(self, channel_type: str, channel_id: str) -> StreamChannel | None:
        """The channel, or None."""
        return self._channels.get((channel_type, channel_id))

    def messages(self, channel_type: str, channel_id: str) -> tuple[StreamMessage, ...]:
        """The channel's messages, oldest first."""
        return tuple(self._messages.get((channel_type, channel_id), ()))

    def channel_state(
        self,
        channel: StreamChannel,
        *,
        message_limit: int = 25,
        member_limit: int | None = 100,
    ) -> dict[str, object]:
        """The channel as Stream's query endpoints answer it: channel, members, messages."""
        return payloads.channel_state(
            channel,
            self.messages(channel.type, channel.id),
            self._users.get,
            message_limit=message_limit,
            member_limit=member_limit,
        )

    # -- users ----------------------------------------------------------------------------

    def upsert_users(self, users: Sequence[Mapping[str, object]]) -> dict[str, StreamUser]:
        """Create or fully replace users (up to 100); the whole batch fails on any error."""
        endpoint = "UpdateUsers"
        self._gate()
        if not users:
            raise input_error(endpoint, "users is a required field")
        if len(users) > MAX_USERS_PER_UPSERT:
            raise input_error(endpoint, f"users must contain at most {MAX_USERS_PER_UPSERT} items")
        now = self.now()
        parsed = [_parse_user(endpoint, raw) for raw in users]
        result: dict[str, StreamUser] = {}
        updated: list[StreamUser] = []
        for user_id, role, name, image, custom in parsed:
            existing = self._users.get(user_id)
            user = StreamUser(
                id=user_id,
                role=role or DEFAULT_USER_ROLE,
                name=name,
                image=image,
                custom=custom,
                created_at=existing.created_at if existing is not None else now,
                updated_at=now,
            )
            self._users[user_id] = user
            result[user_id] = user
            if existing is not None:
                updated.append(user)
        for user in updated:
            self._emit(self._user_event("user.updated", user, now))
        return result

    def get_user(self, user_id: str) -> StreamUser:
        """The user; 404 when there is none."""
        self._gate()
        user = self._users.get(user_id)
        if user is None:
            raise does_not_exist("GetUser", f"user {user_id} does not exist")
        return user

    def partial_update_user(
        self,
        user_id: str,
        *,
        set_fields: Mapping[str, object] | None = None,
        unset: Sequence[str] = (),
    ) -> StreamUser:
        """Set and unset some of a user's fields, keeping the rest."""
        endpoint = "UpdateUsersPartial"
        self._gate()
        user = self._users.get(user_id)
        if user is None:
            raise does_not_exist(endpoint, f"user {user_id} does not exist")
        to_set = dict(set_fields or {})
        if not to_set and not unset:
            raise input_error(endpoint, "set or unset must be given")
        both = sorted(set(to_set) & set(unset))
        if both:
            raise input_error(endpoint, f"fields cannot be both set and unset: {id_list(both)}")
        for key in [*to_set, *unset]:
            if key == "id" or key in READ_ONLY_USER_FIELDS:
                raise input_error(endpoint, f"field {key} cannot be updated")
        role = _optional_str(endpoint, "role", to_set.pop("role", user.role))
        name = _optional_str(endpoint, "name", to_set.pop("name", user.name))
        image = _optional_str(endpoint, "image", to_set.pop("image", user.image))
        custom = {**user.custom, **to_set}
        for key in unset:
            if key == "role":
                role = DEFAULT_USER_ROLE
            elif key == "name":
                name = None
            elif key == "image":
                image = None
            else:
                custom.pop(key, None)
        now = self.now()
        updated = attrs.evolve(
            user,
            role=role or DEFAULT_USER_ROLE,
            name=name,
            image=image,
            custom=custom,
            updated_at=now,
        )
        self._users[user_id] = updated
        self._emit(self._user_event("user.updated", updated, now))
        return updated

    def query_users(
        self,
        filter_conditions: Mapping[str, object],
        *,
        limit: int = 30,
        offset: int = 0,
    ) -> list[StreamUser]:
        """Users by id (`id` with `$eq`/`$in` or plain equality), in creation order."""
        endpoint = "QueryUsers"
        self._gate()
        _check_page(endpoint, limit, offset, max_limit=MAX_QUERY_USERS_LIMIT)
        wanted = filters.user_ids_filter(endpoint, filter_conditions)
        found = [user for user in self._users.values() if user.id in wanted]
        return found[offset : offset + limit]

    # -- channels -------------------------------------------------------------------------

    def get_or_create_channel(
        self,
        channel_type: str,
        channel_id: str,
        *,
        created_by_id: str,
        data: Mapping[str, object] | None = None,
        members: Sequence[str] = (),
        member_roles: Mapping[str, str] | None = None,
    ) -> tuple[StreamChannel, bool]:
        """The existing channel unchanged, or a new one; True when this call created it.

        `data` is the custom data plus optional top-level `frozen` and `config_overrides`;
        creator and members are given apart, as the REST layer extracts them from Stream's
        `data` object. `member_roles` gives some members an explicit channel role.
        """
        endpoint = "GetOrCreateChannel"
        self._gate()
        _check_channel_type(endpoint, channel_type)
        _check_channel_id(endpoint, channel_id)
        existing = self._channels.get((channel_type, channel_id))
        if existing is not None:
            return existing, False
        frozen, custom, overrides = _split_channel_data(endpoint, data or {}, frozen=False)
        member_ids = _dedupe(members)
        roles = _check_roles(endpoint, member_roles or {}, member_ids)
        missing = [uid for uid in _dedupe([created_by_id, *member_ids]) if uid not in self._users]
        if missing:
            raise input_error(
                endpoint,
                "The following users are involved in channel create operation, but don't "
                f"exist: {id_list(missing)}. Please create the user objects before setting up "
                "the channel.",
            )
        now = self.now()
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
        )
        self._channels[(channel_type, channel_id)] = channel
        self._messages[(channel_type, channel_id)] = []
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
        self._gate()
        channel = self._require_channel(endpoint, channel_type, channel_id)
        # A full update that leaves `frozen` out unfreezes, as Stream's full replace does.
        frozen, custom, overrides = _split_channel_data(endpoint, data, frozen=False)
        draft = self._parse_update_message(endpoint, message)
        now = self.now()
        if draft is not None:
            channel = self._post(channel, draft, now)
        kept = channel.config_overrides if overrides is None else overrides
        return self._store(
            attrs.evolve(channel, data=custom, frozen=frozen, config_overrides=kept, updated_at=now)
        )

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
        self._gate()
        channel = self._require_channel(endpoint, channel_type, channel_id)
        to_set = dict(set_fields or {})
        both = sorted(set(to_set) & set(unset))
        if both:
            raise input_error(endpoint, f"fields cannot be both set and unset: {id_list(both)}")
        for key in unset:
            if key in READ_ONLY_CHANNEL_FIELDS:
                raise input_error(endpoint, f"field {key} cannot be unset")
        frozen, custom_set, overrides = _split_channel_data(endpoint, to_set, frozen=channel.frozen)
        if "frozen" in unset:
            frozen = False
        kept: Mapping[str, object] = channel.config_overrides if overrides is None else overrides
        if overrides is None and "config_overrides" in unset:
            kept = {}
        custom = {**channel.data, **custom_set}
        for key in unset:
            custom.pop(key, None)
        return self._store(
            attrs.evolve(
                channel,
                data=custom,
                frozen=frozen,
                config_overrides=kept,
                updated_at=self.now(),
            )
        )

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
        self._gate()
        channel = self._require_channel(endpoint, channel_type, channel_id)
        to_add = _dedupe(add)
        roles = _check_roles(endpoint, add_roles or {}, to_add)
        to_remove = set(remove)
        overlap = sorted(set(to_add) & to_remove)
        if overlap:
            raise input_error(
                endpoint, f"users cannot be both added and removed: {id_list(overlap)}"
            )
        missing = [uid for uid in to_add if uid not in self._users]
        if missing:
            raise input_error(
                endpoint,
                "The following users are involved in channel update operation, but don't "
                f"exist: {id_list(missing)}",
            )
        draft = self._parse_update_message(endpoint, message)
        now = self.now()
        kept = [member for member in channel.members if member.user_id not in to_remove]
        present = {member.user_id for member in kept}
        joined = [
            StreamMember(user_id=uid, channel_role=roles.get(uid, MEMBER_ROLE), created_at=now)
            for uid in to_add
            if uid not in present
        ]
        channel = self._store(attrs.evolve(channel, members=(*kept, *joined), updated_at=now))
        if draft is not None:
            channel = self._post(channel, draft, now)
        return channel

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
    ) -> StreamMessage:
        """Post a message as `user_id`; refused (403) while the channel is frozen.

        `client_side` is a request authenticated as `user_id` (a user token): then Stream's
        permission check applies too (CreateMessage, with the channel's grant modifiers).
        """
        endpoint = "SendMessage"
        self._gate()
        channel = self._require_channel(endpoint, channel_type, channel_id)
        draft = _Draft(
            text=text,
            user_id=user_id,
            type=message_type,
            attachments=tuple(dict(item) for item in attachments),
            id=message_id,
        )
        self._check_draft(endpoint, draft)
        if client_side:
            self._check_may_post(endpoint, channel, user_id)
        if channel.frozen:
            raise not_allowed(endpoint, f"channel {channel.cid} is frozen")
        now = self.now()
        self._post(channel, draft, now)
        return self._messages[(channel_type, channel_id)][-1]

    def query_channels(
        self,
        filter_conditions: Mapping[str, object],
        sort: Sequence[Mapping[str, object]] | None = None,
        *,
        limit: int = DEFAULT_QUERY_CHANNELS_LIMIT,
        offset: int = 0,
    ) -> list[StreamChannel]:
        """Channels matching the filter, sorted, one page (limit 1..30, offset 0..1000)."""
        endpoint = "QueryChannels"
        self._gate()
        _check_page(
            endpoint,
            limit,
            offset,
            max_limit=MAX_QUERY_CHANNELS_LIMIT,
            max_offset=MAX_QUERY_CHANNELS_OFFSET,
        )
        predicate = filters.compile_channel_filter(endpoint, filter_conditions)
        order = filters.parse_sort(endpoint, DEFAULT_SORT if sort is None else sort)
        matching = [channel for channel in self._channels.values() if predicate(channel)]
        return filters.sort_channels(matching, order)[offset : offset + limit]

    def query_members(
        self,
        channel_type: str,
        channel_id: str,
        *,
        limit: int = MAX_QUERY_MEMBERS_LIMIT,
        offset: int = 0,
    ) -> list[StreamMember]:
        """One page of the channel's members in joining order (limit 1..300)."""
        endpoint = "QueryMembers"
        self._gate()
        _check_page(endpoint, limit, offset, max_limit=MAX_QUERY_MEMBERS_LIMIT)
        channel = self._require_channel(endpoint, channel_type, channel_id)
        return list(channel.members[offset : offset + limit])

    def delete_channel(self, channel_type: str, channel_id: str) -> StreamChannel:
        """Hard-delete the channel and its messages."""
        endpoint = "DeleteChannel"
        self._gate()
        channel = self._require_channel(endpoint, channel_type, channel_id)
        now = self.now()
        event: Event = {
            "type": "channel.deleted",
            "cid": channel.cid,
            "channel_id": channel.id,
            "channel_type": channel.type,
            "channel": payloads.channel(channel, self._users.get),
            "created_at": payloads.format_time(now),
        }
        del self._channels[(channel_type, channel_id)]
        for message in self._messages.pop((channel_type, channel_id), []):
            self._message_ids.discard(message.id)
        self._emit(event)
        return channel

    def app_settings(self) -> dict[str, object]:
        """A minimal answer of Stream's app endpoint; callers use it as a health check."""
        self._gate()
        return {"app": {"name": "yc-chat fake stream", "channel_configs": {}}}

    # -- internals ------------------------------------------------------------------------

    def _require_channel(self, endpoint: str, channel_type: str, channel_id: str) -> StreamChannel:
        channel = self._channels.get((channel_type, channel_id))
        if channel is None:
            raise does_not_exist(
                endpoint, f"Can't find channel with id {channel_type}:{channel_id}"
            )
        return channel

    def _store(self, channel: StreamChannel) -> StreamChannel:
        self._channels[(channel.type, channel.id)] = channel
        return channel

    def _check_may_post(self, endpoint: str, channel: StreamChannel, user_id: str) -> None:
        user = self._users.get(user_id)
        member = channel.member(user_id)
        roles = [user.role if user is not None else DEFAULT_USER_ROLE]
        if member is not None:
            roles.append(MEMBER_ROLE if member.channel_role == OWNER_ROLE else member.channel_role)
        grants: set[str] = set()
        for role in roles:
            grants |= _effective_grants(channel, role)
        owns = channel.created_by_id == user_id
        if CREATE_MESSAGE in grants or (owns and CREATE_MESSAGE_OWNER in grants):
            return
        raise not_allowed(
            endpoint,
            f"User '{user_id}' with role '{roles[0]}' is not allowed to perform action "
            f"CreateMessage in scope '{channel.type}'",
        )

    def _parse_update_message(
        self, endpoint: str, message: Mapping[str, object] | None
    ) -> _Draft | None:
        if message is None:
            return None
        draft = _draft_from_json(endpoint, message, default_type="system")
        self._check_draft(endpoint, draft)
        return draft

    def _check_draft(self, endpoint: str, draft: _Draft) -> None:
        if draft.type not in MESSAGE_TYPES:
            raise input_error(endpoint, f"message.type {draft.type} is not supported")
        if not draft.text and not draft.attachments:
            raise input_error(endpoint, "message must have text or attachments")
        if len(draft.text) > MAX_MESSAGE_LENGTH:
            raise message_too_long(endpoint, MAX_MESSAGE_LENGTH)
        if draft.user_id not in self._users:
            raise input_error(endpoint, f"user {draft.user_id} does not exist")
        if draft.id is not None and draft.id in self._message_ids:
            raise input_error(endpoint, f"a message with id {draft.id} already exists")

    def _post(self, channel: StreamChannel, draft: _Draft, now: datetime) -> StreamChannel:
        message = StreamMessage(
            id=draft.id or str(uuid.uuid4()),
            cid=channel.cid,
            text=draft.text,
            user_id=draft.user_id,
            type=draft.type,
            attachments=draft.attachments,
            created_at=now,
        )
        self._messages[(channel.type, channel.id)].append(message)
        self._message_ids.add(message.id)
        channel = self._store(attrs.evolve(channel, last_message_at=now))
        self._emit(
            {
                "type": "message.new",
                "cid": channel.cid,
                "channel_id": channel.id,
                "channel_type": channel.type,
                "message": payloads.message(message, self._users.get),
                "user": payloads.user_or_id(message.user_id, self._users.get),
                "watcher_count": 0,
                "created_at": payloads.format_time(now),
            }
        )
        return channel

    def _user_event(self, event_type: str, user: StreamUser, now: datetime) -> Event:
        return {
            "type": event_type,
            "user": payloads.user(user),
            "created_at": payloads.format_time(now),
        }


@attrs.frozen(kw_only=True)
class _Draft:
    """A message about to be posted, validated before any state changes."""

    text: str
    user_id: str
    type: str
    attachments: tuple[Mapping[str, object], ...] = ()
    id: str | None = None


def _draft_from_json(endpoint: str, raw: Mapping[str, object], *, default_type: str) -> _Draft:
    text = raw.get("text", "")
    if not isinstance(text, str):
        raise input_error(endpoint, "message.text must be a string")
    user_id = raw.get("user_id")
    user = raw.get("user")
    if user_id is None and isinstance(user, Mapping):
        user_id = user.get("id")
    if not isinstance(user_id, str):
        raise input_error(endpoint, "message.user_id or message.user.id is required")
    message_type = raw.get("type", default_type)
    if not isinstance(message_type, str):
        raise input_error(endpoint, "message.type must be a string")
    attachments = raw.get("attachments", ())
    if not isinstance(attachments, list | tuple) or not all(
        isinstance(item, Mapping) for item in attachments
    ):
        raise input_error(endpoint, "message.attachments must be a list of objects")
    message_id = raw.get("id")
    if message_id is not None and not isinstance(message_id, str):
        raise input_error(endpoint, "message.id must be a string")
    return _Draft(
        text=text,
        user_id=user_id,
        type=message_type,
        attachments=tuple(dict(item) for item in attachments),
        id=message_id,
    )


def _parse_user(
    endpoint: str, raw: Mapping[str, object]
) -> tuple[str, str | None, str | None, str | None, dict[str, object]]:
    user_id = raw.get("id")
    if not isinstance(user_id, str) or not USER_ID_PATTERN.match(user_id):
        raise input_error(
            endpoint, f"{user_id!r} is not a valid user id. a-z, 0-9, @, _ and - are allowed."
        )
    role = _optional_str(endpoint, "role", raw.get("role"))
    name = _optional_str(endpoint, "name", raw.get("name"))
    image = _optional_str(endpoint, "image", raw.get("image"))
    custom = {
        key: value
        for key, value in raw.items()
        if key not in {"id", "role", "name", "image"} and key not in READ_ONLY_USER_FIELDS
    }
    return user_id, role, name, image, custom


def _optional_str(endpoint: str, field: str, value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise input_error(endpoint, f"{field} must be a string")


def _split_channel_data(
    endpoint: str, data: Mapping[str, object], *, frozen: bool
) -> tuple[bool, dict[str, object], dict[str, object] | None]:
    """Top-level `frozen` (default `frozen`), the custom data and `config_overrides` (None
    when absent), rejecting read-only fields."""
    custom: dict[str, object] = {}
    overrides: dict[str, object] | None = None
    for key, value in data.items():
        if key == "frozen":
            if not isinstance(value, bool):
                raise input_error(endpoint, "data.frozen must be a boolean")
            frozen = value
        elif key == "config_overrides":
            overrides = _check_overrides(endpoint, value)
        elif key in READ_ONLY_CHANNEL_FIELDS or key.startswith("$"):
            raise input_error(endpoint, f"data.{key} is a reserved field and cannot be set")
        else:
            custom[key] = value
    return frozen, custom, overrides


def _check_overrides(endpoint: str, value: object) -> dict[str, object]:
    if not isinstance(value, Mapping):
        raise input_error(endpoint, "config_overrides must be an object")
    unknown = sorted(str(key) for key in value if key not in CONFIG_OVERRIDE_KEYS)
    if unknown:
        raise input_error(endpoint, f"config_overrides cannot set {id_list(unknown)}")
    grants = value.get("grants")
    if grants is not None:
        if not isinstance(grants, Mapping):
            raise input_error(endpoint, "config_overrides.grants must be an object")
        for role, modifiers in grants.items():
            if not isinstance(modifiers, list) or not all(
                isinstance(item, str) and _GRANT_PATTERN.match(item) for item in modifiers
            ):
                raise input_error(
                    endpoint, f"config_overrides.grants.{role} must be a list of permission ids"
                )
    # A deep copy: the caller's dicts must not alias the stored state.
    return {str(key): copy.deepcopy(item) for key, item in value.items()}


def _effective_grants(channel: StreamChannel, role: str) -> set[str]:
    """The role's default messaging grants changed by the channel's grant modifiers."""
    granted = set(_DEFAULT_MESSAGE_GRANTS.get(role, frozenset()))
    grants = channel.config_overrides.get("grants")
    modifiers = grants.get(role, []) if isinstance(grants, Mapping) else []
    for modifier in modifiers if isinstance(modifiers, list) else []:
        if isinstance(modifier, str) and modifier.startswith("!"):
            granted.discard(modifier[1:])
        elif isinstance(modifier, str):
            granted.add(modifier)
    return granted


def _check_roles(
    endpoint: str, roles: Mapping[str, str], user_ids: Sequence[str]
) -> dict[str, str]:
    given = set(user_ids)
    for user_id, role in roles.items():
        if user_id not in given:
            raise input_error(endpoint, f"a channel role is given for {user_id}, who is not added")
        if role not in ASSIGNABLE_CHANNEL_ROLES:
            raise input_error(endpoint, f"channel role {role} does not exist")
    return dict(roles)


def _check_channel_type(endpoint: str, channel_type: str) -> None:
    if channel_type not in CHANNEL_TYPES:
        raise input_error(endpoint, f"channel type {channel_type!r} does not exist")


def _check_channel_id(endpoint: str, channel_id: str) -> None:
    if "!" in channel_id:
        raise input_error(
            endpoint, "Cannot create a channel with a '!' in the ID, this is a reserved character."
        )
    if not CHANNEL_ID_PATTERN.match(channel_id):
        raise input_error(
            endpoint,
            "channel id must be 1 to 64 characters of a-z, 0-9, '-' and '_'",
        )


def _check_page(
    endpoint: str,
    limit: object,
    offset: object,
    *,
    max_limit: int,
    max_offset: int | None = None,
) -> None:
    # bool is an int in Python but never a valid page size in JSON.
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= max_limit:
        raise input_error(endpoint, f"limit must be between 1 and {max_limit}")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise input_error(endpoint, "offset must be 0 or more")
    if max_offset is not None and offset > max_offset:
        raise input_error(endpoint, f"offset must be at most {max_offset}")


def _dedupe(ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(ids))
