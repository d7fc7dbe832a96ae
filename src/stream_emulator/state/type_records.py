"""Channel type records: a type's settings and grants, Stream's defaults, and how an
UpdateChannelType request changes them (pure; `channel_types` serves them)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Final

import attrs

from stream_emulator.state import payloads
from stream_emulator.state.errors import input_error
from stream_emulator.state.permissions import MESSAGING, ChannelTypeGrants, unknown_permissions

# Stream's `messaging` type settings as clients read them from `channel.config`: the SDKs
# switch typing indicators, read receipts and the rest on or off from these.
MESSAGING_SETTINGS: Final[Mapping[str, object]] = {
    "typing_events": True,
    "read_events": True,
    "connect_events": True,
    "delivery_events": False,
    "search": True,
    "reactions": True,
    "replies": True,
    "quotes": True,
    "mutes": True,
    "uploads": True,
    "url_enrichment": False,
    "custom_events": True,
    "push_notifications": True,
    "reminders": False,
    "mark_messages_pending": False,
    "polls": False,
    "shared_locations": False,
    "message_retention": "infinite",
    "max_message_length": 5000,
    "automod": "disabled",
    "automod_behavior": "flag",
    "commands": [],
}
_BOOLEAN_SETTINGS: Final = frozenset(k for k, v in MESSAGING_SETTINGS.items() if v in (True, False))
_CHOICES: Final[Mapping[str, frozenset[str]]] = {
    "automod": frozenset({"disabled", "simple", "AI"}),
    "automod_behavior": frozenset({"flag", "block", "shadow_block"}),
}
MAX_MESSAGE_LENGTH_CAP: Final = 20_000
# Stream's built-in slash commands: a type's `commands` setting names some of them (custom
# commands are out of the emulator's scope, so no other name exists). Listing one only
# records the setting: the emulator does not run commands.
BUILT_IN_COMMANDS: Final = frozenset({"giphy", "ban", "unban", "mute", "unmute"})
# Stream's built-in `team` type (Slack-like) has messaging's features and members-only
# grants; its other built-in types (livestream, gaming, commerce) are not modelled.
TEAM: Final = "team"
BUILT_IN_TYPES: Final = (MESSAGING, TEAM)


@attrs.frozen(kw_only=True)
class ChannelType:
    """One channel type: its name, settings and grants."""

    name: str
    settings: Mapping[str, object]
    grants: ChannelTypeGrants
    created_at: datetime
    updated_at: datetime

    def config(self) -> dict[str, object]:
        """The settings as `channel.config` carries them (with the type's name)."""
        return {"name": self.name, **self.settings}

    def as_json(self) -> dict[str, object]:
        """The type as GetChannelType answers it (Stream's `ChannelTypeConfig`)."""
        return {
            **self.config(),
            "grants": self.grants.as_json(),
            # Permissions v1 policies: none, the app uses v2 grants.
            "permissions": [],
            "created_at": payloads.format_time(self.created_at),
            "updated_at": payloads.format_time(self.updated_at),
        }


def default_channel_types(now: datetime) -> dict[str, ChannelType]:
    """A new app's channel types (the emulator models `messaging` and `team`)."""
    return {
        name: ChannelType(
            name=name,
            settings=dict(MESSAGING_SETTINGS),
            grants=ChannelTypeGrants(),
            created_at=now,
            updated_at=now,
        )
        for name in BUILT_IN_TYPES
    }


def updated_type(
    endpoint: str,
    current: ChannelType,
    body: Mapping[str, object],
    now: datetime,
    custom: Collection[str] = (),
) -> ChannelType:
    """`current` with an UpdateChannelType request applied; 400 for anything off."""
    settings = dict(current.settings)
    grants = current.grants
    for key, value in body.items():
        if key == "grants":
            grants = grants.replace(_grants_input(endpoint, value, custom))
        elif key == "permissions":
            if not isinstance(value, list):
                raise input_error(endpoint, "permissions must be a list")
        elif key in _BOOLEAN_SETTINGS:
            if not isinstance(value, bool):
                raise input_error(endpoint, f"{key} must be a boolean")
            settings[key] = value
        elif key in _CHOICES:
            if value not in _CHOICES[key]:
                raise input_error(endpoint, f"{key} must be one of {sorted(_CHOICES[key])}")
            settings[key] = value
        elif key == "max_message_length":
            if type(value) is not int or not 1 <= value <= MAX_MESSAGE_LENGTH_CAP:
                raise input_error(
                    endpoint, f"max_message_length must be between 1 and {MAX_MESSAGE_LENGTH_CAP}"
                )
            settings[key] = value
        elif key == "commands":
            settings[key] = _commands_input(endpoint, value)
        else:
            raise input_error(endpoint, f"the emulator cannot update {key!r} on a channel type")
    return attrs.evolve(current, settings=settings, grants=grants, updated_at=now)


def _grants_input(endpoint: str, value: object, custom: Collection[str]) -> dict[str, list[str]]:
    if not isinstance(value, Mapping):
        raise input_error(endpoint, "grants must be an object of role: [permission ids]")
    grants: dict[str, list[str]] = {}
    for role, ids in value.items():
        if not isinstance(role, str) or not role:
            raise input_error(endpoint, "grants must be keyed by role names")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise input_error(endpoint, f"grants.{role} must be a list of permission ids")
        grants[role] = list(ids)
    unknown = unknown_permissions(grants, custom)
    if unknown:
        raise input_error(endpoint, f"unknown permission ids: {', '.join(unknown)}")
    return grants


def _commands_input(endpoint: str, value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        raise input_error(endpoint, "commands must be a list of command names")
    unknown = sorted(set(value) - BUILT_IN_COMMANDS)
    if unknown:
        raise input_error(endpoint, f"commands {', '.join(unknown)} do not exist")
    return list(dict.fromkeys(value))
