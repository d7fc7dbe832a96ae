"""A repeated token call: one directory read, one fingerprint read, the kept token's read
(no signing: the token is reused, issue 22), the rate check."""

from __future__ import annotations

import inspect
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from attrs import evolve

from tests.http.conftest import WorldFactory
from tests.support.world import World, default_settings
from yc_chat.adapters.memory import (
    InMemoryDirectory,
    InMemoryFingerprints,
    InMemoryIssuedTokens,
    MemoryRateLimitStore,
)
from yc_chat.entrypoints.settings import RateLimit

# Port calls that only compute locally (no request to Stream): the SDK adapter reads the
# API key from its configuration. The repeat signs nothing: its token is the kept one.
LOCAL_PROVIDER_CALLS = Counter({"client_access": 1})


def _count_calls(monkeypatch: pytest.MonkeyPatch, cls: type, calls: Counter[str]) -> None:
    """Count every call of every public async method of `cls`, on any instance."""
    for name, method in inspect.getmembers(cls, inspect.iscoroutinefunction):
        if name.startswith("_"):
            continue

        def counted(original: Callable[..., Any], method_name: str) -> Callable[..., Any]:
            async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
                calls[method_name] += 1
                return await original(self, *args, **kwargs)

            return wrapper

        monkeypatch.setattr(cls, name, counted(method, name))


async def test_repeated_token_call_costs_three_reads_and_the_rate_check(
    make_world: WorldFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    world: World = await make_world(
        default_settings(token_rate_limit=RateLimit(limit=1000, window_seconds=60))
    )
    first = await world.post("/api/chat/token", "vet-1", {"userId": "vet-1"})
    assert first.status_code == 200
    assert world.chat.calls["upsert_profiles"] == 1  # the first call brings the profile over
    directory: Counter[str] = Counter()
    fingerprints: Counter[str] = Counter()
    rate_checks: Counter[str] = Counter()
    kept: Counter[str] = Counter()
    _count_calls(monkeypatch, InMemoryIssuedTokens, kept)
    _count_calls(monkeypatch, InMemoryDirectory, directory)
    _count_calls(monkeypatch, InMemoryFingerprints, fingerprints)
    _count_calls(monkeypatch, MemoryRateLimitStore, rate_checks)
    world.chat.calls.clear()
    writes = len(world.chat.writes)

    again = await world.post("/api/chat/token", "vet-1", {"userId": "vet-1"})

    assert again.status_code == 200
    assert directory == Counter({"get_user": 1})
    assert fingerprints == Counter({"get_many": 1})
    assert kept == Counter({"latest": 1})
    assert again.json() == first.json()
    assert world.chat.calls == LOCAL_PROVIDER_CALLS
    assert len(world.chat.writes) == writes
    # The per-user and the per-address budgets.
    assert rate_checks == Counter({"hit": 2})


async def test_a_changed_profile_is_upserted_once(world: World) -> None:
    await world.post("/api/chat/token", "vet-1", {"userId": "vet-1"})
    user = await world.directory.get_user("vet-1")  # type: ignore[arg-type]
    assert user is not None
    await world.directory.put_user(evolve(user, name="Dr. Ana Núñez-Ruiz"))
    world.chat.calls.clear()
    for _ in range(3):
        assert (
            await world.post("/api/chat/token", "vet-1", {"userId": "vet-1"})
        ).status_code == 200
    assert world.chat.calls["upsert_profiles"] == 1
    assert [p.name for p in world.chat.upserted[-1]] == ["Dr. Ana Núñez-Ruiz"]
