"""Custom permissions (Stream's CreatePermission): an id that grants one action, for owners
only or not, when a condition on the subject (the user) or the resource (the channel)
holds. Pure: the record, its condition and the check; `access_control` stores them.

A condition is an object of `"$subject.<field>"` or `"$resource.<field>"` keys, each with a
value, `{"$eq": value}`, `{"$ne": value}` or `{"$in": [values]}`; all must hold. The
subject's fields are the user's `id`, `role` and custom fields; the resource's are the
channel's `id`, `type`, `cid`, `created_by_id`, `frozen` and custom data. Other condition
forms are refused when the permission is made, so none is silently misread. A custom
permission only ever adds to what a role may do.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Final

import attrs

from stream_emulator.state import payloads
from stream_emulator.state.errors import input_error
from stream_emulator.state.records import StreamChannel, StreamUser

_OPERATORS: Final = frozenset({"$eq", "$ne", "$in"})
_SIDES: Final = ("$subject.", "$resource.")


@attrs.frozen(kw_only=True)
class CustomPermission:
    """One custom permission."""

    id: str
    name: str
    action: str
    description: str = ""
    owner: bool = False
    same_team: bool = False
    condition: Mapping[str, object] = attrs.field(factory=dict)
    created_at: datetime
    updated_at: datetime

    def as_json(self) -> dict[str, object]:
        """Stream's `Permission`."""
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "action": self.action,
            "owner": self.owner,
            "same_team": self.same_team,
            "condition": dict(self.condition),
            "custom": True,
            "level": "channel",
            "owner_resource": "Channel",
            "tags": [],
            "created_at": payloads.format_time(self.created_at),
            "updated_at": payloads.format_time(self.updated_at),
        }

    def grants(
        self, action: str, channel: StreamChannel, user: StreamUser | None, *, owner: bool
    ) -> bool:
        """Whether this permission lets `user` perform `action` on `channel`."""
        if action != self.action or (self.owner and not owner):
            return False
        return all(_holds(key, test, channel, user) for key, test in self.condition.items())


def check_condition(endpoint: str, condition: object) -> dict[str, object]:
    """A condition the emulator can evaluate, as given; 400 (code 4) otherwise."""
    if not isinstance(condition, Mapping):
        raise input_error(endpoint, "condition must be an object")
    for key, test in condition.items():
        if not isinstance(key, str) or not key.startswith(_SIDES) or key.endswith("."):
            raise input_error(
                endpoint, "condition keys must be $subject.<field> or $resource.<field>"
            )
        if isinstance(test, Mapping):
            if len(test) != 1 or next(iter(test)) not in _OPERATORS:
                raise input_error(endpoint, f"condition {key} takes a value, $eq, $ne or $in")
            if next(iter(test)) == "$in" and not isinstance(next(iter(test.values())), list):
                raise input_error(endpoint, f"condition {key}: $in takes a list")
    return dict(condition)


def _holds(key: str, test: object, channel: StreamChannel, user: StreamUser | None) -> bool:
    side, _, field = key.partition(".")
    value = _subject_field(user, field) if side == "$subject" else _resource_field(channel, field)
    if not isinstance(test, Mapping):
        return bool(value == test)
    ((operator, operand),) = test.items()
    if operator == "$eq":
        return bool(value == operand)
    if operator == "$ne":
        return bool(value != operand)
    return isinstance(operand, list) and value in operand


def _subject_field(user: StreamUser | None, field: str) -> object:
    if user is None:
        return None
    if field == "id":
        return user.id
    if field == "role":
        return user.role
    return user.custom.get(field)


def _resource_field(channel: StreamChannel, field: str) -> object:
    reserved: dict[str, object] = {
        "id": channel.id,
        "type": channel.type,
        "cid": channel.cid,
        "created_by_id": channel.created_by_id,
        "frozen": channel.frozen,
    }
    return reserved[field] if field in reserved else channel.data.get(field)
