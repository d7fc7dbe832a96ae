"""More user operations, as Stream's: query with filters and sorts on any field, delete and
restore, deactivate and reactivate, devices, user mutes and blocks.

A soft delete marks the user (`deleted_at`) and a restore clears it; a hard delete removes
the user. A deactivated user (`deactivated_at`) cannot connect until reactivated. Mutes and
blocks are one user's view of another (listed in `OwnUser.mutes` and `blocked_user_ids`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Final

from stream_emulator.state import filters, payloads
from stream_emulator.state.errors import does_not_exist, input_error
from stream_emulator.state.records import Device, StreamUser, UserMute
from stream_emulator.state.store import Store

UserPredicate = Callable[[StreamUser], bool]
MAX_QUERY_USERS_LIMIT: Final = 100
PUSH_PROVIDERS: Final = frozenset({"apn", "firebase", "huawei", "xiaomi"})


def _value(user: StreamUser, field: str) -> object:
    if field == "id":
        return user.id
    if field == "role":
        return user.role
    if field == "name":
        return user.name
    if field == "image":
        return user.image
    if field in ("created_at", "updated_at", "last_active"):
        value = getattr(user, field)
        return value.isoformat() if isinstance(value, datetime) else None
    if field == "online":
        return user.online
    return user.custom.get(field)


Ordered = tuple[str, float, str]
_COMPARE: Final[dict[str, Callable[[Ordered, Ordered], bool]]] = {
    "$gt": lambda a, b: a > b,
    "$gte": lambda a, b: a >= b,
    "$lt": lambda a, b: a < b,
    "$lte": lambda a, b: a <= b,
}


def _ordered(value: object) -> Ordered | None:
    """Numbers with numbers, text with text (times compare as RFC 3339 text)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return ("number", float(value), "")
    if isinstance(value, str):
        return ("text", 0.0, value)
    return None


def _test(endpoint: str, field: str, operator: str, operand: object) -> UserPredicate:
    def read(user: StreamUser) -> object:
        return _value(user, field)

    if operator == "$eq":
        return lambda user: filters.json_equal(read(user), operand)
    if operator == "$ne":
        return lambda user: not filters.json_equal(read(user), operand)
    if operator in ("$in", "$nin"):
        if not isinstance(operand, list):
            raise input_error(endpoint, f"{operator} on {field} needs a list")
        inside = operator == "$in"
        return lambda user: any(filters.json_equal(read(user), o) for o in operand) == inside
    if operator == "$autocomplete":
        if not isinstance(operand, str):
            raise input_error(endpoint, f"$autocomplete on {field} needs a string")
        prefix = operand.casefold()
        return lambda user: any(
            word.startswith(prefix) for word in str(read(user) or "").casefold().split()
        )
    if operator == "$exists":
        return lambda user: (read(user) is not None) == bool(operand)
    compare = _COMPARE.get(operator)
    if compare is None:
        raise input_error(endpoint, f"operator {operator} is not supported on {field}")
    return functools.partial(_compared, compare, read, operand)


def _compared(
    compare: Callable[[Ordered, Ordered], bool],
    read: Callable[[StreamUser], object],
    operand: object,
    user: StreamUser,
) -> bool:
    value, bound = _ordered(read(user)), _ordered(operand)
    return (
        value is not None and bound is not None and value[0] == bound[0] and compare(value, bound)
    )


