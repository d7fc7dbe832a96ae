"""The ChatProvider contract: every adapter of the port must pass these, through the port only.

Each adapter plugs in as an async context manager yielding a `Harness`: the provider, the
secret its user tokens are signed with, and a way to post a message as an ordinary user
(something the port never does, but the frontends do, and frozen channels must refuse).
A factory gets the test's fixture request, to reach shared fixtures such as a server.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta

import attrs
import jwt
import pytest
from stream_chat.async_chat.client import StreamChatAsync
from stream_chat.base.exceptions import StreamAPIException

from tests.support.emulator import API_SECRET, adapter_config, user_token
from tests.support.emulator import stream_emulator as stream_emulator  # the fixture
from yc_chat.adapters.fake_stream import FakeStreamChatProvider, StreamAPIError, StreamState
from yc_chat.adapters.stream import StreamChatProvider
from yc_chat.domain import errors
from yc_chat.domain.limits import MAX_LIST_OFFSET
from yc_chat.domain.model import (
    SYSTEM_PROFILE,
    SYSTEM_USER_ID,
    AppointmentId,
    ChannelId,
    ChannelSpec,
    ChatCategory,
    ChatStatus,
    ClientAccess,
    OrgId,
    UserId,
    UserProfile,
)
from yc_chat.domain.queries import ChannelOrder, ChannelQuery
from yc_chat.ports import ChatProvider

ORG_A = OrgId("org-a")
ORG_B = OrgId("org-b")
VET_1 = UserId("vet-1")
VET_2 = UserId("vet-2")
NURSE = UserId("nurse-1")
OWNER_1 = UserId("owner-1")
OWNER_2 = UserId("owner-2")
STRANGER = UserId("stranger-1")
PROFILES = [
    UserProfile(id=VET_1, name="Dr. Ana Núñez"),
    UserProfile(id=VET_2, name="Dr. Ben Okafor", image="https://img.example/ben.png"),
    UserProfile(id=NURSE, name="Cleo Park"),
    UserProfile(id=OWNER_1, name="Sam Lee"),
    UserProfile(id=OWNER_2, name="Ria Patel"),
    SYSTEM_PROFILE,
]
APPOINTMENT_TIME = datetime(2026, 1, 15, 14, 0, tzinfo=UTC)


class MessageRejected(Exception):
    """The provider refused a message posted as an ordinary user."""


@attrs.frozen(kw_only=True)
class Harness:
    provider: ChatProvider
    api_secret: str
    # What a client app must be told to use the provider's tokens.
    access: ClientAccess
    post_as_user: Callable[[ChannelId, UserId, str], Awaitable[None]]


class TickingClock:
    """A clock that moves one second per reading, so every write has its own instant."""

    def __init__(self, start: datetime) -> None:
        self._ticks = itertools.count()
        self._start = start

    def __call__(self) -> datetime:
        return self._start + timedelta(seconds=next(self._ticks))


@asynccontextmanager
async def make_fake(_: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    state = StreamState(clock=TickingClock(datetime(2026, 1, 1, tzinfo=UTC)))
    provider = FakeStreamChatProvider(state, api_secret="contract-test-secret-of-at-least-32-bytes")

    async def post_as_user(channel_id: ChannelId, user_id: UserId, text: str) -> None:
        try:
            # As a client-side call, like a frontend with the user's token: permissions apply.
            state.send_message(
                "messaging", channel_id, text=text, user_id=user_id, client_side=True
            )
        except StreamAPIError as exc:
            raise MessageRejected(exc.message) from exc

    yield Harness(
        provider=provider,
        api_secret=provider.api_secret,
        access=ClientAccess(api_key=provider.api_key, base_url=None),
        post_as_user=post_as_user,
    )


@asynccontextmanager
async def make_stream_emulator(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    """The real Stream adapter (official SDK) against the emulator, over HTTP on 127.0.0.1."""
    emulator = request.getfixturevalue("stream_emulator")
    emulator.control.reset(StreamState(clock=TickingClock(datetime(2026, 1, 1, tzinfo=UTC))))
    provider = await StreamChatProvider.open(adapter_config(emulator))
    # Frontends post with the user's own token, as a client-side call: Stream checks it.
    client = StreamChatAsync(emulator.api_key, API_SECRET, base_url=emulator.base_url)

    async def post_as_user(channel_id: ChannelId, user_id: UserId, text: str) -> None:
        client.auth_token = user_token(user_id)
        try:
            await client.channel("messaging", channel_id).send_message({"text": text}, user_id)
        except StreamAPIException as exc:
            raise MessageRejected(str(exc)) from exc

    try:
        yield Harness(
            provider=provider,
            api_secret=API_SECRET,
            access=ClientAccess(api_key=emulator.api_key, base_url=emulator.base_url),
            post_as_user=post_as_user,
        )
    finally:
        await client.close()
        await provider.aclose()


# Every adapter of the port: the in-memory fake, and the Stream adapter on the emulator.
ADAPTERS: dict[str, Callable[[pytest.FixtureRequest], AbstractAsyncContextManager[Harness]]] = {
    "fake": make_fake,
    "stream-emulator": make_stream_emulator,
}


@pytest.fixture(params=sorted(ADAPTERS))
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    async with ADAPTERS[request.param](request) as built:
        await built.provider.upsert_profiles(PROFILES)
        yield built


@pytest.fixture
def chat_provider(harness: Harness) -> ChatProvider:
    return harness.provider


def client_spec(
    channel_id: str,
    *,
    org: OrgId = ORG_A,
    owner: UserId = OWNER_1,
    vet: UserId = VET_1,
    status: ChatStatus = ChatStatus.ACTIVE,
) -> ChannelSpec:
    return ChannelSpec(
        id=ChannelId(channel_id),
        category=ChatCategory.CLIENT,
        org_id=org,
        members=frozenset({owner, vet}),
        created_by=vet,
        status=status,
        name="Chat with Sam Lee",
        appointment_id=AppointmentId(f"apt-{channel_id}"),
        appointment_time=APPOINTMENT_TIME,
        pet_owner_id=owner,
        pet_owner_name="Sam Lee",
        pet_name="Rex",
        vet_id=vet,
    )


def group_spec(
    channel_id: str,
    *,
    org: OrgId = ORG_A,
    members: frozenset[UserId] = frozenset({VET_1, VET_2, NURSE}),
    name: str = "Surgery team",
) -> ChannelSpec:
    return ChannelSpec(
        id=ChannelId(channel_id),
        category=ChatCategory.GROUP,
        org_id=org,
        members=members,
        created_by=VET_1,
        status=ChatStatus.ACTIVE,
        name=name,
        image="https://img.example/team.png",
        read_only=True,
    )


def dm_spec(channel_id: str, *, org: OrgId = ORG_A) -> ChannelSpec:
    return ChannelSpec(
        id=ChannelId(channel_id),
        category=ChatCategory.COLLEAGUE,
        org_id=org,
        members=frozenset({VET_1, NURSE}),
        created_by=VET_1,
        status=ChatStatus.ACTIVE,
    )


async def ids_of(provider: ChatProvider, query: ChannelQuery, limit: int = 100) -> list[str]:
    page = await provider.query_channels(query, limit=limit, offset=0)
    return [channel.id for channel in page.channels]


# -- open_channel / get_channel -----------------------------------------------------------


async def test_open_channel_creates_it_with_the_specs_data(chat_provider: ChatProvider) -> None:
    spec = client_spec("apt_1", status=ChatStatus.PENDING)

    opened = await chat_provider.open_channel(spec)

    assert opened.created
    channel = opened.channel
    assert channel.id == spec.id
    assert channel.category is ChatCategory.CLIENT
    assert channel.org_id == ORG_A
    assert channel.members == {OWNER_1, VET_1}
    assert channel.member_count == 2
    assert channel.created_by == VET_1
    assert channel.status is ChatStatus.PENDING
    assert channel.frozen
    assert channel.name == "Chat with Sam Lee"
    assert channel.appointment_id == "apt-apt_1"
    assert channel.appointment_time == APPOINTMENT_TIME
    assert (channel.pet_owner_id, channel.pet_owner_name, channel.pet_name) == (
        OWNER_1,
        "Sam Lee",
        "Rex",
    )
    assert channel.vet_id == VET_1
    assert channel.last_message_text is None
    assert channel.last_message_at is None
    assert channel.created_at is not None
    assert await chat_provider.get_channel(spec.id) == channel


async def test_open_channel_keeps_group_fields(chat_provider: ChatProvider) -> None:
    spec = group_spec("grp_1")

    channel = (await chat_provider.open_channel(spec)).channel

    assert channel.is_group
    assert channel.status is ChatStatus.ACTIVE
    assert not channel.frozen
    assert channel.read_only
    assert channel.image == "https://img.example/team.png"
    assert channel.name == "Surgery team"
    assert channel.appointment_id is None


async def test_open_channel_returns_an_existing_channel_unchanged(
    chat_provider: ChatProvider,
) -> None:
    first = (await chat_provider.open_channel(group_spec("grp_1", name="Original"))).channel

    again = await chat_provider.open_channel(
        group_spec("grp_1", name="Other", members=frozenset({VET_2, OWNER_1}))
    )

    assert not again.created
    assert again.channel == first
    assert again.channel.name == "Original"
    assert again.channel.members == {VET_1, VET_2, NURSE}


@pytest.mark.parametrize(
    "channel_id",
    ["", "Upper", "has space", "bang!", "dot.ted", "ümlaut", "x" * 65],
)
async def test_open_channel_rejects_invalid_ids(
    chat_provider: ChatProvider, channel_id: str
) -> None:
    # The use cases validate ids first: an invalid one reaching the adapter is our bug (502).
    with pytest.raises(errors.ProviderFailed) as refused:
        await chat_provider.open_channel(dm_spec(channel_id))
    assert refused.value.status == 502


async def test_open_channel_accepts_a_64_character_id(chat_provider: ChatProvider) -> None:
    opened = await chat_provider.open_channel(dm_spec("a" * 64))

    assert opened.created


async def test_open_channel_rejects_unknown_members(chat_provider: ChatProvider) -> None:
    spec = group_spec("grp_1", members=frozenset({VET_1, STRANGER}))

    with pytest.raises(errors.ProviderFailed):
        await chat_provider.open_channel(spec)

    assert await chat_provider.get_channel(spec.id) is None


async def test_the_system_user_creates_every_channel(chat_provider: ChatProvider) -> None:
    # Stream gives a channel's creator owner rights: no person may be the provider's
    # creator. The contract's creator is custom data, even one the provider never met.
    for spec in (
        client_spec("apt_1"),
        group_spec("grp_1"),
        attrs.evolve(dm_spec("dm_1"), created_by=STRANGER),
    ):
        channel = (await chat_provider.open_channel(spec)).channel
        assert channel.provider_creator == SYSTEM_USER_ID
        assert channel.created_by == spec.created_by
        again = await chat_provider.get_channel(spec.id)
        assert again is not None
        assert (again.provider_creator, again.created_by) == (SYSTEM_USER_ID, spec.created_by)


async def test_get_channel_is_none_for_a_missing_channel(chat_provider: ChatProvider) -> None:
    assert await chat_provider.get_channel(ChannelId("grp_missing")) is None


async def test_upserted_profiles_can_be_updated_and_used(chat_provider: ChatProvider) -> None:
    newcomer = UserId("newcomer-1")
    await chat_provider.upsert_profiles([UserProfile(id=newcomer, name="New")])
    await chat_provider.upsert_profiles([UserProfile(id=newcomer, name="Renamed")])

    opened = await chat_provider.open_channel(
        group_spec("grp_1", members=frozenset({VET_1, newcomer}))
    )

    assert opened.channel.members == {VET_1, newcomer}


async def test_upsert_profiles_takes_large_batches(chat_provider: ChatProvider) -> None:
    many = [UserProfile(id=UserId(f"bulk-{n}"), name=f"Bulk {n}") for n in range(150)]

    await chat_provider.upsert_profiles(many)

    opened = await chat_provider.open_channel(
        group_spec("grp_1", members=frozenset(profile.id for profile in many))
    )
    assert opened.channel.member_count == 150


# -- set_status -----------------------------------------------------------------------------


async def test_ending_freezes_with_the_notice_as_last_message(
    harness: Harness, chat_provider: ChatProvider
) -> None:
    spec = client_spec("apt_1")
    await chat_provider.open_channel(spec)
    await harness.post_as_user(spec.id, OWNER_1, "Hello doctor")

    ended = await chat_provider.set_status(
        spec.id, ChatStatus.ENDED, notice="This chat was closed by Dr. Ana Núñez."
    )

    assert ended.status is ChatStatus.ENDED
    assert ended.frozen
    assert ended.last_message_text == "This chat was closed by Dr. Ana Núñez."
    assert ended.last_message_at is not None
    assert await chat_provider.get_channel(spec.id) == ended
    with pytest.raises(MessageRejected):
        await harness.post_as_user(spec.id, OWNER_1, "Are you there?")
    assert (await chat_provider.get_channel(spec.id)) == ended


async def test_ending_keeps_the_channel_data(chat_provider: ChatProvider) -> None:
    spec = client_spec("apt_1")
    before = (await chat_provider.open_channel(spec)).channel

    ended = await chat_provider.set_status(spec.id, ChatStatus.ENDED)

    unchanged = ("category", "org_id", "members", "name", "appointment_id", "appointment_time")
    for field in unchanged:
        assert getattr(ended, field) == getattr(before, field), field
    assert (ended.pet_owner_id, ended.pet_name, ended.vet_id) == (OWNER_1, "Rex", VET_1)


async def test_a_pending_chat_can_be_ended_with_a_notice(chat_provider: ChatProvider) -> None:
    spec = client_spec("apt_1", status=ChatStatus.PENDING)
    await chat_provider.open_channel(spec)

    ended = await chat_provider.set_status(spec.id, ChatStatus.ENDED, notice="Closed.")

    assert ended.status is ChatStatus.ENDED
    assert ended.frozen
    assert ended.last_message_text == "Closed."


async def test_activating_a_pending_chat_unfreezes_it(
    harness: Harness, chat_provider: ChatProvider
) -> None:
    spec = client_spec("apt_1", status=ChatStatus.PENDING)
    await chat_provider.open_channel(spec)
    with pytest.raises(MessageRejected):
        await harness.post_as_user(spec.id, OWNER_1, "Too early")

    active = await chat_provider.set_status(spec.id, ChatStatus.ACTIVE)

    assert active.status is ChatStatus.ACTIVE
    assert not active.frozen
    assert active.last_message_text is None
    await harness.post_as_user(spec.id, OWNER_1, "Now it works")
    channel = await chat_provider.get_channel(spec.id)
    assert channel is not None
    assert channel.last_message_text == "Now it works"


async def test_set_status_of_a_missing_channel_is_not_found(chat_provider: ChatProvider) -> None:
    with pytest.raises(errors.NotFound):
        await chat_provider.set_status(ChannelId("apt_missing"), ChatStatus.ENDED, notice="x")


# -- change_members -------------------------------------------------------------------------


async def test_change_members_adds_and_removes_with_one_notice(
    chat_provider: ChatProvider,
) -> None:
    spec = group_spec("grp_1", members=frozenset({VET_1, NURSE}))
    await chat_provider.open_channel(spec)

    changed = await chat_provider.change_members(
        spec.id,
        add=frozenset({VET_2}),
        remove=frozenset({NURSE}),
        notice="Dr. Ana Núñez added Dr. Ben Okafor and removed Cleo Park.",
    )

    assert changed.members == {VET_1, VET_2}
    assert changed.member_count == 2
    assert changed.last_message_text == "Dr. Ana Núñez added Dr. Ben Okafor and removed Cleo Park."
    assert await chat_provider.get_channel(spec.id) == changed


async def test_members_are_a_set(chat_provider: ChatProvider) -> None:
    spec = group_spec("grp_1", members=frozenset({VET_1, NURSE}))
    await chat_provider.open_channel(spec)

    changed = await chat_provider.change_members(
        spec.id, add=frozenset({VET_1, NURSE}), remove=frozenset({OWNER_2})
    )

    assert changed.members == {VET_1, NURSE}
    assert changed.member_count == 2
    assert changed.last_message_text is None


async def test_change_members_rejects_unknown_users(chat_provider: ChatProvider) -> None:
    spec = group_spec("grp_1")
    await chat_provider.open_channel(spec)

    with pytest.raises(errors.ProviderFailed):
        await chat_provider.change_members(spec.id, add=frozenset({STRANGER}))

    channel = await chat_provider.get_channel(spec.id)
    assert channel is not None
    assert channel.members == spec.members


async def test_change_members_of_a_missing_channel_is_not_found(
    chat_provider: ChatProvider,
) -> None:
    with pytest.raises(errors.NotFound):
        await chat_provider.change_members(ChannelId("grp_missing"), add=frozenset({VET_1}))


async def test_members_can_change_while_frozen(chat_provider: ChatProvider) -> None:
    spec = client_spec("apt_1", status=ChatStatus.PENDING)
    await chat_provider.open_channel(spec)

    changed = await chat_provider.change_members(
        spec.id, add=frozenset({VET_2}), remove=frozenset({VET_1})
    )

    assert changed.members == {OWNER_1, VET_2}
    assert changed.frozen


# -- query_channels -------------------------------------------------------------------------


async def test_query_channels_only_lists_the_members_channels(
    chat_provider: ChatProvider,
) -> None:
    await chat_provider.open_channel(client_spec("apt_1", owner=OWNER_1))
    await chat_provider.open_channel(client_spec("apt_2", owner=OWNER_2))
    await chat_provider.open_channel(dm_spec("dm_1"))

    assert set(await ids_of(chat_provider, ChannelQuery(member=OWNER_1))) == {"apt_1"}
    assert set(await ids_of(chat_provider, ChannelQuery(member=OWNER_2))) == {"apt_2"}
    assert set(await ids_of(chat_provider, ChannelQuery(member=VET_1))) == {
        "apt_1",
        "apt_2",
        "dm_1",
    }
    assert await ids_of(chat_provider, ChannelQuery(member=STRANGER)) == []


async def test_query_channels_filters(chat_provider: ChatProvider) -> None:
    await chat_provider.open_channel(client_spec("apt_1", owner=OWNER_1, vet=VET_1))
    await chat_provider.open_channel(client_spec("apt_2", owner=OWNER_2, vet=VET_1, org=ORG_B))
    await chat_provider.open_channel(client_spec("apt_3", owner=VET_2, vet=VET_1))
    await chat_provider.open_channel(group_spec("grp_1"))
    await chat_provider.open_channel(group_spec("grp_2", org=ORG_B))
    await chat_provider.open_channel(dm_spec("dm_1"))

    async def ids(query: ChannelQuery) -> set[str]:
        return set(await ids_of(chat_provider, query))

    client, group = ChatCategory.CLIENT, ChatCategory.GROUP
    assert await ids(ChannelQuery(member=VET_1, category=client)) == {"apt_1", "apt_2", "apt_3"}
    assert await ids(ChannelQuery(member=VET_1, category=group)) == {"grp_1", "grp_2"}
    assert await ids(ChannelQuery(member=VET_1, category=ChatCategory.COLLEAGUE)) == {"dm_1"}
    assert await ids(ChannelQuery(member=VET_1, org_id=ORG_B)) == {"apt_2", "grp_2"}
    assert await ids(ChannelQuery(member=VET_1, category=group, org_id=ORG_A)) == {"grp_1"}
    assert await ids(ChannelQuery(member=VET_1, vet_id=VET_1)) == {"apt_1", "apt_2", "apt_3"}
    assert await ids(ChannelQuery(member=VET_1, vet_id=VET_2)) == set()
    assert await ids(ChannelQuery(member=VET_1, pet_owner_id=OWNER_2)) == {"apt_2"}
    # VET_2 is the pet owner of apt_3 (staff can own pets too) and a member of the groups.
    vet_2_as_owner = ChannelQuery(member=VET_2, pet_owner_id=VET_2)
    assert await ids_of(chat_provider, vet_2_as_owner) == ["apt_3"]


async def test_query_channels_sorts_by_last_activity(
    harness: Harness, chat_provider: ChatProvider
) -> None:
    for channel_id in ("grp_1", "grp_2", "grp_3"):
        await chat_provider.open_channel(group_spec(channel_id))
    query = ChannelQuery(member=VET_1)
    # Without messages, the newest channel counts as the most recently active.
    assert await ids_of(chat_provider, query) == ["grp_3", "grp_2", "grp_1"]

    # grp_1 is a read-only group: only its creator (VET_1) may post in it.
    await harness.post_as_user(ChannelId("grp_1"), VET_1, "first")
    assert await ids_of(chat_provider, query) == ["grp_1", "grp_3", "grp_2"]

    await chat_provider.change_members(ChannelId("grp_2"), add=frozenset({OWNER_1}), notice="+1")
    assert await ids_of(chat_provider, query) == ["grp_2", "grp_1", "grp_3"]

    page = await chat_provider.query_channels(query, limit=10, offset=0)
    newest = page.channels[0]
    assert newest.last_message_text == "+1"
    assert newest.last_message_at is not None
    assert page.channels[1].last_message_text == "first"
    assert page.channels[1].last_message_at is not None
    assert newest.last_message_at > page.channels[1].last_message_at


async def test_query_channels_in_creation_order_from_a_time(
    harness: Harness, chat_provider: ChatProvider
) -> None:
    """Offboarding's walk: oldest creation first, activity changes nothing, and
    `created_from` keeps the channels created at or after it."""
    for channel_id in ("grp_1", "grp_2", "grp_3", "grp_4"):
        await chat_provider.open_channel(group_spec(channel_id))
    await harness.post_as_user(ChannelId("grp_1"), VET_1, "first")
    query = ChannelQuery(member=NURSE, order=ChannelOrder.CREATION)
    page = await chat_provider.query_channels(query, limit=10, offset=0)
    assert [c.id for c in page.channels] == ["grp_1", "grp_2", "grp_3", "grp_4"]
    created = [c.created_at for c in page.channels]
    assert all(t is not None for t in created)
    assert created == sorted(created)  # type: ignore[type-var]

    third = page.channels[2].created_at
    from_third = attrs.evolve(query, created_from=third)
    assert await ids_of(chat_provider, from_third) == ["grp_3", "grp_4"]
    later = attrs.evolve(query, created_from=third + timedelta(microseconds=1))  # type: ignore[operator]
    assert await ids_of(chat_provider, later) == ["grp_4"]
    page = await chat_provider.query_channels(from_third, limit=1, offset=1)
    assert [c.id for c in page.channels] == ["grp_4"] and not page.has_more


async def test_revoking_tokens_is_idempotent_and_unknown_users_hold_none(
    chat_provider: ChatProvider,
) -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    await chat_provider.revoke_tokens(VET_2, issued_before=at)
    await chat_provider.revoke_tokens(VET_2, issued_before=at)
    await chat_provider.revoke_tokens(STRANGER, issued_before=at)


async def test_query_channels_pages_without_duplicates(chat_provider: ChatProvider) -> None:
    for n in range(7):
        await chat_provider.open_channel(group_spec(f"grp_{n}"))
    query = ChannelQuery(member=NURSE)

    pages = [await chat_provider.query_channels(query, limit=3, offset=o) for o in (0, 3, 6)]

    assert [page.has_more for page in pages] == [True, True, False]
    assert [len(page.channels) for page in pages] == [3, 3, 1]
    seen = [channel.id for page in pages for channel in page.channels]
    assert len(seen) == len(set(seen)) == 7
    assert seen == [f"grp_{n}" for n in reversed(range(7))]


async def test_query_channels_exact_last_page_has_no_more(chat_provider: ChatProvider) -> None:
    for n in range(4):
        await chat_provider.open_channel(group_spec(f"grp_{n}"))
    query = ChannelQuery(member=NURSE)

    first = await chat_provider.query_channels(query, limit=2, offset=0)
    last = await chat_provider.query_channels(query, limit=2, offset=2)
    beyond = await chat_provider.query_channels(query, limit=2, offset=4)

    assert (first.has_more, last.has_more) == (True, False)
    assert beyond.channels == ()
    assert not beyond.has_more


async def test_query_channels_past_the_providers_depth_is_a_provider_failure(
    chat_provider: ChatProvider,
) -> None:
    await chat_provider.open_channel(group_spec("grp_1"))
    query = ChannelQuery(member=NURSE)

    # The product's cursor never goes past MAX_LIST_OFFSET: deeper is the adapter's refusal.
    with pytest.raises(errors.ProviderFailed) as refused:
        await chat_provider.query_channels(query, limit=2, offset=MAX_LIST_OFFSET + 1)
    assert refused.value.status == 502
    at_the_limit = await chat_provider.query_channels(query, limit=2, offset=MAX_LIST_OFFSET)
    assert at_the_limit.channels == ()


async def test_query_channels_returns_pages_of_up_to_100(chat_provider: ChatProvider) -> None:
    for n in range(65):
        await chat_provider.open_channel(group_spec(f"grp_{n:02d}"))
    query = ChannelQuery(member=NURSE)

    everything = await chat_provider.query_channels(query, limit=100, offset=0)
    first = await chat_provider.query_channels(query, limit=40, offset=0)
    rest = await chat_provider.query_channels(query, limit=40, offset=40)

    assert len(everything.channels) == 65
    assert not everything.has_more
    assert (len(first.channels), first.has_more) == (40, True)
    assert (len(rest.channels), rest.has_more) == (25, False)
    assert [c.id for c in first.channels + rest.channels] == [c.id for c in everything.channels]
    assert len({c.id for c in everything.channels}) == 65


# -- tokens and health --------------------------------------------------------------------


async def test_user_tokens_carry_user_id_iat_and_exp(harness: Harness) -> None:
    issued_at = datetime.now(UTC).replace(microsecond=0)
    expires_at = issued_at + timedelta(hours=24)

    token = await harness.provider.issue_user_token(
        VET_1, issued_at=issued_at, expires_at=expires_at
    )

    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(token, harness.api_secret, algorithms=["HS256"])
    assert claims["user_id"] == VET_1
    # Adapters may backdate `iat` a little (Stream refuses a token issued in its future).
    issued = int(issued_at.timestamp())
    assert issued - 30 <= claims["iat"] <= issued
    assert claims["exp"] == int(expires_at.timestamp())


async def test_client_access_names_the_key_and_address_tokens_work_with(
    harness: Harness,
) -> None:
    access = await harness.provider.client_access()

    assert access == harness.access


async def test_ping_succeeds_when_reachable(chat_provider: ChatProvider) -> None:
    await chat_provider.ping()


async def test_read_only_rooms_let_only_the_creator_and_posters_write(
    harness: Harness, chat_provider: ChatProvider
) -> None:
    spec = attrs.evolve(group_spec("grp_ro"), posters=frozenset({VET_2}))
    await chat_provider.open_channel(spec)
    await harness.post_as_user(spec.id, VET_1, "from the creator")
    await harness.post_as_user(spec.id, VET_2, "from an admin poster")
    with pytest.raises(MessageRejected):
        await harness.post_as_user(spec.id, NURSE, "from a plain member")

    late_admin = UserProfile(id=UserId("admin-late"), name="Late Admin")
    await chat_provider.upsert_profiles([late_admin])
    await chat_provider.change_members(
        spec.id, add=frozenset({OWNER_1, late_admin.id}), posters=frozenset({late_admin.id})
    )
    await harness.post_as_user(spec.id, late_admin.id, "added as a poster")
    with pytest.raises(MessageRejected):
        await harness.post_as_user(spec.id, OWNER_1, "added as a reader")


async def test_open_rooms_let_every_member_write(
    harness: Harness, chat_provider: ChatProvider
) -> None:
    spec = attrs.evolve(group_spec("grp_open"), read_only=False)
    await chat_provider.open_channel(spec)
    await harness.post_as_user(spec.id, NURSE, "hello")
    channel = await chat_provider.get_channel(spec.id)
    assert channel is not None
    assert channel.last_message_text == "hello"


async def test_update_details_rewrites_descriptive_data_only(
    chat_provider: ChatProvider,
) -> None:
    spec = client_spec("apt_details")
    await chat_provider.open_channel(spec)
    ended = await chat_provider.set_status(spec.id, ChatStatus.ENDED, notice="closed")
    renamed = attrs.evolve(
        spec,
        name="Chat with Someone Else",
        pet_owner_name="Someone Else",
        vet_id=VET_2,
        status=ChatStatus.ACTIVE,  # must not reopen anything
        org_id=ORG_B,  # nor move the channel to another org
    )
    updated = await chat_provider.update_details(spec.id, renamed)
    assert (updated.name, updated.pet_owner_name, updated.vet_id) == (
        "Chat with Someone Else",
        "Someone Else",
        VET_2,
    )
    assert (updated.status, updated.frozen, updated.org_id) == (
        ChatStatus.ENDED,
        True,
        spec.org_id,
    )
    assert updated.members == ended.members
    assert updated.last_message_text == "closed"
