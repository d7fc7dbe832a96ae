"""Request parsing: Stream's validation of the arguments of each operation, before any change.

Every function raises `StreamAPIError` (an input error, 400 / code 4, mostly) naming the
endpoint, as Stream does; none reads or changes state.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, Final

from stream_emulator.state.errors import id_list, input_error, message_too_long
from stream_emulator.state.records import MEMBER_ROLE, MODERATOR_ROLE, Draft

CHANNEL_TYPES: Final = frozenset({"messaging", "livestream", "team", "gaming", "commerce"})
# Our contract's channel id rule; Stream itself rejects longer ids and reserves `!`.
CHANNEL_ID_PATTERN: Final = re.compile(r"^[a-z0-9_-]{1,64}\Z")
USER_ID_PATTERN: Final = re.compile(r"^[A-Za-z0-9@_-]{1,255}\Z")
MAX_USERS_PER_UPSERT: Final = 100
MAX_QUERY_CHANNELS_LIMIT: Final = 30
MAX_QUERY_CHANNELS_OFFSET: Final = 1000
DEFAULT_QUERY_CHANNELS_LIMIT: Final = 10
MAX_QUERY_USERS_LIMIT: Final = 100
MAX_QUERY_MEMBERS_LIMIT: Final = 300  # Stream's OpenAPI `QueryMembersPayload.limit`
MAX_MESSAGE_LENGTH: Final = 5000
MESSAGE_TYPES: Final = frozenset({"regular", "system"})
DEFAULT_SORT: Final = ({"field": "last_updated", "direction": -1},)

# Channel roles that can be given explicitly (Stream's built-in ones; custom roles would
# have to be created first, which the simulation does not offer).
ASSIGNABLE_CHANNEL_ROLES: Final = frozenset({MEMBER_ROLE, MODERATOR_ROLE})

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
# A lone surrogate ("\ud800" in JSON) is text no encoder can write; Stream stores U+FFFD.
_LONE_SURROGATE: Final = re.compile("[\ud800-\udfff]")

# Channel fields Stream maintains itself; custom data may not use these names. The
# simulation keeps its own list (not the real adapter's), so a test can catch a field the
# adapter's list lacks.
READ_ONLY_CHANNEL_FIELDS: Final = frozenset(
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
READ_ONLY_USER_FIELDS: Final = frozenset(
    {"created_at", "updated_at", "last_active", "online", "deactivated_at", "deleted_at"}
)


def check_draft_shape(endpoint: str, draft: Draft) -> None:
    """A message's own rules: a known type, some content, within the length limit."""
    if draft.type not in MESSAGE_TYPES:
        raise input_error(endpoint, f"message.type {draft.type} is not supported")
    if not draft.text and not draft.attachments:
        raise input_error(endpoint, "message must have text or attachments")
    if len(draft.text) > MAX_MESSAGE_LENGTH:
        raise message_too_long(endpoint, MAX_MESSAGE_LENGTH)


def draft_from_json(endpoint: str, raw: Mapping[str, object], *, default_type: str) -> Draft:
    """A message given as Stream JSON (`text`, `user_id` or `user.id`, `type`, ...)."""
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
    return Draft(
        text=text,
        user_id=user_id,
        type=message_type,
        attachments=tuple(dict(item) for item in attachments),
        id=message_id,
    )


def parse_user(
    endpoint: str, raw: Mapping[str, object]
) -> tuple[str, str | None, str | None, str | None, dict[str, object]]:
    """A user given as Stream JSON: id, role, name, image and the custom fields."""
    user_id = raw.get("id")
    if not isinstance(user_id, str) or not USER_ID_PATTERN.match(user_id):
        raise input_error(
            endpoint, f"{user_id!r} is not a valid user id. a-z, 0-9, @, _ and - are allowed."
        )
    role = optional_str(endpoint, "role", raw.get("role"))
    name = optional_str(endpoint, "name", raw.get("name"))
    image = optional_str(endpoint, "image", raw.get("image"))
    custom = {
        key: value
        for key, value in raw.items()
        if key not in {"id", "role", "name", "image"} and key not in READ_ONLY_USER_FIELDS
    }
    return user_id, role, name, image, custom


def optional_str(endpoint: str, field: str, value: object) -> str | None:
    """`value` when it is a string or None; an input error otherwise."""
    if value is None or isinstance(value, str):
        return value
    raise input_error(endpoint, f"{field} must be a string")


def split_channel_data(
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


def check_roles(endpoint: str, roles: Mapping[str, str], user_ids: Sequence[str]) -> dict[str, str]:
    """Explicit channel roles, each for a user being added and a role that exists."""
    given = set(user_ids)
    for user_id, role in roles.items():
        if user_id not in given:
            raise input_error(endpoint, f"a channel role is given for {user_id}, who is not added")
        if role not in ASSIGNABLE_CHANNEL_ROLES:
            raise input_error(endpoint, f"channel role {role} does not exist")
    return dict(roles)


def check_channel_type(endpoint: str, channel_type: str, modelled: Collection[str]) -> None:
    """The channel type must be one Stream knows and the emulator models (`modelled`):
    Stream's other built-in types are refused as not supported (code 4)."""
    if channel_type in modelled:
        return
    if channel_type in CHANNEL_TYPES:
        raise input_error(endpoint, f"channel type {channel_type} is not supported by the emulator")
    raise input_error(endpoint, f"channel type {channel_type!r} does not exist")


def check_channel_id(endpoint: str, channel_id: str) -> None:
    """The channel id must follow Stream's (and our contract's) id rule."""
    if "!" in channel_id:
        raise input_error(
            endpoint, "Cannot create a channel with a '!' in the ID, this is a reserved character."
        )
    if not CHANNEL_ID_PATTERN.match(channel_id):
        raise input_error(
            endpoint,
            "channel id must be 1 to 64 characters of a-z, 0-9, '-' and '_'",
        )


def check_page(
    endpoint: str,
    limit: object,
    offset: object,
    *,
    max_limit: int,
    max_offset: int | None = None,
) -> None:
    """Page size and offset within the endpoint's bounds."""
    # bool is an int in Python but never a valid page size in JSON.
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= max_limit:
        raise input_error(endpoint, f"limit must be between 1 and {max_limit}")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise input_error(endpoint, "offset must be 0 or more")
    if max_offset is not None and offset > max_offset:
        raise input_error(endpoint, f"offset must be at most {max_offset}")


def dedupe(ids: Iterable[str]) -> list[str]:
    """`ids` without repeats, in first-seen order."""
    return list(dict.fromkeys(ids))


def clean_json(value: Any) -> Any:
    """`value` with every lone surrogate in its strings (and keys) replaced with U+FFFD, as
    Stream stores text, so whatever is kept can be served back."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {clean_json(k): clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(item) for item in value]
    return value


# Stream's cap per request (its OpenAPI's maxItems); a tag's length is the emulator's.
MAX_FILTER_TAGS: Final = 10
MAX_FILTER_TAG_LENGTH: Final = 255


def check_filter_tags(endpoint: str, tags: Sequence[str]) -> list[str]:
    """Filter tags as given in one request, checked; repeats dropped."""
    if len(tags) > MAX_FILTER_TAGS or not all(0 < len(t) <= MAX_FILTER_TAG_LENGTH for t in tags):
        raise input_error(
            endpoint,
            f"filter tags: at most {MAX_FILTER_TAGS} per request, each 1 to "
            f"{MAX_FILTER_TAG_LENGTH} characters",
        )
    return list(dict.fromkeys(tags))
