"""StreamChatProvider (the official async SDK) against the emulator over HTTP: what the port
contract cannot show — faults and retries, read-only groups enforced by Stream, tokens Stream
accepts, one call per page, and the SDK pitfalls the adapter works around."""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import attrs
import jwt
import pytest
from stream_chat.async_chat.client import StreamChatAsync
from stream_chat.base.exceptions import StreamAPIException
from stream_chat.types.stream_response import StreamResponse

from stream_emulator import RunningEmulator
from tests.support.emulator import API_KEY, API_SECRET, adapter_config, user_token
from tests.support.emulator import stream_emulator as stream_emulator  # the fixture
from yc_chat.adapters.stream import RetryPolicy, StreamChatProvider, StreamConfig
from yc_chat.adapters.stream.failures import RateLimit, header, retry_after_seconds
from yc_chat.domain import errors
from yc_chat.domain.model import (
    ChannelId,
    ChannelSpec,
    ChatCategory,
    ChatStatus,
    OrgId,
    UserId,
    UserProfile,
)
from yc_chat.domain.queries import ChannelQuery

ANA, BEN, CLEO = UserId("ana"), UserId("ben"), UserId("cleo")
PEOPLE = [UserProfile(id=uid, name=uid.title()) for uid in (ANA, BEN, CLEO)]
UPDATE_APT_1 = "POST /channels/messaging/apt_1"


def client_spec(channel_id: str = "apt_1", status: ChatStatus = ChatStatus.ACTIVE) -> ChannelSpec:
    return ChannelSpec(
        id=ChannelId(channel_id),
        category=ChatCategory.CLIENT,
        org_id=OrgId("org-1"),
        members=frozenset({ANA, BEN}),
        created_by=ANA,
        status=status,
        name="Chat with Ben",
    )


def group_spec(channel_id: str = "grp_1", *, read_only: bool = True) -> ChannelSpec:
    return ChannelSpec(
        id=ChannelId(channel_id),
        category=ChatCategory.GROUP,
        org_id=OrgId("org-1"),
        members=frozenset({ANA, BEN}),
        created_by=ANA,
        status=ChatStatus.ACTIVE,
        name="Announcements",
        read_only=read_only,
    )


@pytest.fixture
async def provider(emulator: RunningEmulator) -> AsyncIterator[StreamChatProvider]:
    async with await StreamChatProvider.open(adapter_config(emulator)) as opened:
        await opened.upsert_profiles(PEOPLE)
        yield opened


@pytest.fixture
async def ready(provider: StreamChatProvider) -> StreamChatProvider:
    """The provider after its first channel: the system user exists (counts start clean)."""
    await provider.open_channel(group_spec("grp_first", read_only=False))
    return provider


async def post_as_user(emulator: RunningEmulator, channel_id: str, user_id: str) -> None:
    async with StreamChatAsync(API_KEY, API_SECRET, base_url=emulator.base_url) as sdk:
        sdk.auth_token = user_token(user_id)
        await sdk.channel("messaging", channel_id).send_message({"text": "hi"}, user_id)


def requests_to(emulator: RunningEmulator, line: str) -> int:
    return emulator.control.requests()[line]


# -- faults and retries ---------------------------------------------------------------------


async def test_a_failing_stream_is_unavailable_and_recovers(
    emulator: RunningEmulator, ready: StreamChatProvider
) -> None:
    provider = ready
    emulator.control.fail(503)

    with pytest.raises(errors.ProviderUnavailable) as caught:
        await provider.open_channel(client_spec())
    with pytest.raises(errors.ProviderUnavailable):
        await provider.ping()

    assert caught.value.retry_after >= 1
    assert requests_to(emulator, "POST /channels/messaging/apt_1/query") == 3
    assert emulator.control.state.channel("messaging", "apt_1") is None
    emulator.control.heal()
    opened = await provider.open_channel(client_spec())
    assert opened.created
    await provider.ping()


async def test_idempotent_calls_ride_out_a_short_outage(
    emulator: RunningEmulator, ready: StreamChatProvider
) -> None:
    provider = ready
    emulator.control.fail(503, count=2)

    opened = await provider.open_channel(client_spec())

    assert opened.created
    assert requests_to(emulator, "POST /channels/messaging/apt_1/query") == 3


