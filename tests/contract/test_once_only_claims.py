"""Contract of EffectClaims: leased once-only claims, on every adapter (memory, Beanie on the
in-process double and on the real server).

A claim is TAKEN by one caller at a time, HELD for everyone else while its lease runs,
DONE for good once confirmed; given back, or left to lapse by a holder that died, it is
taken again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.contract.adapters import EFFECT_CLAIMS
from yc_chat.domain.model import ClaimState

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)
TAKEN, HELD, DONE = ClaimState.TAKEN, ClaimState.HELD, ClaimState.DONE


@pytest.fixture(params=sorted(EFFECT_CLAIMS))
async def effect_claims(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    async with EFFECT_CLAIMS[request.param]() as built:
        yield built


async def claim(log: Any, key: str, owner: str, now: datetime = T0) -> ClaimState:
    state: ClaimState = await log.claim(key, owner=owner, now=now, until=now + LEASE)
    return state


async def test_a_claim_is_held_for_others_until_confirmed_then_done_for_good(
    effect_claims: Any,
) -> None:
    assert await claim(effect_claims, "push:e1:ana", "w1") is TAKEN
    assert await claim(effect_claims, "push:e1:ana", "w2") is HELD
    assert await claim(effect_claims, "push:e1:ana", "w1") is HELD  # no second send by itself
    assert await claim(effect_claims, "push:e1:bob", "w2") is TAKEN  # keys are independent
    await effect_claims.confirm("push:e1:ana", owner="w1")
    for later in (T0, T0 + LEASE, T0 + timedelta(days=3)):
        assert await claim(effect_claims, "push:e1:ana", "w3", later) is DONE


async def test_a_released_claim_is_taken_again_at_once(effect_claims: Any) -> None:
    assert await claim(effect_claims, "k", "w1") is TAKEN
    await effect_claims.release("k", owner="w1")
    assert await claim(effect_claims, "k", "w2") is TAKEN
    assert await claim(effect_claims, "k", "w3") is HELD


async def test_an_unconfirmed_claim_is_taken_again_once_its_lease_ran_out(
    effect_claims: Any,
) -> None:
    """The holder died between claim and confirmation: its lease lapses, the key is owed."""
    assert await claim(effect_claims, "k", "dead") is TAKEN
    just_before = T0 + LEASE - timedelta(milliseconds=5)
    assert await claim(effect_claims, "k", "w2", just_before) is HELD
    assert await claim(effect_claims, "k", "w2", T0 + LEASE) is TAKEN
    assert await claim(effect_claims, "k", "w3", T0 + LEASE) is HELD  # the new holder's lease
    await effect_claims.confirm("k", owner="w2")
    assert await claim(effect_claims, "k", "w4", T0 + 3 * LEASE) is DONE


async def test_a_stale_holder_cannot_give_back_a_claim_retaken_since(effect_claims: Any) -> None:
    assert await claim(effect_claims, "k", "slow") is TAKEN
    assert await claim(effect_claims, "k", "w2", T0 + LEASE) is TAKEN
    await effect_claims.release("k", owner="slow")  # too late: w2 holds it now
    assert await claim(effect_claims, "k", "w3", T0 + LEASE) is HELD


async def test_a_stale_holders_confirmation_still_counts(effect_claims: Any) -> None:
    """Its send happened even though its lease ran out: the key is done, for everyone."""
    assert await claim(effect_claims, "k", "slow") is TAKEN
    assert await claim(effect_claims, "k", "w2", T0 + LEASE) is TAKEN
    await effect_claims.confirm("k", owner="slow")
    assert await claim(effect_claims, "k", "w3", T0 + 3 * LEASE) is DONE


async def test_confirming_or_releasing_what_one_never_held_changes_nothing(
    effect_claims: Any,
) -> None:
    await effect_claims.confirm("k", owner="nobody")
    await effect_claims.release("k", owner="nobody")
    assert await claim(effect_claims, "k", "w1") is TAKEN
    await effect_claims.confirm("k", owner="intruder")
    await effect_claims.release("k", owner="intruder")
    assert await claim(effect_claims, "k", "w2") is HELD


async def test_concurrent_claims_of_one_key_yield_one_winner(effect_claims: Any) -> None:
    results = await asyncio.gather(*(claim(effect_claims, "k", f"w{n}") for n in range(30)))
    assert results.count(TAKEN) == 1
    assert set(results) == {TAKEN, HELD}


async def test_concurrent_retakes_of_a_lapsed_claim_yield_one_winner(effect_claims: Any) -> None:
    """Where a dead worker's claim lapses, the workers that find it owed race: one sends."""
    assert await claim(effect_claims, "k", "dead") is TAKEN
    later = T0 + 2 * LEASE
    results = await asyncio.gather(*(claim(effect_claims, "k", f"w{n}", later) for n in range(30)))
    assert results.count(TAKEN) == 1


async def test_keys_are_literal_text(effect_claims: Any) -> None:
    """Keys that look like another key's numbered claim, or like operators, are just keys."""
    keys = ["k", "1:1:k", "0:1:k", "k#1", '{"$gt": ""}', "push:e:u", "push:e:u:x"]
    assert [await claim(effect_claims, key, "w1") for key in keys] == [TAKEN] * len(keys)
    await effect_claims.confirm("k", owner="w1")
    later = T0 + 2 * LEASE
    assert [await claim(effect_claims, key, "w2", later) for key in keys] == [DONE] + [TAKEN] * (
        len(keys) - 1
    )
