"""The contract's JSON directory fixture: strict parsing with clear errors, and seeding.

A fixture is a JSON object with the lists `orgs`, `users`, `memberships` and
`appointments` (every list optional, keys spelled as in the contract). Every problem is
reported with its place in the file in the file's own words (`appointments[0].startsAt`),
all of them at once, on one line.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import attrs

from yc_chat.domain.limits import (
    CHANNEL_ID_PATTERN,
    MAX_ACTIVATION_MINUTES,
    STREAM_USER_ID_PATTERN,
)
from yc_chat.domain.model import (
    SYSTEM_USER_ID,
    Appointment,
    AppointmentId,
    ChannelId,
    ChatStatus,
    Membership,
    Org,
    OrgId,
    User,
    UserId,
    UserKind,
)
from yc_chat.ports import AppointmentWriter, DirectoryWriter

# The roles the contract names. Hosts with other roles list them in the fixture's
# top-level "roles"; any other value is refused, since a misspelt "admin" would silently
# make an org admin a plain member.
STANDARD_ROLES: Final = ("owner", "admin", "vet", "nurse", "receptionist")
SECTIONS: Final = ("orgs", "users", "memberships", "appointments")
MAX_LISTED_PROBLEMS = 20


class FixtureError(ValueError):
    """The fixture file is not valid; the message lists every problem found."""


@attrs.frozen(kw_only=True)
class Fixture:
    """Directory and appointment data, in domain objects, checked for dangling references."""

    orgs: tuple[Org, ...]
    users: tuple[User, ...]
    memberships: tuple[Membership, ...]
    appointments: tuple[Appointment, ...]


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{where}: {message}" if where else message)

    def raise_if_any(self, source: str) -> None:
        if not self.items:
            return
        shown = self.items[:MAX_LISTED_PROBLEMS]
        more = len(self.items) - len(shown)
        count = "1 problem" if len(self.items) == 1 else f"{len(self.items)} problems"
        tail = f"; and {more} more" if more else ""
        raise FixtureError(f"invalid fixture{source} ({count}): " + "; ".join(shown) + tail)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string",
             list: "a list", dict: "an object"}  # fmt: skip
    return names.get(type(value), type(value).__name__)


def _shown(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


# A field reader returns the parsed value, or raises ValueError with the reason.
Reader = Callable[[object], Any]


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a string, not {_kind(value)}")
    return value


def _id(value: object) -> str:
    text = _text(value)
    if not text.strip() or text != text.strip():
        raise ValueError(f"{_shown(value)} must be a non-empty id without surrounding spaces")
    return text


def _user_id(value: object) -> str:
    text = _id(value)
    if not STREAM_USER_ID_PATTERN.fullmatch(text):
        raise ValueError(
            f"{_shown(value)} is not an id Stream accepts (letters, digits, @, _ and -, "
            "at most 255)"
        )
    return text


def _optional_text(value: object) -> str | None:
    return None if value is None else _text(value)


def _enum(choices: Iterable[str]) -> Reader:
    allowed = tuple(choices)

    def read(value: object) -> str:
        if value not in allowed:
            raise ValueError(f"{_shown(value)} is not one of " + ", ".join(allowed))
        return str(value)

    return read


def _optional(reader: Reader) -> Reader:
    return lambda value: None if value is None else reader(value)


def _moment(value: object) -> datetime:
    text = _text(value)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise ValueError(
            f"{_shown(value)} is not an ISO-8601 time with an offset, e.g. 2026-01-15T14:00:00Z"
        )
    return parsed


def _minutes(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"must be a whole number of minutes, not {_kind(value)}")
    if not 0 <= value <= MAX_ACTIVATION_MINUTES:
        raise ValueError(f"must be between 0 and {MAX_ACTIVATION_MINUTES}")
    return value


def _channel_id(value: object) -> str:
    text = _text(value)
    if not CHANNEL_ID_PATTERN.fullmatch(text):
        raise ValueError(f"{_shown(value)} is not a channel id (a-z, 0-9, _ and -, at most 64)")
    return text


@attrs.frozen
class _Field:
    key: str  # the JSON key
    read: Reader
    required: bool = True


_ORG = (_Field("id", _id), _Field("name", _text))
_USER = (
    _Field("id", _user_id),
    _Field("name", _text),
    _Field("kind", _enum(k.value for k in UserKind), required=False),
    _Field("email", _optional_text, required=False),
    _Field("image", _optional_text, required=False),
)
_APPOINTMENT = (
    _Field("id", _id),
    _Field("orgId", _id),
    _Field("petOwnerId", _id),
    _Field("vetId", _id),
    _Field("startsAt", _moment),
    _Field("petName", _text, required=False),
    _Field("petOwnerName", _text, required=False),
    _Field("chatChannelId", _optional(_channel_id), required=False),
    _Field("chatStatus", _optional(_enum(s.value for s in ChatStatus)), required=False),
    _Field("chatActivationMinutes", _optional(_minutes), required=False),
)


def _records(
    data: Mapping[str, Any], section: str, fields: tuple[_Field, ...], problems: _Problems
) -> list[dict[str, Any]]:
    """The section's objects with every field read; a bad object is reported and skipped."""
    items = data.get(section, [])
    if not isinstance(items, list):
        problems.add(section, f"must be a list of objects, not {_kind(items)}")
        return []
    known = {f.key for f in fields}
    records = []
    for index, item in enumerate(items):
        where = f"{section}[{index}]"
        if not isinstance(item, dict):
            problems.add(where, f"must be an object, not {_kind(item)}")
            continue
        record: dict[str, Any] = {}
        for key in item:
            if key not in known:
                problems.add(
                    where, f"unknown key {_shown(key)} (known: {', '.join(sorted(known))})"
                )
        for field in fields:
            if field.key not in item:
                if field.required:
                    problems.add(f"{where}.{field.key}", "missing (required)")
                continue
            try:
                record[field.key] = field.read(item[field.key])
            except ValueError as exc:
                problems.add(f"{where}.{field.key}", str(exc))
        if all(f.key in record for f in fields if f.required):
            records.append(record)
        record["_where"] = where
    return records


