"""Channels read back from Stream, as untrusted input.

Anyone with a Stream user token can write some of what Stream answers (message text,
and on an app without the setup step, channels and their custom data), so nothing read
here is taken as written: a record with no channel in it is skipped, a field of the wrong
type is dropped, text is cut to a bounded length with lone surrogates replaced (as Stream
itself does), an unknown category is read as the other fields say, and each is logged
once, by channel id and field name, never with the content. One bad record never fails a
list, a push or a lifecycle pass. Which channels are the service's own is decided above
this module; here a foreign channel is read like any other, so a walk can pass it by.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Final

from yc_chat.domain.channel_ids import is_valid_channel_id
from yc_chat.domain.limits import MAX_ID_LENGTH, MAX_PROVIDER_NAME, MAX_PROVIDER_TEXT
from yc_chat.domain.model import (
    AppointmentId,
    Channel,
    ChannelId,
    ChatCategory,
    ChatStatus,
    OrgId,
    UserId,
)
from yc_chat.domain.text import clean_text, is_clean

# Custom data keys, spelled as the contract fixes them: the frontends read these.
CATEGORY: Final = "chatCategory"
ORG_ID: Final = "orgId"
IS_GROUP: Final = "isGroup"
STATUS: Final = "status"
NAME: Final = "name"
IMAGE: Final = "image"
READ_ONLY: Final = "readOnly"
APPOINTMENT_ID: Final = "appointmentId"
APPOINTMENT_TIME: Final = "appointmentTime"
PET_OWNER_ID: Final = "petOwnerId"
PET_OWNER_NAME: Final = "petOwnerName"
PET_NAME: Final = "petName"
VET_ID: Final = "vetId"
# The contract's creator (group creator, DM opener, appointment vet). Stream's own
# `created_by` is always the system user for channels yc-chat creates.
CREATED_BY: Final = "createdBy"
# Stream's own top-level field, settable through channel data.
FROZEN: Final = "frozen"

logger = logging.getLogger("yc_chat.stream")

# How many distinct (channel, problem) pairs a process remembers having logged.
_LOGGED_CAPACITY: Final = 10_000


class StreamDataError(ValueError):
    """Stream answered with data this service cannot read as a channel."""


class Repairs:
    """What reading one channel had to drop or clean: field names, never their values."""

    def __init__(self) -> None:
        self.fields: set[str] = set()

    def note(self, field: str) -> None:
        self.fields.add(field)


class UntrustedLog:
    """Logs each skipped or repaired channel once per process, without its content."""

    def __init__(self, capacity: int = _LOGGED_CAPACITY) -> None:
        self._seen: set[tuple[str, str]] = set()
        self._capacity = capacity

    def once(self, channel_id: str, problem: str) -> None:
        key = (channel_id, problem)
        if key in self._seen:
            return
        if len(self._seen) >= self._capacity:
            self._seen.clear()  # a flood of bad records costs a log line each, not memory
        self._seen.add(key)
        logger.warning(
            "unreadable chat provider data", extra={"channel": channel_id, "problem": problem}
        )


def _loggable_id(state: Mapping[str, object]) -> str:
    """The channel id for a log line: only if it is one we could have written (an id is
    the one thing of a record a log line carries, so it must be one of ours to show)."""
    channel = state.get("channel")
    raw = channel.get("id") if isinstance(channel, Mapping) else None
    return raw if isinstance(raw, str) and is_valid_channel_id(raw) else "<invalid id>"


def read_channel(state: Mapping[str, object], log: UntrustedLog) -> Channel | None:
    """The channel in `state`, sanitized; None (logged once) when there is none in it."""
    repairs = Repairs()
    try:
        channel = channel_from_state(state, repairs)
    except StreamDataError as exc:
        log.once(_loggable_id(state), f"skipped: {exc}")
        return None
    if repairs.fields:
        log.once(_loggable_id(state), "repaired: " + ", ".join(sorted(repairs.fields)))
    return channel


def read_channels(states: Iterable[Mapping[str, object]], log: UntrustedLog) -> list[Channel]:
    """The readable channels among `states`, in order; the others are skipped."""
    return [c for c in (read_channel(s, log) for s in states) if c is not None]


def channel_from_state(state: Mapping[str, object], repairs: Repairs | None = None) -> Channel:
    """A domain Channel from one Stream channel state: `{channel, members, messages}`.

    Raises StreamDataError when the state has no channel in it (no channel object, or no
    id anyone could address); fields that are only odd are cleaned, dropped or read as the
    other fields say (an unknown `chatCategory`), and named in `repairs`.
    """
    notes = repairs if repairs is not None else Repairs()
    channel = state.get("channel")
    if not isinstance(channel, Mapping):
        raise StreamDataError("channel state without a channel object")
    channel_id = channel.get("id")
    # Stream checks its ids, so this is a channel no one can address: nothing to act on.
    # Any other id is kept (a walk must see it to pass it by; lists keep only ours).
    if not isinstance(channel_id, str) or not _is_id(channel_id):
        raise StreamDataError("channel object without a usable id")
    frozen = channel.get(FROZEN) is True
    appointment_id = _id(channel, APPOINTMENT_ID, notes)
    category = _category(channel, appointment_id, notes)
    last_message = _last_message(state.get("messages"))
    return Channel(
        id=ChannelId(channel_id),
        category=category,
        # Channels created outside this service may lack it; "" matches no org, so no access.
        org_id=OrgId(_id(channel, ORG_ID, notes) or ""),
        members=frozenset(_member_ids(state.get("members"), notes)),
        # Channels from before `createdBy` was written: Stream's creator was the person.
        created_by=_user_id(channel, CREATED_BY, notes) or _created_by(channel, notes),
        provider_creator=_created_by(channel, notes),
        status=_status(channel, frozen),
        frozen=frozen,
        name=_text(channel, NAME, notes),
        image=_text(channel, IMAGE, notes),
        read_only=channel.get(READ_ONLY) is True,
        appointment_id=AppointmentId(appointment_id) if appointment_id is not None else None,
        appointment_time=parse_time(channel.get(APPOINTMENT_TIME)),
        pet_owner_id=_user_id(channel, PET_OWNER_ID, notes),
        pet_owner_name=_text(channel, PET_OWNER_NAME, notes),
        pet_name=_text(channel, PET_NAME, notes),
        vet_id=_user_id(channel, VET_ID, notes),
        created_at=parse_time(channel.get("created_at")),
        last_message_at=parse_time(channel.get("last_message_at")),
        last_message_text=(
            _text(last_message, "text", notes, limit=MAX_PROVIDER_TEXT, field="message text")
            if last_message is not None
            else None
        ),
    )


def parse_time(value: object) -> datetime | None:
    """An aware UTC datetime from Stream's RFC 3339 text, or None when absent or unreadable."""
    if not isinstance(value, str) or not value or len(value) > 64:
        return None
    try:
        parsed = datetime.fromisoformat(value)
        # Stream always writes UTC; an offset-less time is read as UTC rather than local.
        # An offset that pushes it past year 1 or 9999 is unreadable, not a failure.
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _text(
    data: Mapping[str, object],
    key: str,
    notes: Repairs,
    *,
    limit: int = MAX_PROVIDER_NAME,
    field: str | None = None,
) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        notes.note(field or key)
        return None
    cleaned = clean_text(value, limit=limit)
    if cleaned != value:
        notes.note(field or key)
    return cleaned