async def test_a_call_that_posts_is_not_blindly_retried(
    emulator: RunningEmulator, provider: StreamChatProvider
) -> None:
    await provider.open_channel(client_spec())
    emulator.control.fail(503, count=1, only=UPDATE_APT_1)

    with pytest.raises(errors.ProviderUnavailable):
        await provider.set_status(ChannelId("apt_1"), ChatStatus.ENDED, notice="Closed.")

    assert requests_to(emulator, UPDATE_APT_1) == 1
    assert emulator.control.state.messages("messaging", "apt_1") == ()
    ended = await provider.set_status(ChannelId("apt_1"), ChatStatus.ENDED, notice="Closed.")
    assert (ended.status, ended.frozen, ended.last_message_text) == (
        ChatStatus.ENDED,
        True,
        "Closed.",
    )
    assert len(emulator.control.state.messages("messaging", "apt_1")) == 1


async def test_a_rate_limited_post_is_retried_after_the_reset(
    emulator: RunningEmulator, provider: StreamChatProvider
) -> None:
    await provider.open_channel(client_spec())
    # A 429 means Stream did nothing, so even a call that posts may be sent again.
    emulator.control.fail(429, count=1, only=UPDATE_APT_1)

    ended = await provider.set_status(ChannelId("apt_1"), ChatStatus.ENDED, notice="Closed.")

    assert ended.last_message_text == "Closed."
    assert requests_to(emulator, UPDATE_APT_1) == 2
    assert len(emulator.control.state.messages("messaging", "apt_1")) == 1


async def test_a_long_rate_limit_is_unavailable_with_retry_after(
    emulator: RunningEmulator,
) -> None:
    impatient = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05, max_rate_limit_wait=0)
    emulator.control.fail(429)

    async with await StreamChatProvider.open(adapter_config(emulator, retry=impatient)) as provider:
        with pytest.raises(errors.ProviderUnavailable) as caught:
            await provider.get_channel(ChannelId("apt_1"))

    assert caught.value.retry_after == 1
    assert requests_to(emulator, "POST /channels") == 1


async def test_a_slow_stream_times_out(emulator: RunningEmulator) -> None:
    emulator.control.slow(1.0)
    config = adapter_config(emulator, timeout=0.2, retry=RetryPolicy(attempts=2, base_delay=0))

    async with await StreamChatProvider.open(config) as provider:
        with pytest.raises(errors.ProviderUnavailable) as caught:
            await provider.get_channel(ChannelId("apt_1"))
        emulator.control.heal()
        assert await provider.get_channel(ChannelId("apt_1")) is None

    assert "timed out" in caught.value.message


async def test_an_unreachable_stream_is_unavailable() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = StreamConfig(
        api_key=API_KEY,
        api_secret=API_SECRET,
        base_url=f"http://127.0.0.1:{port}",
        retry=RetryPolicy(attempts=2, base_delay=0.01),
    )

    async with await StreamChatProvider.open(config) as provider:
        with pytest.raises(errors.ProviderUnavailable):
            await provider.ping()
        with pytest.raises(errors.ProviderUnavailable):
            await provider.open_channel(client_spec())


# -- errors ---------------------------------------------------------------------------------


async def test_stream_errors_become_domain_errors(
    emulator: RunningEmulator, provider: StreamChatProvider
) -> None:
    stranger = attrs.evolve(client_spec(), members=frozenset({ANA, UserId("ghost")}))

    # Members the provider does not know: our bug, not the caller's input, so 502.
    with pytest.raises(errors.ProviderFailed) as refused:
        await provider.open_channel(stranger)
    assert refused.value.status == 502
    assert "ghost" not in refused.value.message  # Stream's wording stays in the log
    with pytest.raises(errors.NotFound):
        await provider.set_status(ChannelId("apt_missing"), ChatStatus.ENDED, notice="x")
    with pytest.raises(errors.NotFound):
        await provider.change_members(ChannelId("apt_missing"), add=frozenset({BEN}))
    before = sum(emulator.control.requests().values())
    with pytest.raises(errors.ProviderFailed):
        await provider.open_channel(client_spec("../app"))
    assert sum(emulator.control.requests().values()) == before