def compile_user_filter(endpoint: str, conditions: object) -> UserPredicate:
    """A users filter: any field with $eq/$ne/$in/$nin/$gt/$gte/$lt/$lte/$exists, names
    with $autocomplete, `$and`/`$or`; a plain value is `$eq`."""
    if not isinstance(conditions, Mapping):
        raise input_error(endpoint, "filter_conditions must be an object")
    tests: list[UserPredicate] = []
    for key, condition in conditions.items():
        if key in ("$and", "$or"):
            if not isinstance(condition, list) or not condition:
                raise input_error(endpoint, f"{key} needs a non-empty list of filters")
            parts = [compile_user_filter(endpoint, item) for item in condition]
            combine = all if key == "$and" else any
            tests.append(functools.partial(_combined, combine, parts))
            continue
        if not isinstance(key, str) or key.startswith("$"):
            raise input_error(endpoint, f"operator {key} is not supported")
        operations = condition if isinstance(condition, Mapping) else {"$eq": condition}
        tests.extend(_test(endpoint, key, str(op), operand) for op, operand in operations.items())
    return lambda user: all(test(user) for test in tests)


def _combined(
    combine: Callable[[Iterable[bool]], bool], parts: Sequence[UserPredicate], user: StreamUser
) -> bool:
    return combine(part(user) for part in parts)


def _sort_key(field: str, user: StreamUser) -> tuple[int, str, float | str]:
    value = _value(user, field)
    if value is None:
        return (1, "", "")
    if isinstance(value, bool | int | float):
        return (0, "number", float(value))
    return (0, "text", str(value))


