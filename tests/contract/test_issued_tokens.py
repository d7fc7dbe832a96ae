"""IssuedTokens contract, run against every adapter: in memory and on a real Redis server
(the session's own, started by tests/support/servers.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support import servers
from yc_chat.adapters.memory import InMemoryIssuedTokens
from yc_chat.adapters.redis import RedisIssuedTokens
from yc_chat.domain.errors import ProviderUnavailable
from yc_chat.domain.model import IssuedToken, TokenRecord, UserId

ISSUED = datetime(2026, 12, 7, 3, 0, 0, tzinfo=UTC)
TTL = timedelta(hours=24)
ANA, BEN = UserId("ana"), UserId("ben")


def _token(user: UserId, issued: datetime = ISSUED, text: str | None = None) -> IssuedToken:
    return IssuedToken(
        user_id=user, token=text or f"tok-{user}-{issued:%s}", issued_at=issued,
        expires_at=issued + TTL,
    )  # fmt: skip


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    if request.param == "memory":
        yield InMemoryIssuedTokens(keep_for=TTL)
        return
    redis = RedisIssuedTokens(
        servers.redis_url(), prefix=f"yc-chat-test:{uuid.uuid4().hex}:", keep_for=TTL
    )
    yield redis
    await redis.close()


async def test_nothing_is_known_of_a_new_user(store: Any) -> None:
    assert await store.latest(ANA) == TokenRecord()


async def test_the_remembered_token_is_read_back_exactly(store: Any) -> None:
    await store.remember(_token(ANA))
    assert await store.latest(ANA) == TokenRecord(token=_token(ANA))


async def test_a_later_token_replaces_the_earlier(store: Any) -> None:
    later = _token(ANA, ISSUED + timedelta(hours=13))
    await store.remember(_token(ANA))
    await store.remember(later)
    assert (await store.latest(ANA)).token == later


async def test_users_are_kept_apart(store: Any) -> None:
    await store.remember(_token(ANA, text="ana's"))
    await store.remember(_token(BEN, text="ben's"))
    assert (await store.latest(ANA)).token == _token(ANA, text="ana's")
    assert (await store.latest(BEN)).token == _token(BEN, text="ben's")
    await store.revoke(ANA, issued_before=ISSUED + timedelta(seconds=1))
    assert (await store.latest(BEN)) == TokenRecord(token=_token(BEN, text="ben's"))


async def test_a_revocation_forgets_the_token_and_keeps_the_cut_off(store: Any) -> None:
    cut_off = ISSUED + timedelta(seconds=1)
    await store.remember(_token(ANA))
    await store.revoke(ANA, issued_before=cut_off)
    assert await store.latest(ANA) == TokenRecord(revoked_before=cut_off)


async def test_a_token_kept_after_the_revocation_still_shows_the_cut_off(store: Any) -> None:
    # A request signed before the offboarding and remembered after it: the reader must
    # see both, so the token's issue time tells it apart.
    cut_off = ISSUED + timedelta(seconds=1)
    await store.revoke(ANA, issued_before=cut_off)
    await store.remember(_token(ANA))
    assert await store.latest(ANA) == TokenRecord(token=_token(ANA), revoked_before=cut_off)


async def test_the_cut_off_only_moves_later(store: Any) -> None:
    later = ISSUED + timedelta(minutes=5)
    await store.revoke(ANA, issued_before=later)
    await store.revoke(ANA, issued_before=ISSUED)
    assert (await store.latest(ANA)).revoked_before == later


async def test_an_unreachable_redis_reuses_nothing_but_refuses_to_lose_a_revocation() -> None:
    store = RedisIssuedTokens("redis://127.0.0.1:1/0", prefix="unreachable:")
    await store.remember(_token(ANA))  # best effort: no error
    assert await store.latest(ANA) == TokenRecord()
    with pytest.raises(ProviderUnavailable) as raised:
        await store.revoke(ANA, issued_before=ISSUED)
    assert "127.0.0.1" not in str(raised.value)
    await store.close()


async def test_after_a_failure_redis_is_skipped_for_the_cool_down_but_not_for_revocations() -> None:
    now = [100.0]
    store = RedisIssuedTokens(
        "redis://127.0.0.1:1/0", prefix="unreachable:", cool_down=10.0, clock=lambda: now[0]
    )
    reads: list[str] = []
    original = store._redis.hmget

    async def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append("hmget")
        return await original(*args, **kwargs)

    store._redis.hmget = counted  # type: ignore[method-assign]
    assert await store.latest(ANA) == TokenRecord()
    assert reads == ["hmget"]
    # Within the cool-down: no request waits for Redis again.
    for _ in range(5):
        assert await store.latest(ANA) == TokenRecord()
        await store.remember(_token(ANA))
    assert reads == ["hmget"]
    # A revocation is never skipped: it must be stored, or refused.
    with pytest.raises(ProviderUnavailable):
        await store.revoke(ANA, issued_before=ISSUED)
    now[0] += 10.0  # the cool-down over: the next read tries Redis again
    assert await store.latest(ANA) == TokenRecord()
    assert reads == ["hmget", "hmget"]
    await store.close()
