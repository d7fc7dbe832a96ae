"""The simulation's records as Stream's REST API spells them in responses and events.

The one place that writes Stream's JSON for users, members, messages and channels: the
ChatProvider over the simulation and the emulator's routes both answer with these.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from stream_emulator.state.records import (
    StreamChannel,
    StreamChannelMute,
    StreamMember,
    StreamMessage,
    StreamReaction,
    StreamUser,
    UserMute,
)

UserLookup = Callable[[str], StreamUser | None]


def format_time(value: datetime) -> str:
    """RFC 3339 in UTC with microseconds and `Z`, as Stream writes times."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def user(record: StreamUser) -> dict[str, object]:
    """A user object; custom fields sit at the top level next to the reserved ones."""
    body: dict[str, object] = dict(record.custom)
    if record.name is not None:
        body["name"] = record.name
    if record.image is not None:
        body["image"] = record.image
    body.update(
        {
            "id": record.id,
            "role": record.role,
            "created_at": format_time(record.created_at),
            "updated_at": format_time(record.updated_at),
            "banned": False,
            "online": record.online,
            # Required by Stream's OpenAPI `UserResponse`; the simulation keeps none of these.
            "language": "",
            "teams": [],
            "blocked_user_ids": [],
            "shadow_banned": False,
            "invisible": False,
        }
    )
    if record.last_active is not None:
        body["last_active"] = format_time(record.last_active)
    if record.revoke_tokens_issued_before is not None:
        body["revoke_tokens_issued_before"] = format_time(record.revoke_tokens_issued_before)
    return body


def full_user(record: StreamUser) -> dict[str, object]:
    """A user as the user endpoints answer it (`FullUserResponse`: counters and lists too)."""
    body = user(record)
    body.update(
        {
            "devices": [],
            "mutes": [],
            "channel_mutes": [],
            "unread_count": 0,
            "total_unread_count": 0,
            "unread_channels": 0,
            "unread_threads": 0,
        }
    )
    return body


def user_or_id(user_id: str, lookup: UserLookup) -> dict[str, object]:
    """The user object, or just the id for a user that no longer exists."""
    record = lookup(user_id)
    return user(record) if record is not None else {"id": user_id}


def member(record: StreamMember, lookup: UserLookup) -> dict[str, object]:
    """A channel member object, its custom fields flattened."""
    return {
        **record.custom,
        "user_id": record.user_id,
        "user": user_or_id(record.user_id, lookup),
        "channel_role": record.channel_role,
        "created_at": format_time(record.created_at),
        "updated_at": format_time(record.created_at),
        "banned": False,
        "shadow_banned": False,
        "notifications_muted": False,
        "is_moderator": record.channel_role == "channel_moderator",
        **({"pinned_at": format_time(record.pinned_at)} if record.pinned_at else {}),
        **({"archived_at": format_time(record.archived_at)} if record.archived_at else {}),
        **_invitation(record),
    }


def _invitation(record: StreamMember) -> dict[str, object]:
    """An invited member's `invited` and its answer's time (nothing for others)."""
    if not record.invited:
        return {}
    answer: dict[str, object] = {"invited": True}
    if record.invite_accepted_at is not None:
        answer["invite_accepted_at"] = format_time(record.invite_accepted_at)
    if record.invite_rejected_at is not None:
        answer["invite_rejected_at"] = format_time(record.invite_rejected_at)
    return answer


def message(
    record: StreamMessage,
    lookup: UserLookup,
    reader: str | None = None,
    *,
    show_deleted: bool = False,
) -> dict[str, object]:
    """A message object, custom fields flattened; `own_reactions` are the `reader`'s (none
    for the server or events: the SDKs fill them in from their own user's reactions). A
    soft-deleted message shows its text and attachments only with `show_deleted`."""
    hidden = record.deleted_at is not None and not show_deleted
    body: dict[str, object] = dict(record.custom)
    body.update(_message_fields(record, lookup, reader))
    if hidden:
        body.update({"text": "", "attachments": []})
    return body


def _message_fields(
    record: StreamMessage, lookup: UserLookup, reader: str | None
) -> dict[str, object]:
    return {
        "id": record.id,
        "cid": record.cid,
        "text": record.text,
        "type": record.type,
        "user": user_or_id(record.user_id, lookup),
        "attachments": [dict(item) for item in record.attachments],
        # Newest first, as Stream lists them.
        "latest_reactions": [reaction(item, lookup) for item in reversed(record.reactions[-10:])],
        "own_reactions": [
            reaction(item, lookup) for item in reversed(record.reactions) if item.user_id == reader
        ],
        "reply_count": record.reply_count,
        **({"parent_id": record.parent_id} if record.parent_id is not None else {}),
        **({"show_in_channel": True} if record.show_in_channel else {}),
        "created_at": format_time(record.created_at),
        "updated_at": format_time(record.updated_at or record.created_at),
        **({"deleted_at": format_time(record.deleted_at)} if record.deleted_at else {}),
        **(
            {"message_text_updated_at": format_time(record.text_updated_at)}
            if record.text_updated_at
            else {}
        ),
        # Required by Stream's OpenAPI `MessageResponse`; the simulation has no reactions,
        # mentions, pins or moderation, so these are their empty values.
        "html": "",
        "reaction_counts": _reaction_totals(record, lambda item: 1),
        "reaction_scores": _reaction_totals(record, lambda item: item.score),
        "deleted_reply_count": 0,
        "shadowed": False,
        "mentioned_users": [],
        "mentioned_channel": False,
        "mentioned_here": False,
        "silent": record.silent,
        "pinned": record.pinned_at is not None,
        "pinned_at": format_time(record.pinned_at) if record.pinned_at else None,
        "pinned_by": user_or_id(record.pinned_by, lookup) if record.pinned_by else None,
        "pin_expires": format_time(record.pin_expires) if record.pin_expires else None,
        "restricted_visibility": list(record.restricted_visibility),
        **({"quoted_message_id": record.quoted_message_id} if record.quoted_message_id else {}),
        **(
            {"quoted_message": _quoted(record.quoted, lookup, reader)}
            if record.quoted is not None
            else {}
        ),
    }


