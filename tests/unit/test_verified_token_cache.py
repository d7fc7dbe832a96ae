"""The cache of verified caller tokens (issue 22), from the attacker's side: only the very
bytes that verified hit it, never past the token's `exp` nor past its own lifetime, and it
stays bounded. Verifications are counted by wrapping PyJWT's decode; clocks are injected."""

from __future__ import annotations

import time

import jwt
import pytest

from yc_chat.domain.errors import Unauthenticated
from yc_chat.entrypoints.http import auth
from yc_chat.entrypoints.http.auth import SecretAuthenticator
from yc_chat.entrypoints.settings import AuthSettings

SECRET = "unit-test-secret-" + "x" * 32


class Clocks:
    def __init__(self) -> None:
        self.wall = time.time()
        self.ticks = 1000.0


def _authenticator(clocks: Clocks) -> SecretAuthenticator:
    return SecretAuthenticator(
        AuthSettings(jwt_secret=SECRET), wall=lambda: clocks.wall, ticks=lambda: clocks.ticks
    )


def _token(sub: str = "vet-1", *, ttl: int = 3600, secret: str = SECRET, alg: str = "HS256") -> str:
    now = int(time.time())
    return jwt.encode({"sub": sub, "iat": now, "exp": now + ttl}, secret, alg)


async def test_a_repeated_token_is_verified_once(decodes: list[str]) -> None:
    clocks = Clocks()
    verifier = _authenticator(clocks)
    token = _token()

    for _ in range(3):
        assert await verifier.authenticate(f"Bearer {token}") == "vet-1"

    assert decodes == [token]


async def test_past_its_exp_a_cached_token_is_verified_in_full_again(
    decodes: list[str],
) -> None:
    clocks = Clocks()
    verifier = _authenticator(clocks)
    token = _token(ttl=30)
    await verifier.authenticate(f"Bearer {token}")

    clocks.wall += 31  # past exp on the cache's clock: the cache must not answer
    await verifier.authenticate(f"Bearer {token}")

    assert decodes == [token, token]


async def test_an_entry_lapses_after_its_own_lifetime(decodes: list[str]) -> None:
    clocks = Clocks()
    verifier = _authenticator(clocks)
    token = _token()
    await verifier.authenticate(f"Bearer {token}")

    clocks.ticks += auth.VERIFIED_SECONDS + 1
    await verifier.authenticate(f"Bearer {token}")

    assert decodes == [token, token]


async def test_a_tampered_or_unsigned_twin_of_a_cached_token_is_refused() -> None:
    verifier = _authenticator(Clocks())
    good = _token("vet-1")
    await verifier.authenticate(f"Bearer {good}")
    header, payload, signature = good.split(".")
    forged_payload = _token("admin-1").split(".")[1]
    unsigned = jwt.encode({"sub": "vet-1", "exp": int(time.time()) + 3600}, None, algorithm="none")
    other_key = _token("vet-1", secret="another-secret-" + "y" * 32)
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")

    for forged in (
        f"{header}.{forged_payload}.{signature}",
        f"{header}.{payload}.{flipped}",
        f"{header}.{payload}.",
        unsigned,
        other_key,
    ):
        with pytest.raises(Unauthenticated):
            await verifier.authenticate(f"Bearer {forged}")
    assert await verifier.authenticate(f"Bearer {good}") == "vet-1"


async def test_the_cache_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "VERIFIED_MAX", 8)
    verifier = _authenticator(Clocks())
    for n in range(20):
        await verifier.authenticate(f"Bearer {_token(f'user-{n}')}")

    assert len(verifier._verified) == 8  # the bound is the point
