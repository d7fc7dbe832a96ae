"""A message's optional fields as Stream's JSON gives them: custom data, pinning, silence,
restricted visibility and the quoted message; parsed before any change.

Custom fields are whatever a message carries that Stream does not reserve (flattened, or
under `custom`). The fields Stream writes itself (counts, reactions, timestamps, ...) are
ignored when a client echoes a whole message back, as the SDKs' full updates do.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Final

import attrs

from stream_emulator.state.errors import input_error
from stream_emulator.state.records import Draft

# Message fields with a meaning of their own (what a client may set).
SETTABLE: Final = frozenset(
    {
        "id",
        "text",
        "type",
        "user",
        "user_id",
        "attachments",
        "parent_id",
        "show_in_channel",
        "silent",
        "pinned",
        "pin_expires",
        "restricted_visibility",
        "quoted_message_id",
        "mentioned_users",
        "custom",
    }
)
# Fields Stream writes in its answers; a client echoing them back changes nothing.
SERVER_WRITTEN: Final = frozenset(
    {
        "cid",
        "html",
        "created_at",
        "updated_at",
        "deleted_at",
        "latest_reactions",
        "own_reactions",
        "reaction_counts",
        "reaction_scores",
        "reaction_groups",
        "reply_count",
        "deleted_reply_count",
        "shadowed",
        "mentioned_channel",
        "mentioned_here",
        "pinned_at",
        "pinned_by",
        "quoted_message",
        "thread_participants",
        "i18n",
        "status",
        "channel",
        "member",
        "message_text_updated_at",
        "before_message_send_failed",
        "command",
        "args",
    }
)


def parse_time(endpoint: str, key: str, value: object) -> datetime | None:
    """An RFC 3339 time (or null)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise input_error(endpoint, f"{key} must be an RFC 3339 time")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise input_error(endpoint, f"{key} must be an RFC 3339 time") from None
    if parsed.tzinfo is None:
        raise input_error(endpoint, f"{key} needs a time zone")
    return parsed


def custom_fields(endpoint: str, raw: Mapping[str, object]) -> dict[str, object]:
    """The message's custom data: unreserved keys, and those under `custom`."""
    custom: dict[str, object] = {}
    nested = raw.get("custom")
    if nested is not None:
        if not isinstance(nested, Mapping):
            raise input_error(endpoint, "message.custom must be an object")
        custom.update(nested)
    for key, value in raw.items():
        if key not in SETTABLE and key not in SERVER_WRITTEN:
            custom[key] = value
    return custom


def with_options(endpoint: str, draft: Draft, raw: Mapping[str, object]) -> Draft:
    """The draft with its fields beyond text and attachments, checked."""
    flags: dict[str, bool] = {}
    for key in ("pinned", "silent"):
        value = raw.get(key, False)
        if not isinstance(value, bool):
            raise input_error(endpoint, f"message.{key} must be a boolean")
        flags[key] = value
    visible = raw.get("restricted_visibility") or []
    if not isinstance(visible, list) or not all(isinstance(u, str) for u in visible):
        raise input_error(endpoint, "message.restricted_visibility must be a list of user ids")
    quoted = raw.get("quoted_message_id")
    if quoted is not None and not isinstance(quoted, str):
        raise input_error(endpoint, "message.quoted_message_id must be a string")
    return attrs.evolve(
        draft,
        custom=custom_fields(endpoint, raw),
        pinned=flags["pinned"],
        silent=flags["silent"],
        pin_expires=parse_time(endpoint, "message.pin_expires", raw.get("pin_expires")),
        restricted_visibility=tuple(str(u) for u in visible),
        quoted_message_id=quoted,
    )