def _quoted(record: StreamMessage, lookup: UserLookup, reader: str | None) -> dict[str, object]:
    """A quoted message, one level deep (its own quote by id only)."""
    body = message(record, lookup, reader)
    body.pop("quoted_message", None)
    return body


def visible_to(record: StreamMessage, reader: str | None) -> bool:
    """Whether `reader` (None: the server) sees a message of restricted visibility or a
    pending one (its sender's alone)."""
    if reader is None or reader == record.user_id:
        return True
    return not record.pending and (
        not record.restricted_visibility or reader in record.restricted_visibility
    )


def reaction(record: StreamReaction, lookup: UserLookup) -> dict[str, object]:
    """A reaction object, custom fields flattened."""
    return {
        **record.custom,
        "type": record.type,
        "user_id": record.user_id,
        "user": user_or_id(record.user_id, lookup),
        "score": record.score,
        "created_at": format_time(record.created_at),
        "updated_at": format_time(record.created_at),
    }


def _reaction_totals(
    record: StreamMessage, weight: Callable[[StreamReaction], int]
) -> dict[str, int]:
    totals: dict[str, int] = {}
    for item in record.reactions:
        totals[item.type] = totals.get(item.type, 0) + weight(item)
    return totals


def channel(record: StreamChannel, lookup: UserLookup) -> dict[str, object]:
    """A channel object: custom data flattened next to the fields Stream maintains."""
    body: dict[str, object] = dict(record.data)
    body.update(
        {
            "id": record.id,
            "type": record.type,
            "cid": record.cid,
            "created_at": format_time(record.created_at),
            "updated_at": format_time(record.updated_at),
            "created_by": user_or_id(record.created_by_id, lookup),
            "frozen": record.frozen,
            "disabled": False,
            "member_count": record.member_count,
            "filter_tags": list(record.filter_tags),
        }
    )
    if record.last_message_at is not None:
        body["last_message_at"] = format_time(record.last_message_at)
    if record.config_overrides:
        # Stream reports channel-level overrides (grants among them) inside `config`.
        body["config"] = dict(record.config_overrides)
    return body


def members(record: StreamChannel, lookup: UserLookup) -> list[dict[str, object]]:
    """Every member object of the channel, in joining order."""
    return [member(item, lookup) for item in record.members]


def channel_mute(
    record: StreamChannelMute, channel_record: StreamChannel, lookup: UserLookup
) -> dict[str, object]:
    """A `ChannelMute`: who muted which channel, since when and until when."""
    return {
        "user": user_or_id(record.user_id, lookup),
        "channel": channel(channel_record, lookup),
        "created_at": format_time(record.created_at),
        "updated_at": format_time(record.created_at),
        **({"expires": format_time(record.expires)} if record.expires else {}),
    }


def user_mute(record: UserMute, lookup: UserLookup) -> dict[str, object]:
    """A `UserMuteResponse`: who muted whom, since when and until when."""
    return {
        "user": user_or_id(record.user_id, lookup),
        "target": user_or_id(record.target_id, lookup),
        "created_at": format_time(record.created_at),
        "updated_at": format_time(record.created_at),
        **({"expires": format_time(record.expires)} if record.expires else {}),
    }


def channel_with_members(record: StreamChannel, lookup: UserLookup) -> dict[str, object]:
    """The channel and all its members, as the channel update endpoints answer."""
    return {"channel": channel(record, lookup), "members": members(record, lookup)}


def channel_state(
    record: StreamChannel,
    messages: Sequence[StreamMessage],
    lookup: UserLookup,
    *,
    message_limit: int = 25,
    member_limit: int | None = 100,
    member_offset: int = 0,
    reader: str | None = None,
) -> dict[str, object]:
    """`ChannelStateResponseFields`: the channel, a page of members, the newest messages.

    `member_limit` None means every member from `member_offset` on.
    """
    end = None if member_limit is None else member_offset + member_limit
    page = record.members[member_offset:end]
    # Thread replies live in their thread, unless also shown in the channel.
    listed = [
        item
        for item in messages
        if (item.parent_id is None or item.show_in_channel) and visible_to(item, reader)
    ]
    newest = listed[-message_limit:] if message_limit > 0 else ()
    return {
        "channel": channel(record, lookup),
        "members": [member(item, lookup) for item in page],
        "messages": [message(item, lookup, reader) for item in newest],
        # The simulation has no pins, threads, read state or watchers: their empty values.
        "pinned_messages": [
            message(item, lookup, reader) for item in listed if item.pinned_at is not None
        ][-10:],
        "threads": [],
        "read": [],
        "watcher_count": 0,
        "watchers": [],
    }