def _no_duplicates(
    records: list[dict[str, Any]],
    key: Callable[[dict[str, Any]], object],
    label: str,
    problems: _Problems,
) -> None:
    first: dict[object, str] = {}
    for record in records:
        value = key(record)
        if value in first:
            problems.add(
                record["_where"], f"duplicate {label} {_shown(value)} (first at {first[value]})"
            )
        else:
            first[value] = record["_where"]


def parse_fixture(data: Any, *, source: str = "") -> Fixture:
    """Parse the fixture's JSON value; raises FixtureError listing every problem."""
    problems = _Problems()
    where = f" {source}" if source else ""
    if not isinstance(data, dict):
        raise FixtureError(
            f"invalid fixture{where}: the file must hold a JSON object with the lists "
            f"{', '.join(SECTIONS)}, not {_kind(data)}"
        )
    for key in data:
        if key not in (*SECTIONS, "roles"):
            problems.add(
                "", f"unknown top-level key {_shown(key)} (known: {', '.join(SECTIONS)}, roles)"
            )
    roles = _roles(data.get("roles", []), problems)
    orgs = _records(data, "orgs", _ORG, problems)
    users = _records(data, "users", _USER, problems)
    membership_fields = (_Field("orgId", _id), _Field("userId", _id), _Field("role", _role(roles)))
    memberships = _records(data, "memberships", membership_fields, problems)
    appointments = _records(data, "appointments", _APPOINTMENT, problems)
    _no_duplicates(orgs, lambda r: r["id"], "org id", problems)
    _no_duplicates(users, lambda r: r["id"], "user id", problems)
    _no_duplicates(memberships, lambda r: (r["orgId"], r["userId"]), "membership", problems)
    _no_duplicates(appointments, lambda r: r["id"], "appointment id", problems)
    for user in users:
        if user["id"] == SYSTEM_USER_ID:
            problems.add(
                f"{user['_where']}.id", f"{_shown(user['id'])} is reserved for system messages"
            )
    org_ids = {r["id"] for r in orgs}
    user_ids = {r["id"] for r in users}
    for record in memberships:
        _refers(record, "orgId", org_ids, "org", problems)
        _refers(record, "userId", user_ids, "user", problems)
    for record in appointments:
        _refers(record, "orgId", org_ids, "org", problems)
        _refers(record, "petOwnerId", user_ids, "user", problems)
        _refers(record, "vetId", user_ids, "user", problems)
    problems.raise_if_any(where)
    return Fixture(
        orgs=tuple(Org(id=OrgId(r["id"]), name=r["name"]) for r in orgs),
        users=tuple(
            User(
                id=UserId(r["id"]),
                name=r["name"],
                kind=UserKind(r.get("kind", UserKind.STAFF)),
                email=r.get("email"),
                image=r.get("image"),
            )
            for r in users
        ),
        memberships=tuple(
            Membership(org_id=OrgId(r["orgId"]), user_id=UserId(r["userId"]), role=r["role"])
            for r in memberships
        ),
        appointments=tuple(_appointment(r) for r in appointments),
    )


