"""Domain <-> Stream Chat data: channel custom fields, filters, messages and errors.

Pure functions over Stream's JSON shapes (no SDK import), shared by every adapter that talks
to Stream or to its emulator, so the custom-field names the frontends read live in one place.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Final, TypeVar

# What is read back from Stream lives in `reading`; its names are this module's too.
from yc_chat.adapters.stream.reading import (
    APPOINTMENT_ID,
    APPOINTMENT_TIME,
    CATEGORY,
    CREATED_BY,
    FROZEN,
    IMAGE,
    IS_GROUP,
    NAME,
    ORG_ID,
    PET_NAME,
    PET_OWNER_ID,
    PET_OWNER_NAME,
    READ_ONLY,
    STATUS,
    VET_ID,
)
from yc_chat.adapters.stream.reading import StreamDataError as StreamDataError
from yc_chat.adapters.stream.reading import channel_from_state as channel_from_state
from yc_chat.adapters.stream.reading import parse_time as parse_time
from yc_chat.domain import errors
from yc_chat.domain.channel_ids import is_valid_channel_id
from yc_chat.domain.model import (
    SYSTEM_USER_ID,
    ChannelId,
    ChannelSpec,
    ChatStatus,
    UserId,
    UserProfile,
)
from yc_chat.domain.queries import ChannelOrder, ChannelQuery

CHANNEL_TYPE: Final = "messaging"

# last_updated is the last message's time or, for a channel without messages, its creation
# time; sorting on last_message_at would put every new, still silent chat last.
LAST_ACTIVITY_SORT: Final = ({"field": "last_updated", "direction": -1},)
# The user field Stream's revoke-by-issued-at sets: tokens with an earlier `iat` are refused.
REVOKE_TOKENS_FIELD: Final = "revoke_tokens_issued_before"
CREATION_SORT: Final = ({"field": "created_at", "direction": 1},)
# Stream answers at most 30 channels per query_channels call and pages no deeper than 1000.
QUERY_CHANNELS_MAX_LIMIT: Final = 30
QUERY_CHANNELS_MAX_OFFSET: Final = 1000
# Stream's batch limit for upserting users.
UPSERT_USERS_BATCH: Final = 100

# Channel fields Stream maintains itself: custom data may not use these names.
STREAM_MAINTAINED_CHANNEL_FIELDS: Final = frozenset(
    {
        "id",
        "type",
        "cid",
        "created_at",
        "updated_at",
        "deleted_at",
        "last_message_at",
        "created_by",
        "created_by_id",
        "member_count",
        "members",
        "config",
        "own_capabilities",
    }
)
# Fields of Stream's channel object that are Stream's, not custom data: a full update must
# not send them back (Stream maintains them or they are set through other calls).
STREAM_CHANNEL_FIELDS: Final = STREAM_MAINTAINED_CHANNEL_FIELDS | frozenset(
    {
        "frozen",
        "disabled",
        "hidden",
        "truncated_at",
        "truncated_by",
        "team",
        "cooldown",
        "auto_translation_enabled",
        "auto_translation_language",
        "message_count",
        "filter_tags",
        "blocked",
        "pinned_at",
        "archived_at",
        # Also in Stream's OpenAPI `ChannelResponse`: state of the reading user, not data.
        "custom",
        "hide_messages_before",
        "muted",
        "mute_expires_at",
    }
)

logger = logging.getLogger("yc_chat.stream")
T = TypeVar("T")


def user_data(profile: UserProfile) -> dict[str, object]:
    """The Stream user object for an upsert of `profile`."""
    body: dict[str, object] = {"id": profile.id, "name": profile.name}
    if profile.image is not None:
        body["image"] = profile.image
    return body


# Read-only announcement rooms are enforced by Stream itself: a channel-level grant
# modifier takes posting away from plain members; posters hold the moderator role.
READ_ONLY_GRANTS: Final = {"channel_member": ["!create-message"]}
POSTER_CHANNEL_ROLE: Final = "channel_moderator"


def read_only_overrides() -> dict[str, object]:
    """The channel `config_overrides` of a read-only room."""
    return {"grants": {role: list(grants) for role, grants in READ_ONLY_GRANTS.items()}}


def poster_roles(
    read_only: bool, posters: Iterable[UserId], members: Iterable[UserId]
) -> dict[str, str]:
    """Channel roles for the members of a read-only room who may still post."""
    if not read_only:
        return {}
    allowed = set(posters)
    return {str(uid): POSTER_CHANNEL_ROLE for uid in members if uid in allowed}


def channel_data(spec: ChannelSpec) -> dict[str, object]:
    """Custom data (plus Stream's top-level `frozen`) for creating the channel `spec` names."""
    data: dict[str, object] = {
        CATEGORY: spec.category.value,
        ORG_ID: spec.org_id,
        IS_GROUP: spec.is_group,
        STATUS: spec.status.value,
        READ_ONLY: spec.read_only,
        FROZEN: spec.frozen,
        CREATED_BY: spec.created_by,
    }
    optional: dict[str, object | None] = {
        NAME: spec.name,
        IMAGE: spec.image,
        APPOINTMENT_ID: spec.appointment_id,
        APPOINTMENT_TIME: (
            format_time(spec.appointment_time) if spec.appointment_time is not None else None
        ),
        PET_OWNER_ID: spec.pet_owner_id,
        PET_OWNER_NAME: spec.pet_owner_name,
        PET_NAME: spec.pet_name,
        VET_ID: spec.vet_id,
    }
    data.update({key: value for key, value in optional.items() if value is not None})
    return data


# What a channel is (and its lifecycle) never changes through a details update.
_IDENTITY_FIELDS: Final = frozenset(
    {CATEGORY, ORG_ID, IS_GROUP, STATUS, READ_ONLY, FROZEN, CREATED_BY}
)


def creation_data(spec: ChannelSpec) -> dict[str, object]:
    """Channel data for creating `spec`, with the read-only room's grant override."""
    data = channel_data(spec)
    if spec.read_only:
        data["config_overrides"] = read_only_overrides()
    return data


def creation_roles(spec: ChannelSpec) -> dict[str, str]:
    """Channel roles of the members who may post when `spec` is a read-only room."""
    return poster_roles(spec.read_only, spec.posters | {spec.created_by}, spec.members)


def details_data(spec: ChannelSpec) -> dict[str, object]:
    """The descriptive custom fields of `spec`, for a partial update of an existing channel."""
    return {k: v for k, v in channel_data(spec).items() if k not in _IDENTITY_FIELDS}


def custom_data(channel: Mapping[str, object]) -> dict[str, object]:
    """The custom data of a Stream channel object (what a full update must send back)."""
    return {key: value for key, value in channel.items() if key not in STREAM_CHANNEL_FIELDS}


def status_update_data(channel: Mapping[str, object], status: ChatStatus) -> dict[str, object]:
    """Full-update data for `channel` with `status`, frozen unless active."""
    data = custom_data(channel)
    data[STATUS] = status.value
    data[FROZEN] = status is not ChatStatus.ACTIVE
    return data


def notice_message(text: str, system_user: UserId = SYSTEM_USER_ID) -> dict[str, object]:
    """The message posted with an update: a notice from the system user."""
    return {"text": text, "user_id": system_user}


def channel_id_filter(channel_id: ChannelId) -> dict[str, object]:
    """A query filter for exactly one of our channels."""
    return {"type": CHANNEL_TYPE, "id": channel_id}


def channel_filter(query: ChannelQuery) -> dict[str, object]:
    """The Stream filter for `query`: the member's channels, narrowed by custom fields."""
    conditions: dict[str, object] = {
        "type": CHANNEL_TYPE,
        "members": {"$in": [query.member]},
    }
    narrowing: dict[str, str | None] = {
        CATEGORY: query.category.value if query.category is not None else None,
        ORG_ID: query.org_id,
        PET_OWNER_ID: query.pet_owner_id,
        VET_ID: query.vet_id,
    }
    conditions.update({key: value for key, value in narrowing.items() if value is not None})
    if query.created_from is not None:
        # Microseconds: the cursor must not fall before a channel it already passed.
        conditions["created_at"] = {"$gte": format_precise_time(query.created_from)}
    return conditions


def channel_sort(query: ChannelQuery) -> list[dict[str, object]]:
    """The Stream sort for `query`'s order."""
    order = CREATION_SORT if query.order is ChannelOrder.CREATION else LAST_ACTIVITY_SORT
    return [dict(item) for item in order]


def check_channel_id(channel_id: str) -> None:
    """Refuse, before any call, a channel id Stream would refuse.

    The use cases only pass ids they validated or derived, so this is our failure, not the
    caller's input: 502, never 400.
    """
    if not is_valid_channel_id(channel_id):
        raise errors.ProviderFailed("The chat provider does not accept this channel id")


async def read_page(
    fetch: Callable[[int, int], Awaitable[Sequence[T]]], *, limit: int, offset: int
) -> tuple[list[T], bool]:
    """`limit` items from `offset`, read in Stream-sized chunks; and whether more exist.

    Stream answers at most 30 channels per call (so a larger page takes a few calls, never
    one per channel) and pages no deeper than offset 1000; one item more than `limit` is
    read to learn whether a next page exists. `fetch(size, offset)` makes one call.
    """
    # The use cases keep pages within the product's limits; beyond Stream's capacity is a
    # provider failure, never the caller's 400.
    if limit < 1 or offset < 0:
        raise errors.ProviderFailed("Channel pages need a limit of at least 1 and an offset")
    if offset > QUERY_CHANNELS_MAX_OFFSET:
        raise errors.ProviderFailed(f"Stream lists no channels past {QUERY_CHANNELS_MAX_OFFSET}")
    wanted = limit + 1
    found: list[T] = []
    while len(found) < wanted:
        at = offset + len(found)
        if at > QUERY_CHANNELS_MAX_OFFSET:
            break  # Stream pages no deeper: what lies beyond is unreachable, not "more"
        size = min(QUERY_CHANNELS_MAX_LIMIT, wanted - len(found))
        chunk = await fetch(size, at)
        found.extend(chunk)
        if len(chunk) < size:
            break
    return found[:limit], len(found) > limit


def domain_error(status_code: int, message: str) -> errors.ChatError:
    """The domain error for a Stream error answer with HTTP `status_code`.

    The use cases validate the caller's input before calling Stream, so anything else
    Stream refuses (a directory user id Stream does not accept, our credentials) is the
    provider failing us: 502, not the caller's 400. Stream's wording goes to the log only.
    """
    if status_code == 404:
        return errors.NotFound("Channel not found", code=errors.CODE_CHANNEL_NOT_FOUND)
    logger.warning("chat provider error", extra={"status": status_code, "detail": message})
    if status_code == 400:
        missing = missing_users(message)
        if missing is not None:
            return errors.ProviderUsersMissing(user_ids=missing)
    if status_code == 429 or status_code >= 500:
        return errors.ProviderUnavailable()
    return errors.ProviderFailed(code="provider_rejected" if status_code == 400 else None)


# Stream's words for users it does not know: channel creation and member changes list them
# as a Go slice ("... but don't exist: [a b]"), a message names its one sender.
_MISSING_LIST = re.compile(r"(?:don't|do not) exist: \[([^\]]*)\]")
_MISSING_ONE = re.compile(r"\buser (\S+) (?:does not|doesn't) exist")


def missing_users(message: str) -> frozenset[str] | None:
    """The user ids a Stream error says do not exist; None when it says nothing of the kind."""
    listed = _MISSING_LIST.search(message)
    if listed is not None:
        return frozenset(listed.group(1).split())
    one = _MISSING_ONE.search(message)
    if one is not None:
        return frozenset({one.group(1).strip("\"'")})
    return None


def format_time(value: datetime) -> str:
    """ISO-8601 in UTC with milliseconds and `Z`, as JavaScript's `toISOString` writes it.

    The frontends parse `appointmentTime` with JavaScript's Date, so we write its format.
    """
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def format_precise_time(value: datetime) -> str:
    """RFC 3339 in UTC with microseconds and `Z` (for filters on Stream's own times)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
