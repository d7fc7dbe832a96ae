"""The request bodies the Stream adapter sends: channel creation data, state and list
options, member entries (pure; no SDK)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from yc_chat.adapters.stream import mapping
from yc_chat.domain.model import ChannelSpec, UserId

# A random value written into the custom data of a channel we create. Stream's
# get-or-create does not say whether it created the channel, but it keeps the data of an
# existing one: finding our own nonce in the answer means this call (or an earlier attempt
# of it, retried) created it.
CREATION_NONCE: Final = "ycCreationNonce"
# Stream returns at most 100 members with a channel; more are read with query_members.
CHANNEL_MEMBER_LIMIT: Final = 100
QUERY_MEMBERS_LIMIT: Final = 300
MEMBER_SORT: Final = ({"field": "created_at", "direction": 1},)


def state_options() -> dict[str, Any]:
    # Server-side: never watch or ask for presence (there is no websocket to watch with).
    # One message is enough for the last-message preview.
    return {
        "state": True,
        "watch": False,
        "presence": False,
        "messages": {"limit": 1},
        "members": {"limit": CHANNEL_MEMBER_LIMIT},
    }


def list_options() -> dict[str, Any]:
    return {"message_limit": 1, "member_limit": CHANNEL_MEMBER_LIMIT}


def creation_data(spec: ChannelSpec, nonce: str, system_user: UserId) -> dict[str, object]:
    data = mapping.creation_data(spec)
    data[CREATION_NONCE] = nonce
    # The system user creates every channel, so no person holds Stream's owner rights on
    # it; the contract's creator is `createdBy` in the custom data.
    data["created_by"] = {"id": system_user}
    data["members"] = member_entries(spec.members, mapping.creation_roles(spec))
    return data


def member_entries(members: Iterable[UserId], roles: Mapping[str, str]) -> list[dict[str, str]]:
    entries: list[dict[str, str]] = []
    for user_id in sorted(members):
        entry = {"user_id": str(user_id)}
        if user_id in roles:
            entry["channel_role"] = roles[user_id]
        entries.append(entry)
    return entries