async def test_wrong_credentials_are_a_provider_failure(emulator: RunningEmulator) -> None:
    config = adapter_config(emulator, api_secret="not-the-secret-of-this-stream-app")

    async with await StreamChatProvider.open(config) as provider:
        with pytest.raises(errors.ProviderFailed):
            await provider.ping()


# -- behaviour Stream enforces --------------------------------------------------------------


async def test_read_only_groups_are_enforced_by_stream(
    emulator: RunningEmulator, provider: StreamChatProvider
) -> None:
    await provider.open_channel(group_spec("grp_news"))
    await provider.open_channel(group_spec("grp_chat", read_only=False))
    await provider.change_members(ChannelId("grp_news"), add=frozenset({CLEO}))

    await post_as_user(emulator, "grp_news", ANA)
    await post_as_user(emulator, "grp_chat", BEN)
    for member in (BEN, CLEO):
        with pytest.raises(StreamAPIException) as refused:
            await post_as_user(emulator, "grp_news", member)
        assert (refused.value.status_code, refused.value.error_code) == (403, 17)

    ended = await provider.set_status(ChannelId("grp_news"), ChatStatus.ENDED, notice="Bye.")
    news = emulator.control.state.channel("messaging", "grp_news")
    assert news is not None
    assert ended.read_only
    assert news.config_overrides == {"grants": {"channel_member": ["!create-message"]}}
    roles = {member.user_id: member.channel_role for member in news.members}
    assert roles == {"ana": "channel_moderator", "ben": "channel_member", "cleo": "channel_member"}


async def test_user_tokens_are_accepted_by_stream_at_once(
    emulator: RunningEmulator, provider: StreamChatProvider
) -> None:
    await provider.open_channel(client_spec())
    issued_at = datetime.now(UTC).replace(microsecond=0)
    expires_at = issued_at + timedelta(hours=24)

    token = await provider.issue_user_token(BEN, issued_at=issued_at, expires_at=expires_at)
    async with StreamChatAsync(API_KEY, API_SECRET, base_url=emulator.base_url) as sdk:
        sdk.auth_token = token
        await sdk.channel("messaging", "apt_1").send_message({"text": "hello"}, BEN)

    claims = jwt.decode(token, API_SECRET, algorithms=["HS256"])
    assert claims == {
        "user_id": "ben",
        "iat": int(issued_at.timestamp()) - 5,
        "exp": int(expires_at.timestamp()),
    }


async def test_the_system_user_is_upserted_once_before_it_creates_or_speaks(
    emulator: RunningEmulator, provider: StreamChatProvider
) -> None:
    assert emulator.control.state.user("system") is None
    await provider.open_channel(group_spec(read_only=False))
    # It creates every channel, so it exists from the first one on.
    assert emulator.control.state.user("system") is not None
    channel = emulator.control.state.channel("messaging", "grp_1")
    assert channel is not None and channel.created_by_id == "system"

    await provider.change_members(ChannelId("grp_1"), add=frozenset({CLEO}), notice="+Cleo")
    await provider.change_members(ChannelId("grp_1"), remove=frozenset({CLEO}), notice="-Cleo")

    assert requests_to(emulator, "POST /users") == 2  # our people, then the system user once
    texts = [m.text for m in emulator.control.state.messages("messaging", "grp_1")]
    assert texts == ["+Cleo", "-Cleo"]


async def test_listing_takes_one_call_per_30_channels(
    emulator: RunningEmulator, provider: StreamChatProvider
) -> None:
    for n in range(65):
        await provider.open_channel(group_spec(f"grp_{n:02d}", read_only=False))
    before = emulator.control.requests()

    page = await provider.query_channels(ChannelQuery(member=BEN), limit=100, offset=0)

    calls = emulator.control.requests() - before
    assert len(page.channels) == 65
    assert calls == {"POST /channels": 3}