def _id(data: Mapping[str, object], key: str, notes: Repairs) -> str | None:
    """An id field: text we could have written, or None (an id cannot be repaired)."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, str) and _is_id(value):
        return value
    notes.note(key)
    return None


def _is_id(value: str) -> bool:
    return 0 < len(value) <= MAX_ID_LENGTH and is_clean(value)


def _user_id(data: Mapping[str, object], key: str, notes: Repairs) -> UserId | None:
    value = _id(data, key, notes)
    return UserId(value) if value is not None else None


def _category(
    channel: Mapping[str, object], appointment_id: str | None, notes: Repairs
) -> ChatCategory:
    raw = channel.get(CATEGORY)
    if isinstance(raw, str) and raw in set(ChatCategory):
        return ChatCategory(raw)
    if raw is not None:
        notes.note(CATEGORY)  # not one we write: read as the other fields say
    # Older channels lack chatCategory; the other fields still say what they are.
    if channel.get(IS_GROUP) is True:
        return ChatCategory.GROUP
    if appointment_id is not None:
        return ChatCategory.CLIENT
    return ChatCategory.COLLEAGUE


def _status(channel: Mapping[str, object], frozen: bool) -> ChatStatus:
    raw = channel.get(STATUS)
    if isinstance(raw, str) and raw in set(ChatStatus):
        return ChatStatus(raw)
    # Frontends treat frozen as "Session closed"; without a status we do the same.
    return ChatStatus.ENDED if frozen else ChatStatus.ACTIVE


def _created_by(channel: Mapping[str, object], notes: Repairs) -> UserId | None:
    creator = channel.get("created_by")
    if isinstance(creator, Mapping) and creator.get("id") is not None:
        return _user_id(creator, "id", notes)
    return _user_id(channel, "created_by_id", notes)


def member_ids(members: object) -> list[UserId]:
    """The user ids of a member list (a channel's, or a QueryMembers page) we could use."""
    return _member_ids(members, Repairs())


def _member_ids(members: object, notes: Repairs) -> list[UserId]:
    if not isinstance(members, Sequence) or isinstance(members, str | bytes):
        return []
    ids: list[UserId] = []
    for item in members:
        if not isinstance(item, Mapping):
            continue
        user_id = item.get("user_id")
        if not isinstance(user_id, str):
            user = item.get("user")
            user_id = user.get("id") if isinstance(user, Mapping) else None
        if isinstance(user_id, str) and _is_id(user_id):
            ids.append(UserId(user_id))
        elif user_id is not None:
            notes.note("members")
    return ids


def _last_message(messages: object) -> Mapping[str, object] | None:
    if not isinstance(messages, Sequence) or isinstance(messages, str | bytes) or not messages:
        return None
    # Stream lists a channel's messages oldest first.
    last = messages[-1]
    return last if isinstance(last, Mapping) else None
