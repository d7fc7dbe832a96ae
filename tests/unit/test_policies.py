"""Authorization policies, one per action, as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from yc_chat.domain import policies
from yc_chat.domain.model import (
    Appointment,
    AppointmentId,
    Channel,
    ChannelId,
    ChatCategory,
    ChatStatus,
    Membership,
    OrgId,
    UserId,
)
from yc_chat.domain.policies import EndDecision

ORG, OTHER = OrgId("org-1"), OrgId("org-2")
OWNER, VET, ADMIN, NURSE, STRANGER = (
    UserId(x) for x in ("owner", "vet", "admin", "nurse", "stranger")
)
roles = st.sampled_from(["owner", "admin", "vet", "nurse", "receptionist", "Admin", "OWNER "])

APPOINTMENT = Appointment(
    id=AppointmentId("apt"),
    org_id=ORG,
    pet_owner_id=OWNER,
    vet_id=VET,
    starts_at=datetime(2026, 1, 15, 14, tzinfo=UTC),
)


def member(user: UserId, role: str, org: OrgId = ORG) -> Membership:
    return Membership(org_id=org, user_id=user, role=role)


def channel(category: ChatCategory, members: set[UserId], created_by: UserId) -> Channel:
    return Channel(
        id=ChannelId("c"),
        category=category,
        org_id=ORG,
        members=frozenset(members),
        created_by=created_by,
        status=ChatStatus.ACTIVE,
        frozen=False,
    )


@given(roles)
def test_admin_roles_are_owner_and_admin_only(role: str) -> None:
    assert member(ADMIN, role).is_admin == (role.strip().lower() in {"owner", "admin"})


def test_token_only_for_self() -> None:
    assert policies.may_request_token(VET, VET)
    assert not policies.may_request_token(VET, OWNER)


def test_pet_owner_may_open_their_own_appointment_chat() -> None:
    # The seed guide locked pet owners out of their own chat.
    assert policies.may_open_appointment_chat(OWNER, APPOINTMENT, None)
    assert policies.may_open_appointment_chat(VET, APPOINTMENT, member(VET, "vet"))
    assert policies.may_open_appointment_chat(ADMIN, APPOINTMENT, member(ADMIN, "admin"))
    assert not policies.may_open_appointment_chat(NURSE, APPOINTMENT, member(NURSE, "nurse"))
    assert not policies.may_open_appointment_chat(STRANGER, APPOINTMENT, None)


def test_activation_is_for_staff_only() -> None:
    assert policies.may_set_activation(member(VET, "vet"))
    assert not policies.may_set_activation(None)


def test_dm_needs_the_caller_in_the_pair_and_in_the_org() -> None:
    assert policies.may_start_dm(VET, (VET, NURSE), member(VET, "vet"))
    assert not policies.may_start_dm(ADMIN, (VET, NURSE), member(ADMIN, "admin"))
    assert not policies.may_start_dm(VET, (VET, NURSE), None)


def test_groups_need_membership_and_read_only_needs_admin() -> None:
    assert policies.may_create_group(member(NURSE, "nurse"), read_only=False)
    assert not policies.may_create_group(member(NURSE, "nurse"), read_only=True)
    assert policies.may_create_group(member(ADMIN, "owner"), read_only=True)
    assert not policies.may_create_group(None, read_only=False)


def test_group_edits_by_creator_in_org_or_admin() -> None:
    group = channel(ChatCategory.GROUP, {NURSE, VET}, created_by=NURSE)
    assert policies.may_edit_group(NURSE, group, member(NURSE, "nurse"))
    assert policies.may_edit_group(ADMIN, group, member(ADMIN, "admin"))
    assert not policies.may_edit_group(VET, group, member(VET, "vet"))
    assert not policies.may_edit_group(NURSE, group, None)  # creator who left the org
    assert not policies.may_edit_group(ADMIN, group, member(ADMIN, "admin", OTHER))


@pytest.mark.parametrize(
    ("caller", "membership", "expected"),
    [
        (VET, member(VET, "vet"), EndDecision.ALLOW),
        (ADMIN, member(ADMIN, "admin"), EndDecision.ALLOW),
        (OWNER, None, EndDecision.DENY),
        (NURSE, member(NURSE, "nurse"), EndDecision.DENY),
        (STRANGER, member(STRANGER, "admin", OTHER), EndDecision.DENY),
    ],
)
def test_end_client_chat(caller: UserId, membership: Membership | None, expected: str) -> None:
    client = channel(ChatCategory.CLIENT, {OWNER, VET}, created_by=VET)
    decision = policies.end_chat_decision(caller, client, membership, appointment_vet_id=VET)
    assert decision is expected


def test_end_group_and_dm() -> None:
    group = channel(ChatCategory.GROUP, {NURSE, VET}, created_by=NURSE)
    assert (
        policies.end_chat_decision(NURSE, group, member(NURSE, "nurse"), appointment_vet_id=None)
        is EndDecision.ALLOW
    )
    assert (
        policies.end_chat_decision(VET, group, member(VET, "vet"), appointment_vet_id=None)
        is EndDecision.DENY
    )
    dm = channel(ChatCategory.COLLEAGUE, {NURSE, VET}, created_by=NURSE)
    assert (
        policies.end_chat_decision(VET, dm, member(VET, "vet"), appointment_vet_id=None)
        is EndDecision.DM_NOT_ENDABLE
    )
    assert (
        policies.end_chat_decision(ADMIN, dm, member(ADMIN, "admin"), appointment_vet_id=None)
        is EndDecision.DENY
    )


def test_leaving_is_only_removing_oneself_from_a_group_one_is_in() -> None:
    group = channel(ChatCategory.GROUP, {NURSE, VET}, created_by=ADMIN)
    assert policies.is_leaving(NURSE, group, add=(), remove=[NURSE])
    # An attacker who is not the creator cannot pass other changes off as leaving:
    assert not policies.is_leaving(NURSE, group, add=[STRANGER], remove=[NURSE])
    assert not policies.is_leaving(NURSE, group, add=(), remove=[NURSE, VET])
    assert not policies.is_leaving(NURSE, group, add=(), remove=[VET])
    # nor leave a group they are not in (a removal naming only themselves changes nothing).
    assert not policies.is_leaving(STRANGER, group, add=(), remove=[STRANGER])


def test_a_channel_is_seen_by_its_pet_owner_and_by_its_orgs_members_only() -> None:
    client = attrs.evolve(
        channel(ChatCategory.CLIENT, {OWNER, VET}, created_by=VET), pet_owner_id=OWNER
    )
    assert policies.may_see_channel(OWNER, client, None)
    assert policies.may_see_channel(VET, client, member(VET, "vet"))
    # Another pet owner, or staff of another org, never see it; nor does its vet who left.
    assert not policies.may_see_channel(STRANGER, client, None)
    assert not policies.may_see_channel(STRANGER, client, member(STRANGER, "admin", OTHER))
    assert not policies.may_see_channel(VET, client, None)
    # Being named pet owner of a channel that is not an appointment chat gives no seat.
    group = attrs.evolve(
        channel(ChatCategory.GROUP, {NURSE}, created_by=NURSE), pet_owner_id=STRANGER
    )
    assert not policies.may_see_channel(STRANGER, group, None)
    assert policies.may_see_channel(NURSE, group, member(NURSE, "nurse"))