class UserActions:
    """Mixed into `StreamState`; every operation raises `StreamAPIError`."""

    _store: Store

    def search_users(
        self,
        conditions: Mapping[str, object],
        sort: Sequence[Mapping[str, object]] = (),
        *,
        limit: int = 30,
        offset: int = 0,
    ) -> list[StreamUser]:
        """Users matching the filter, sorted (creation order by default), one page."""
        endpoint = "QueryUsers"
        self._store.faults.gate()
        if not 1 <= limit <= MAX_QUERY_USERS_LIMIT or not 0 <= offset <= 1000:
            raise input_error(endpoint, f"limit must be 1 to {MAX_QUERY_USERS_LIMIT}")
        predicate = compile_user_filter(endpoint, conditions)
        found = [user for user in self._store.users.values() if predicate(user)]
        for item in reversed(list(sort)):
            field, direction = item.get("field"), item.get("direction", 1)
            if not isinstance(field, str) or direction not in (1, -1):
                raise input_error(endpoint, "sort must be a list of {field, direction: 1|-1}")
            found.sort(key=functools.partial(_sort_key, field), reverse=direction == -1)
        return found[offset : offset + limit]

    # -- delete, restore, deactivate ------------------------------------------------------

    def delete_user(self, user_id: str, *, hard: bool = False) -> StreamUser:
        """Soft-delete (mark) or hard-delete (remove) a user."""
        user = self._existing("DeleteUser", user_id)
        now = self._store.now()
        if hard:
            del self._store.users[user_id]
            self._store.user_extras.deleted.pop(user_id, None)
        else:
            self._store.user_extras.deleted[user_id] = now
        return user

    def restore_users(self, user_ids: Sequence[str]) -> None:
        """Undo soft deletes."""
        for user_id in user_ids:
            self._existing("RestoreUsers", user_id)
            self._store.user_extras.deleted.pop(user_id, None)

    def set_deactivated(self, user_id: str, *, deactivated: bool) -> StreamUser:
        """Deactivate (or reactivate) a user."""
        user = self._existing("DeactivateUser", user_id)
        if deactivated:
            self._store.user_extras.deactivated[user_id] = self._store.now()
        else:
            self._store.user_extras.deactivated.pop(user_id, None)
        return user

    def user_marks(self, user_id: str) -> dict[str, str]:
        """`deleted_at` and `deactivated_at` for a user's JSON, where set."""
        marks: dict[str, str] = {}
        extras = self._store.user_extras
        if user_id in extras.deleted:
            marks["deleted_at"] = _iso(extras.deleted[user_id])
        if user_id in extras.deactivated:
            marks["deactivated_at"] = _iso(extras.deactivated[user_id])
        return marks

    # -- devices --------------------------------------------------------------------------

    def add_device(self, device_id: str, push_provider: str, user_id: str) -> Device:
        """Register a push device for the user (re-registering moves it to them)."""
        endpoint = "CreateDevice"
        self._existing(endpoint, user_id)
        if not device_id:
            raise input_error(endpoint, "id is a required field")
        if push_provider not in PUSH_PROVIDERS:
            raise input_error(endpoint, f"push_provider must be one of {sorted(PUSH_PROVIDERS)}")
        device = Device(
            id=device_id,
            user_id=user_id,
            push_provider=push_provider,
            created_at=self._store.now(),
        )
        self._store.user_extras.devices[device_id] = device
        return device

    def devices(self, user_id: str) -> list[Device]:
        """The user's devices, oldest first."""
        self._existing("ListDevices", user_id)
        return [d for d in self._store.user_extras.devices.values() if d.user_id == user_id]

    def delete_device(self, device_id: str, user_id: str) -> None:
        """Remove one of the user's devices."""
        endpoint = "DeleteDevice"
        device = self._store.user_extras.devices.get(device_id)
        if device is None or device.user_id != user_id:
            raise does_not_exist(endpoint, f"device {device_id} does not exist for {user_id}")
        del self._store.user_extras.devices[device_id]

    # -- mutes and blocks -----------------------------------------------------------------

    def mute_users(
        self, user_id: str, target_ids: Sequence[str], *, minutes: int | None = None
    ) -> list[UserMute]:
        """`user_id` mutes each target (for `minutes` if given)."""
        endpoint = "MuteUser"
        self._existing(endpoint, user_id)
        if not target_ids:
            raise input_error(endpoint, "target_ids must name at least one user")
        if minutes is not None and minutes < 1:
            raise input_error(endpoint, "timeout must be a positive number of minutes")
        now = self._store.now()
        expires = now + timedelta(minutes=minutes) if minutes else None
        mutes = []
        for target in target_ids:
            self._existing(endpoint, target)
            if target == user_id:
                raise input_error(endpoint, "a user cannot mute themselves")
            mute = UserMute(user_id=user_id, target_id=target, created_at=now, expires=expires)
            self._store.user_extras.mutes[(user_id, target)] = mute
            mutes.append(mute)
        return mutes

    def unmute_users(self, user_id: str, target_ids: Sequence[str]) -> None:
        """Lift the user's mutes of these targets."""
        for target in target_ids:
            self._store.user_extras.mutes.pop((user_id, target), None)

    def user_mutes(self, user_id: str) -> list[UserMute]:
        """The user's mutes in force."""
        now = self._store.now()
        return [
            m
            for (owner, _), m in self._store.user_extras.mutes.items()
            if owner == user_id and (m.expires is None or m.expires > now)
        ]

    def block_user(self, user_id: str, blocked_id: str) -> datetime:
        """`user_id` blocks `blocked_id`; when."""
        endpoint = "BlockUsers"
        self._existing(endpoint, user_id)
        self._existing(endpoint, blocked_id)
        if user_id == blocked_id:
            raise input_error(endpoint, "a user cannot block themselves")
        now = self._store.now()
        self._store.user_extras.blocks.setdefault((user_id, blocked_id), now)
        return now

    def unblock_user(self, user_id: str, blocked_id: str) -> None:
        """Lift a block (none is no change)."""
        self._store.user_extras.blocks.pop((user_id, blocked_id), None)

    def blocks(self, user_id: str) -> list[tuple[str, datetime]]:
        """Whom the user blocked, and when."""
        return [
            (blocked, at)
            for (owner, blocked), at in self._store.user_extras.blocks.items()
            if owner == user_id
        ]

    def _existing(self, endpoint: str, user_id: str) -> StreamUser:
        self._store.faults.gate()
        user = self._store.users.get(user_id)
        if user is None:
            raise does_not_exist(endpoint, f"user {user_id} does not exist")
        return user


def _iso(value: datetime) -> str:
    return payloads.format_time(value)