async def test_a_write_that_posts_a_notice_needs_no_read_after_it(
    emulator: RunningEmulator, provider: StreamChatProvider
) -> None:
    await provider.open_channel(group_spec(read_only=False))
    await provider.open_channel(client_spec())
    await provider.change_members(ChannelId("grp_1"), add=frozenset({CLEO}), notice="+Cleo")
    before = emulator.control.requests()

    # The UpdateChannel response carries channel, members and the notice: no query after it.
    changed = await provider.change_members(
        ChannelId("grp_1"), add=frozenset({CLEO}), remove=frozenset({BEN}), notice="Changed."
    )
    assert (changed.members, changed.last_message_text) == ({ANA, CLEO}, "Changed.")
    assert emulator.control.requests() - before == {"POST /channels/messaging/grp_1": 2}

    before = emulator.control.requests()
    ended = await provider.set_status(ChannelId("apt_1"), ChatStatus.ENDED, notice="Closed.")
    assert (ended.status, ended.frozen, ended.last_message_text) == (
        ChatStatus.ENDED,
        True,
        "Closed.",
    )
    # The full update needs the current data (one query), then it is one update.
    assert emulator.control.requests() - before == {"POST /channels": 1, UPDATE_APT_1: 1}

    # Without a notice the last message is unknown from the response: one read after it.
    await provider.open_channel(client_spec("apt_2", status=ChatStatus.PENDING))
    before = emulator.control.requests()
    opened = await provider.set_status(ChannelId("apt_2"), ChatStatus.ACTIVE)
    assert opened.status is ChatStatus.ACTIVE
    assert emulator.control.requests() - before == {
        "POST /channels": 2,
        "POST /channels/messaging/apt_2": 1,
    }


async def test_concurrent_opens_create_the_channel_once(provider: StreamChatProvider) -> None:
    opened = await asyncio.gather(*(provider.open_channel(client_spec()) for _ in range(5)))

    assert [result.created for result in opened].count(True) == 1
    assert len({result.channel for result in opened}) == 1


# -- SDK pitfalls -----------------------------------------------------------------------------


async def test_our_settings_win_over_the_sdks_environment_variables(
    emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STREAM_CHAT_TIMEOUT", "0.000001")
    monkeypatch.setenv("STREAM_CHAT_URL", "http://127.0.0.1:9")

    async with await StreamChatProvider.open(adapter_config(emulator)) as provider:
        await provider.ping()
        await provider.aclose()


async def test_rate_limit_headers_are_read_whatever_their_case(
    provider: StreamChatProvider,
) -> None:
    headers = {"X-Ratelimit-Limit": "60", "X-Ratelimit-Remaining": "59", "X-Ratelimit-Reset": "9"}

    await provider.ping()

    # The SDK looks the lower-case names up in a case-sensitive dict and finds nothing.
    assert StreamResponse({}, headers, 200).rate_limit() is None
    assert RateLimit.from_headers(headers) == RateLimit(
        limit=60, remaining=59, reset=datetime.fromtimestamp(9, UTC)
    )
    assert header({"retry-AFTER": "3"}, "Retry-After") == "3"
    limit = provider.last_rate_limit
    assert limit is not None
    assert (limit.limit, limit.remaining) == (10_000, 9_999)


def test_retry_after_comes_from_either_header() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)

    assert retry_after_seconds({"Retry-After": "7"}, now) == 7
    assert retry_after_seconds({"Retry-After": "Thu, 01 Jan 2026 00:00:04 GMT"}, now) == 4
    assert retry_after_seconds({"x-ratelimit-reset": f"{now.timestamp() + 2:.0f}"}, now) == 2
    assert retry_after_seconds({"X-RateLimit-Reset": "0"}, now) == 0
    assert retry_after_seconds({}, now) is None


def test_backoff_is_capped_and_jittered() -> None:
    policy = RetryPolicy(attempts=10, base_delay=0.1, max_delay=0.5)
    rng = random.Random(7)

    pauses = [policy.backoff(retry, rng) for retry in range(1, 10) for _ in range(20)]

    assert all(0 <= pause <= 0.5 for pause in pauses)
    assert len(set(pauses)) > 100


def test_configuration_is_checked_and_keeps_the_secret_out_of_sight() -> None:
    with pytest.raises(ValueError, match="path"):
        StreamConfig(api_key="k", api_secret="s", base_url="http://127.0.0.1:3030/stream")
    with pytest.raises(ValueError, match="http"):
        StreamConfig(api_key="k", api_secret="s", base_url="ftp://stream")

    config = StreamConfig(api_key="k", api_secret="very-secret-value")

    assert "very-secret-value" not in repr(config)
    assert config.effective_base_url == "https://chat.stream-io-api.com"


async def test_the_provider_repr_hides_the_secret(provider: StreamChatProvider) -> None:
    assert API_SECRET not in repr(provider)
    assert API_KEY in repr(provider)
