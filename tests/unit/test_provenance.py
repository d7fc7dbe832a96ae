"""Which channels are yc-chat's own (domain.provenance), pinned rule by rule.

Custom data proves nothing (anyone with a Stream token could write it before the setup's
grants); only the provider's creator, the DM id the service derives, or an appointment
record that links the channel vouch for it. Each example below would pass a mutant that
loosened or tightened one clause of the rule.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from yc_chat.domain.channel_ids import colleague_dm_channel_id
from yc_chat.domain.model import (
    SYSTEM_USER_ID,
    Appointment,
    AppointmentId,
    Channel,
    ChannelId,
    ChatCategory,
    ChatStatus,
    OrgId,
    UserId,
)
from yc_chat.domain.provenance import is_ours, needs_record, only_ours

ORG = OrgId("org-1")
VET, NURSE, OWNER = UserId("vet-1"), UserId("nurse-1"), UserId("owner-1")


def channel(
    *,
    cid: str,
    category: ChatCategory = ChatCategory.GROUP,
    members: frozenset[UserId] = frozenset({VET, NURSE}),
    org: OrgId = ORG,
    creator: UserId | None = None,
    appointment: str | None = None,
) -> Channel:
    return Channel(
        id=ChannelId(cid),
        category=category,
        org_id=org,
        members=members,
        status=ChatStatus.ACTIVE,
        created_by=VET,
        frozen=False,
        provider_creator=creator,
        appointment_id=AppointmentId(appointment) if appointment else None,
    )


def appointment(linked: str | None) -> Appointment:
    return Appointment(
        id=AppointmentId("apt-1"),
        org_id=ORG,
        pet_owner_id=OWNER,
        vet_id=VET,
        starts_at=datetime(2026, 12, 7, 9, tzinfo=UTC),
        chat_channel_id=ChannelId(linked) if linked else None,
    )


def test_the_system_user_as_creator_vouches_for_any_channel() -> None:
    assert is_ours(channel(cid="grp-1", creator=SYSTEM_USER_ID))
    assert is_ours(channel(cid="grp-1", creator=UserId("bot")), system_user=UserId("bot"))


def test_a_person_as_creator_vouches_for_nothing_whatever_the_custom_data() -> None:
    forged = channel(cid="grp-1", creator=VET)
    assert not is_ours(forged)
    assert not is_ours(channel(cid="grp-1", creator=None))
    # Another deployment's system user is a person here.
    assert not is_ours(channel(cid="grp-1", creator=SYSTEM_USER_ID), system_user=UserId("bot"))


def test_a_colleague_dm_with_the_derived_id_of_its_org_and_two_members_is_ours() -> None:
    cid = colleague_dm_channel_id(ORG, VET, NURSE)
    assert is_ours(channel(cid=cid, category=ChatCategory.COLLEAGUE, creator=VET))


def test_a_derived_dm_id_vouches_only_for_exactly_that_org_pair_and_category() -> None:
    cid = colleague_dm_channel_id(ORG, VET, NURSE)
    dm = ChatCategory.COLLEAGUE
    # A third member, one member, another org, another category: none is the service's DM.
    assert not is_ours(channel(cid=cid, category=dm, members=frozenset({VET, NURSE, OWNER})))
    assert not is_ours(channel(cid=cid, category=dm, members=frozenset({VET})))
    assert not is_ours(channel(cid=cid, category=dm, org=OrgId("org-2")))
    assert not is_ours(channel(cid=cid, category=ChatCategory.GROUP))
    # The right pair under an id derived for another pair.
    other = colleague_dm_channel_id(ORG, VET, OWNER)
    assert not is_ours(channel(cid=other, category=dm))
    # An empty org never vouches, even for the id derived from it.
    empty = colleague_dm_channel_id(OrgId(""), VET, NURSE)
    assert not is_ours(channel(cid=empty, category=dm, org=OrgId("")))


def test_an_appointment_record_vouches_only_for_the_channel_it_links() -> None:
    chat = channel(cid="apt-chat", category=ChatCategory.CLIENT, appointment="apt-1")
    assert is_ours(chat, linked=appointment("apt-chat"))
    assert not is_ours(chat, linked=appointment("another-chat"))
    assert not is_ours(chat, linked=appointment(None))
    assert not is_ours(chat, linked=None)


def test_only_ours_keeps_order_and_drops_the_rest() -> None:
    a = channel(cid="a", creator=SYSTEM_USER_ID)
    forged = channel(cid="b", creator=VET)
    c = channel(cid="c", creator=SYSTEM_USER_ID)
    assert only_ours([a, forged, c]) == [a, c]


def test_needs_record_is_an_appointment_chat_nobody_vouched_for_yet() -> None:
    client = ChatCategory.CLIENT
    assert needs_record(channel(cid="x", category=client, appointment="apt-1", creator=VET))
    # Already ours, not an appointment chat, or naming no appointment: no lookup needed.
    assert not needs_record(
        channel(cid="x", category=client, appointment="apt-1", creator=SYSTEM_USER_ID)
    )
    assert not needs_record(channel(cid="x", appointment="apt-1", creator=VET))
    assert not needs_record(channel(cid="x", category=client, creator=VET))


@given(
    creator=st.sampled_from([VET, NURSE, OWNER, None]),
    category=st.sampled_from(list(ChatCategory)),
    members=st.frozensets(st.sampled_from([VET, NURSE, OWNER]), max_size=3),
    cid=st.text(min_size=1, max_size=12),
)
def test_a_person_made_channel_is_ours_only_under_the_dm_id(
    creator: UserId | None, category: ChatCategory, members: frozenset[UserId], cid: str
) -> None:
    """Whatever a person writes, only the service's own derived DM id can vouch."""
    forged = channel(cid=cid, category=category, members=members, creator=creator)
    if is_ours(forged):
        a, b = sorted(members)
        assert category is ChatCategory.COLLEAGUE
        assert forged.id == colleague_dm_channel_id(ORG, a, b)


def test_a_configured_system_user_is_the_only_creator_that_vouches() -> None:
    # STREAM_SYSTEM_USER_ID=bot: a person who registered the id `system` vouches for nothing,
    # in the record-free filter and in what still needs a record alike.
    bot = UserId("bot")
    by_bot = channel(cid="grp-1", creator=bot)
    by_person = channel(cid="grp-2", creator=SYSTEM_USER_ID)
    assert only_ours([by_person, by_bot], system_user=bot) == [by_bot]
    client_by_bot = channel(
        cid="apt-c1", category=ChatCategory.CLIENT, creator=bot, appointment="a"
    )
    client_by_person = channel(
        cid="apt-c2", category=ChatCategory.CLIENT, creator=SYSTEM_USER_ID, appointment="a"
    )
    assert not needs_record(client_by_bot, system_user=bot)
    assert needs_record(client_by_person, system_user=bot)
