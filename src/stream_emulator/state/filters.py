"""The subset of Stream's query filters and sorts the simulation understands; the rest is refused.

Supported channel filters: `filter_tags` (`$in` any of them, `$eq` all of them); `type`,
`id`, `cid`, `created_by_id` and custom fields with
`$eq` / `$in` or a plain value (implicit `$eq`); `frozen` with a boolean; `members` with
`$in`; `created_at` with `$gt` / `$gte` / `$lt` / `$lte` and an RFC 3339 time; `$and` /
`$or` of such filters. Anything else is an input error, never ignored, so a
query the simulation cannot answer faithfully fails loudly instead of returning too much.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Final

from stream_emulator.state.errors import input_error
from stream_emulator.state.records import StreamChannel, StreamMember, StreamUser

ChannelPredicate = Callable[[StreamChannel], bool]
SortKey = Callable[[StreamChannel], datetime | int | str]

_RESERVED_FIELDS: Final[dict[str, Callable[[StreamChannel], object]]] = {
    "type": lambda channel: channel.type,
    "id": lambda channel: channel.id,
    "cid": lambda channel: channel.cid,
    "created_by_id": lambda channel: channel.created_by_id,
    "frozen": lambda channel: channel.frozen,
}
_VALUE_OPERATORS: Final = frozenset({"$eq", "$in"})
_SCALARS: Final = (str, int, float, bool)


def compile_channel_filter(endpoint: str, conditions: object) -> ChannelPredicate:
    """A predicate for `conditions`; unsupported fields or operators are an input error."""
    if not isinstance(conditions, Mapping):
        raise input_error(endpoint, "filter_conditions must be an object")
    parts = [_compile_entry(endpoint, key, value) for key, value in conditions.items()]
    return lambda channel: all(part(channel) for part in parts)


def _compile_entry(endpoint: str, key: object, condition: object) -> ChannelPredicate:
    if not isinstance(key, str):
        raise input_error(endpoint, "filter field names must be strings")
    if key in ("$and", "$or"):
        if not isinstance(condition, list) or not condition:
            raise input_error(endpoint, f"{key} needs a non-empty list of filters")
        parts = [compile_channel_filter(endpoint, item) for item in condition]
        if key == "$and":
            return lambda channel: all(part(channel) for part in parts)
        return lambda channel: any(part(channel) for part in parts)
    if key.startswith("$"):
        raise input_error(endpoint, f"operator {key} is not supported")
    if key == "members":
        return _members_filter(endpoint, condition)
    if key == "created_at":
        return _time_filter(endpoint, key, condition)
    if key == "filter_tags":
        return _tags_filter(endpoint, condition)
    return _value_filter(endpoint, key, condition)


def _tags_filter(endpoint: str, condition: object) -> ChannelPredicate:
    """`filter_tags`: `$in` a list (any of them), `$eq` a tag or a list (all of them)."""
    operator, operand = "$eq", condition
    if isinstance(condition, Mapping) and len(condition) == 1:
        ((operator, operand),) = condition.items()
    tags = [operand] if isinstance(operand, str) else operand
    if (
        operator not in _VALUE_OPERATORS
        or not isinstance(tags, list)
        or not tags
        or not all(isinstance(t, str) for t in tags)
    ):
        raise input_error(endpoint, "filter_tags takes $eq (a tag or tags) or $in (tags)")
    wanted = frozenset(tags)
    if operator == "$in":
        return lambda channel: not wanted.isdisjoint(channel.filter_tags)
    return lambda channel: wanted <= set(channel.filter_tags)


_TIME_COMPARISONS: Final[dict[str, Callable[[datetime, datetime], bool]]] = {
    "$gt": lambda value, operand: value > operand,
    "$gte": lambda value, operand: value >= operand,
    "$lt": lambda value, operand: value < operand,
    "$lte": lambda value, operand: value <= operand,
}


def _time_filter(endpoint: str, field: str, condition: object) -> ChannelPredicate:
    if not isinstance(condition, Mapping) or not condition:
        raise input_error(endpoint, f"{field} needs comparisons such as $gte")
    tests: list[Callable[[datetime], bool]] = []
    for operator, operand in condition.items():
        compare = _TIME_COMPARISONS.get(operator)
        if compare is None:
            raise input_error(endpoint, f"operator {operator} is not supported on {field}")
        tests.append(functools.partial(_compare_time, compare, _time_operand(endpoint, operand)))
    return lambda channel: all(test(channel.created_at) for test in tests)


def _compare_time(
    compare: Callable[[datetime, datetime], bool], operand: datetime, value: datetime
) -> bool:
    return compare(value, operand)


def _time_operand(endpoint: str, operand: object) -> datetime:
    parsed: datetime | None = None
    if isinstance(operand, str):
        try:
            parsed = datetime.fromisoformat(operand)
        except ValueError:
            parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise input_error(endpoint, "time comparisons need an RFC 3339 time with a zone")
    return parsed


def _members_filter(endpoint: str, condition: object) -> ChannelPredicate:
    if not isinstance(condition, Mapping) or set(condition) != {"$in"}:
        raise input_error(endpoint, "members supports only the $in operator")
    wanted = _string_list(endpoint, "members.$in", condition["$in"])
    return lambda channel: any(user_id in wanted for user_id in channel.member_ids)


def _value_filter(endpoint: str, field: str, condition: object) -> ChannelPredicate:
    reserved = _RESERVED_FIELDS.get(field)
    if reserved is not None:
        read = reserved

        def read_field(channel: StreamChannel) -> tuple[bool, object]:
            return True, read(channel)

    else:

        def read_field(channel: StreamChannel) -> tuple[bool, object]:
            return field in channel.data, channel.data.get(field)

    operations = condition if isinstance(condition, Mapping) else {"$eq": condition}
    if not operations:
        raise input_error(endpoint, f"filter on {field} has no operator")
    tests: list[Callable[[object], bool]] = []
    for operator, operand in operations.items():
        if operator not in _VALUE_OPERATORS:
            raise input_error(endpoint, f"operator {operator} is not supported on {field}")
        if operator == "$eq":
            tests.append(_equals_test(endpoint, field, operand))
        else:
            tests.append(_in_test(endpoint, field, operand))

    def predicate(channel: StreamChannel) -> bool:
        present, value = read_field(channel)
        return present and all(test(value) for test in tests)

    return predicate


def _equals_test(endpoint: str, field: str, operand: object) -> Callable[[object], bool]:
    _check_scalar(endpoint, field, operand)
    if field == "frozen" and not isinstance(operand, bool):
        raise input_error(endpoint, "frozen must be compared with a boolean")
    return lambda value: json_equal(value, operand)


def _in_test(endpoint: str, field: str, operand: object) -> Callable[[object], bool]:
    if not isinstance(operand, list | tuple):
        raise input_error(endpoint, f"$in on {field} needs a list")
    for item in operand:
        _check_scalar(endpoint, field, item)
    options = tuple(operand)
    return lambda value: any(json_equal(value, option) for option in options)


def _check_scalar(endpoint: str, field: str, operand: object) -> None:
    if not isinstance(operand, _SCALARS):
        raise input_error(endpoint, f"filter on {field} needs a string, number or boolean")


def json_equal(left: object, right: object) -> bool:
    """JSON equality: `true` is not `1` (Python's `True == 1` would say it is)."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left is right
    return left == right


def _string_list(endpoint: str, what: str, operand: object) -> frozenset[str]:
    if not isinstance(operand, list | tuple) or not all(isinstance(x, str) for x in operand):
        raise input_error(endpoint, f"{what} needs a list of strings")
    return frozenset(operand)


def user_ids_filter(endpoint: str, conditions: object) -> frozenset[str]:
    """The ids a users filter asks for; only `id` with `$eq`/`$in` or a plain value."""
    if not isinstance(conditions, Mapping) or set(conditions) != {"id"}:
        raise input_error(endpoint, "only a filter on id is supported")
    condition = conditions["id"]
    if isinstance(condition, str):
        return frozenset({condition})
    if isinstance(condition, Mapping) and len(condition) == 1:
        ((operator, operand),) = condition.items()
        if operator == "$eq" and isinstance(operand, str):
            return frozenset({operand})
        if operator == "$in":
            return _string_list(endpoint, "id.$in", operand)
    raise input_error(endpoint, "id supports a string, $eq or $in")


# -- sorting ------------------------------------------------------------------------------


def _activity(channel: StreamChannel) -> datetime:
    # A channel without messages counts as active since its creation.
    return channel.last_message_at or channel.created_at


_SORT_KEYS: Final[dict[str, SortKey]] = {
    "last_message_at": _activity,
    # Stream's SDKs define last_updated as the last message's time, else creation time.
    "last_updated": _activity,
    "created_at": lambda channel: channel.created_at,
    "updated_at": lambda channel: channel.updated_at,
    "member_count": lambda channel: channel.member_count,
    "id": lambda channel: channel.id,
    "cid": lambda channel: channel.cid,
}


def parse_sort(endpoint: str, sort: object) -> list[tuple[SortKey, bool]]:
    """Stream's `[{"field": ..., "direction": 1 | -1}]` as (key, descending) pairs."""
    if isinstance(sort, str | bytes) or not isinstance(sort, Sequence):
        raise input_error(endpoint, "sort must be a list of {field, direction}")
    order: list[tuple[SortKey, bool]] = []
    for item in sort:
        if not isinstance(item, Mapping):
            raise input_error(endpoint, "sort must be a list of {field, direction}")
        field = item.get("field")
        direction = item.get("direction", 1)
        key = _SORT_KEYS.get(field) if isinstance(field, str) else None
        if key is None:
            raise input_error(endpoint, f"sorting by {field!r} is not supported")
        if isinstance(direction, bool) or direction not in (1, -1):
            raise input_error(endpoint, "sort direction must be 1 or -1")
        order.append((key, direction == -1))
    return order


def sort_channels(
    channels: Sequence[StreamChannel], order: Sequence[tuple[SortKey, bool]]
) -> list[StreamChannel]:
    """`channels` (given in creation order) sorted by `order`; ties keep creation order.

    Ties run in the first sort's direction, so with a descending sort the newer of two
    equally active channels comes first.
    """
    result = list(channels)
    if order and order[0][1]:
        result.reverse()
    # Stable sorts from the least to the most significant key (reverse= keeps stability).
    for key, descending in reversed(order):
        result.sort(key=key, reverse=descending)
    return result


MemberPredicate = Callable[[StreamMember, StreamUser | None], bool]


def compile_member_filter(endpoint: str, conditions: Mapping[str, object]) -> MemberPredicate:
    """A member filter: `id`/`user_id`, `channel_role` ($eq, $in, value), `name` (value or
    `$autocomplete`); several keys must all match. Anything else is an input error."""
    tests: list[MemberPredicate] = []
    for key, condition in conditions.items():
        if key in ("id", "user_id", "channel_role"):
            tests.append(_value_test(key, _member_values(endpoint, key, condition)))
        elif key == "name":
            tests.append(_name_test(endpoint, condition))
        else:
            raise input_error(endpoint, f"the emulator cannot filter members by {key}")
    return lambda member, user: all(test(member, user) for test in tests)


def _value_test(key: str, allowed: frozenset[str]) -> MemberPredicate:
    def test(member: StreamMember, _user: StreamUser | None) -> bool:
        value = member.channel_role if key == "channel_role" else member.user_id
        return value in allowed

    return test


def _member_values(endpoint: str, key: str, condition: object) -> frozenset[str]:
    if isinstance(condition, str):
        return frozenset({condition})
    if isinstance(condition, Mapping) and len(condition) == 1:
        operator, operand = next(iter(condition.items()))
        if operator == "$eq" and isinstance(operand, str):
            return frozenset({operand})
        if operator == "$in":
            return _string_list(endpoint, f"{key}.$in", operand)
    raise input_error(endpoint, f"{key} supports a string, $eq or $in")


def _name_test(endpoint: str, condition: object) -> MemberPredicate:
    if isinstance(condition, str):
        exact = condition.casefold()
        return lambda _m, user: user is not None and (user.name or "").casefold() == exact
    if isinstance(condition, Mapping) and set(condition) == {"$autocomplete"}:
        prefix = condition["$autocomplete"]
        if isinstance(prefix, str) and prefix.strip():
            folded = prefix.strip().casefold()
            return lambda _m, user: (
                user is not None
                and any(word.startswith(folded) for word in (user.name or "").casefold().split())
            )
    raise input_error(endpoint, "name supports a string or a non-empty $autocomplete")