def _roles(value: object, problems: _Problems) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.add("roles", 'must be a list of role names (strings), e.g. ["technician"]')
        return STANDARD_ROLES
    return (*STANDARD_ROLES, *(v for v in value if v not in STANDARD_ROLES))


def _role(roles: tuple[str, ...]) -> Reader:
    choose = _enum(roles)

    def read(value: object) -> str:
        try:
            return str(choose(value))
        except ValueError as exc:
            raise ValueError(f'{exc} (other roles: list them in the top-level "roles")') from exc

    return read


def _refers(
    record: dict[str, Any], key: str, known: set[str], label: str, problems: _Problems
) -> None:
    if record[key] not in known:
        problems.add(
            f"{record['_where']}.{key}", f"no {label} with id {_shown(record[key])} in this file"
        )


def _appointment(r: dict[str, Any]) -> Appointment:
    status = r.get("chatStatus")
    channel = r.get("chatChannelId")
    return Appointment(
        id=AppointmentId(r["id"]),
        org_id=OrgId(r["orgId"]),
        pet_owner_id=UserId(r["petOwnerId"]),
        vet_id=UserId(r["vetId"]),
        starts_at=r["startsAt"],
        pet_name=r.get("petName", ""),
        pet_owner_name=r.get("petOwnerName", ""),
        chat_channel_id=ChannelId(channel) if channel else None,
        chat_status=ChatStatus(status) if status else None,
        chat_activation_minutes=r.get("chatActivationMinutes"),
    )


def load_fixture(path: str | Path) -> Fixture:
    """Read and parse a fixture file; every way it can be wrong is a FixtureError."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError as exc:
        raise FixtureError(f"cannot read fixture {path}: no such file") from exc
    except OSError as exc:
        raise FixtureError(f"cannot read fixture {path}: {exc.strerror}") from exc
    try:
        text = raw.decode("utf-8-sig")  # a BOM, as some editors write, is fine
    except UnicodeDecodeError as exc:
        raise FixtureError(
            f"cannot read fixture {path}: it is not UTF-8 text (byte {raw[exc.start]:#04x} "
            f"at offset {exc.start}); save it as UTF-8"
        ) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FixtureError(
            f"cannot read fixture {path}: not valid JSON ({exc.msg} at line {exc.lineno}, "
            f"column {exc.colno})"
        ) from exc
    return parse_fixture(data, source=str(path))


async def seed(
    fixture: Fixture, *, directory: DirectoryWriter, appointments: AppointmentWriter
) -> None:
    """Write the fixture into the stores (upserts: seeding twice is harmless)."""
    for org in fixture.orgs:
        await directory.put_org(org)
    for user in fixture.users:
        await directory.put_user(user)
    for membership in fixture.memberships:
        await directory.put_membership(membership)
    for appointment in fixture.appointments:
        await appointments.put(appointment)
