"""The contract's JSON directory fixture: parsing (strict, with clear errors) and seeding.

Read by `yc-chat serve --seed`, `yc-chat seed` and the demo; `seed` writes through the
store ports, so the same fixture loads into memory or MongoDB alike.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override

from yc_chat.domain.model import (
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


class FixtureError(ValueError):
    """The fixture file is not valid; the message lists every problem found."""


@attrs.frozen(kw_only=True)
class _OrgRecord:
    id: str
    name: str


@attrs.frozen(kw_only=True)
class _UserRecord:
    id: str
    name: str
    kind: UserKind = UserKind.STAFF
    email: str | None = None
    image: str | None = None


@attrs.frozen(kw_only=True)
class _MembershipRecord:
    org_id: str
    user_id: str
    role: str


@attrs.frozen(kw_only=True)
class _AppointmentRecord:
    id: str
    org_id: str
    pet_owner_id: str
    vet_id: str
    starts_at: datetime
    pet_name: str = ""
    pet_owner_name: str = ""
    chat_channel_id: str | None = None
    chat_status: ChatStatus | None = None
    chat_activation_minutes: int | None = None


@attrs.frozen(kw_only=True)
class _FixtureRecord:
    orgs: list[_OrgRecord] = attrs.field(factory=list)
    users: list[_UserRecord] = attrs.field(factory=list)
    memberships: list[_MembershipRecord] = attrs.field(factory=list)
    appointments: list[_AppointmentRecord] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class Fixture:
    """Directory and appointment data, in domain objects, checked for dangling references."""

    orgs: tuple[Org, ...]
    users: tuple[User, ...]
    memberships: tuple[Membership, ...]
    appointments: tuple[Appointment, ...]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _parse_datetime(value: object, _: type) -> datetime:
    if not isinstance(value, str):
        raise TypeError("expected an ISO-8601 string")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("needs a UTC offset, e.g. 2026-01-15T14:00:00Z")
    return parsed


def _strict_str(value: object, _: type) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True)
    converter.register_structure_hook(datetime, _parse_datetime)
    # Exactly str: a plain hook for `str` would also catch str enums (UserKind, ChatStatus).
    converter.register_structure_hook_func(lambda cls: cls is str, _strict_str)
    for cls in (_OrgRecord, _UserRecord, _MembershipRecord, _AppointmentRecord):
        # Any: cattrs types **overrides against its own keyword flags, which mypy cannot tell apart.
        overrides: dict[str, Any] = {
            a.name: override(rename=_camel(a.name)) for a in attrs.fields(cls)
        }
        converter.register_structure_hook(
            cls,
            make_dict_structure_fn(cls, converter, **overrides),
        )
    return converter


def parse_fixture(data: Any) -> Fixture:
    """Parse the fixture's JSON value; raises FixtureError listing every problem."""
    try:
        record = _converter().structure(data, _FixtureRecord)
    except (cattrs.BaseValidationError, TypeError, ValueError) as exc:
        problems = (
            cattrs.transform_error(exc, path="fixture")
            if isinstance(exc, cattrs.BaseValidationError)
            else [str(exc)]
        )
        raise FixtureError("invalid fixture: " + "; ".join(problems)) from exc
    fixture = Fixture(
        orgs=tuple(Org(id=OrgId(o.id), name=o.name) for o in record.orgs),
        users=tuple(
            User(id=UserId(u.id), name=u.name, kind=u.kind, email=u.email, image=u.image)
            for u in record.users
        ),
        memberships=tuple(
            Membership(org_id=OrgId(m.org_id), user_id=UserId(m.user_id), role=m.role)
            for m in record.memberships
        ),
        appointments=tuple(
            Appointment(
                id=AppointmentId(a.id),
                org_id=OrgId(a.org_id),
                pet_owner_id=UserId(a.pet_owner_id),
                vet_id=UserId(a.vet_id),
                starts_at=a.starts_at,
                pet_name=a.pet_name,
                pet_owner_name=a.pet_owner_name,
                chat_channel_id=ChannelId(a.chat_channel_id) if a.chat_channel_id else None,
                chat_status=a.chat_status,
                chat_activation_minutes=a.chat_activation_minutes,
            )
            for a in record.appointments
        ),
    )
    _check_references(fixture)
    return fixture


def _check_references(fixture: Fixture) -> None:
    orgs = {o.id for o in fixture.orgs}
    users = {u.id for u in fixture.users}
    problems = []
    for m in fixture.memberships:
        if m.org_id not in orgs:
            problems.append(f"membership names unknown org {m.org_id!r}")
        if m.user_id not in users:
            problems.append(f"membership names unknown user {m.user_id!r}")
    for a in fixture.appointments:
        if a.org_id not in orgs:
            problems.append(f"appointment {a.id!r} names unknown org {a.org_id!r}")
        for uid in (a.pet_owner_id, a.vet_id):
            if uid not in users:
                problems.append(f"appointment {a.id!r} names unknown user {uid!r}")
    if problems:
        raise FixtureError("invalid fixture: " + "; ".join(problems))


def load_fixture(path: str | Path) -> Fixture:
    """Read and parse a fixture file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise FixtureError(f"cannot read fixture {path}: {exc}") from exc
    return parse_fixture(data)


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
