"""Caller-token verification at its edges, from the attacker's side: the exact instants the
verified-token cache stops answering, claims PyJWT lets through (a string `exp`, odd ids),
and the JWKS key set (kid-less and mislabelled tokens, non-string kids, stale and rotated
keys, an identity-provider outage, keys not meant for signatures, concurrent first use).

Each case was a surviving mutant of `entrypoints/http/auth.py` (docs/testing.md). The JWKS
authenticator's fetching client is replaced by an in-memory key set; clocks are injected.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from yc_chat.domain.errors import ProviderUnavailable, Unauthenticated
from yc_chat.domain.limits import MAX_ID_LENGTH
from yc_chat.entrypoints.http import auth
from yc_chat.entrypoints.http.auth import JwksAuthenticator, SecretAuthenticator
from yc_chat.entrypoints.settings import AuthSettings, SettingsError

SECRET = "unit-test-secret-" + "x" * 32
_RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_RSA_OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _hs(claims: dict[str, Any]) -> str:
    return jwt.encode(claims, SECRET, "HS256")


def _secret_authenticator(wall: Clock, ticks: Clock, **settings: Any) -> SecretAuthenticator:
    return SecretAuthenticator(AuthSettings(jwt_secret=SECRET, **settings), wall=wall, ticks=ticks)


# -- the verified-token cache: exact instants ------------------------------------------------


async def test_at_the_exact_exp_instant_the_cache_no_longer_answers(decodes: list[str]) -> None:
    wall, ticks = Clock(), Clock()
    exp = int(time.time()) + 600
    token = _hs({"sub": "vet-1", "exp": exp})
    verifier = _secret_authenticator(wall, ticks)
    wall.now = exp - 10
    await verifier.authenticate(f"Bearer {token}")
    await verifier.authenticate(f"Bearer {token}")
    assert decodes == [token]
    wall.now = float(exp)  # `exp` is the first instant the token is no longer good
    await verifier.authenticate(f"Bearer {token}")
    assert decodes == [token, token]


async def test_at_the_exact_lapse_instant_an_entry_is_verified_again(decodes: list[str]) -> None:
    wall, ticks = Clock(), Clock()
    wall.now = time.time()
    token = _hs({"sub": "vet-1", "exp": int(time.time()) + 600})
    verifier = _secret_authenticator(wall, ticks)
    await verifier.authenticate(f"Bearer {token}")
    ticks.now += auth.VERIFIED_SECONDS
    await verifier.authenticate(f"Bearer {token}")
    assert decodes == [token, token]


async def test_a_string_exp_is_never_cached_and_never_breaks_a_later_request(
    decodes: list[str],
) -> None:
    # PyJWT accepts `"exp": "9999999999"`; the cache must not store a non-number to compare.
    wall, ticks = Clock(), Clock()
    wall.now = time.time()
    token = _hs({"sub": "vet-1", "exp": str(int(time.time()) + 600)})
    verifier = _secret_authenticator(wall, ticks)
    for _ in range(2):
        assert await verifier.authenticate(f"Bearer {token}") == "vet-1"
    assert decodes == [token, token]


# -- the user id claim --------------------------------------------------------------------------


async def test_the_user_id_claim_is_a_printable_id_of_at_most_the_id_length() -> None:
    verifier = _secret_authenticator(Clock(), Clock())
    exp = int(time.time()) + 600
    longest = "v" * MAX_ID_LENGTH
    assert await verifier.authenticate(f"Bearer {_hs({'sub': longest, 'exp': exp})}") == longest
    for bad in ("v" * (MAX_ID_LENGTH + 1), "vet\n1", "vet\u00001", "   "):
        with pytest.raises(Unauthenticated) as refused:
            await verifier.authenticate(f"Bearer {_hs({'sub': bad, 'exp': exp})}")
        assert refused.value.message == "Token has no usable user id"


async def test_refusals_say_why_without_echoing_the_token() -> None:
    verifier = _secret_authenticator(Clock(), Clock())
    now = int(time.time())
    cases = {
        _hs({"sub": "vet-1", "exp": now - 3600}): "Token expired",
        _hs({"sub": "vet-1", "exp": now + 600, "nbf": now + 3600}): (
            "Token not valid yet (nbf): check the client's clock"
        ),
        jwt.encode({"sub": "vet-1", "exp": now + 600}, "another-" + SECRET, "HS256"): (
            "Invalid or expired token"
        ),
    }
    for token, message in cases.items():
        with pytest.raises(Unauthenticated) as refused:
            await verifier.authenticate(f"Bearer {token}")
        assert (refused.value.message, refused.value.code) == (message, "invalid_token")


def test_each_mode_refuses_to_start_without_its_setting() -> None:
    with pytest.raises(SettingsError, match=r"^JWT_SECRET is not set$"):
        SecretAuthenticator(AuthSettings())
    with pytest.raises(SettingsError, match=r"^JWT_JWKS_URL is not set$"):
        JwksAuthenticator(AuthSettings())


# -- JWKS ---------------------------------------------------------------------------------------


def _jwk(private_key: Any, kid: str, use: str = "sig") -> dict[str, Any]:
    jwk = RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    jwk.update(alg="RS256", kid=kid, use=use)
    return dict(jwk)


def _rs(private_key: Any, headers: dict[str, Any] | None, user: str = "vet-1") -> str:
    now = int(time.time())
    claims = {"sub": user, "iat": now, "exp": now + 600}
    return jwt.encode(claims, private_key, algorithm="RS256", headers=headers)


class KeySet:
    """The identity provider's JWKS in memory; counts fetches; may be down; may be slow."""

    def __init__(self, *keys: dict[str, Any]) -> None:
        self.keys = list(keys)
        self.fetches = 0
        self.up = True
        self.fetching = threading.Event()
        self.release = threading.Event()
        self.release.set()

    def get_jwk_set(self, refresh: bool = False) -> jwt.PyJWKSet:
        self.fetches += 1
        self.fetching.set()
        self.release.wait(timeout=10)
        if not self.up:
            raise jwt.PyJWKClientConnectionError("down")
        return jwt.PyJWKSet.from_dict({"keys": self.keys})


def _jwks_authenticator(
    keys: KeySet, clock: Clock, *, min_refresh: float = 60.0, cache: float = 300.0
) -> JwksAuthenticator:
    settings = AuthSettings(
        jwks_url="https://idp.example/jwks.json",
        jwks_min_refresh_seconds=min_refresh,
        jwks_cache_seconds=cache,
    )
    authenticator = JwksAuthenticator(settings, clock=clock)
    authenticator._client = keys  # type: ignore[assignment]  # the network is not the point
    return authenticator


async def test_a_kidless_token_verifies_against_a_single_key_set() -> None:
    authenticator = _jwks_authenticator(KeySet(_jwk(_RSA, "rsa-1")), Clock())
    assert await authenticator.authenticate(f"Bearer {_rs(_RSA, None)}") == "vet-1"


async def test_a_token_naming_an_unknown_kid_is_refused_even_if_the_one_key_signed_it() -> None:
    keys = KeySet(_jwk(_RSA, "rsa-1"))
    authenticator = _jwks_authenticator(keys, Clock())
    assert await authenticator.authenticate(f"Bearer {_rs(_RSA, {'kid': 'rsa-1'})}") == "vet-1"
    with pytest.raises(Unauthenticated):
        await authenticator.authenticate(f"Bearer {_rs(_RSA, {'kid': 'other'}, 'nurse-1')}")


@pytest.mark.parametrize("kid", [7, ["rsa-1"], {"k": 1}])
async def test_a_non_string_kid_is_a_malformed_token_and_fetches_nothing(kid: object) -> None:
    # Forged by hand (PyJWT will not encode one): a list or dict kid must not reach a lookup.
    keys = KeySet(_jwk(_RSA, "rsa-1"))
    authenticator = _jwks_authenticator(keys, Clock(), min_refresh=0)
    await authenticator.authenticate(f"Bearer {_rs(_RSA, {'kid': 'rsa-1'})}")
    _, payload, signature = _rs(_RSA, {"kid": "rsa-1"}, "nurse-1").split(".")
    header = jwt.utils.base64url_encode(json.dumps({"alg": "RS256", "kid": kid}).encode())
    with pytest.raises(Unauthenticated) as refused:
        await authenticator.authenticate(f"Bearer {header.decode()}.{payload}.{signature}")
    assert refused.value.message == "Malformed token"
    assert keys.fetches == 1


async def test_a_key_dropped_from_the_set_stops_verifying_once_the_cache_is_stale() -> None:
    keys, clock = KeySet(_jwk(_RSA, "rsa-1"), _jwk(_RSA_OTHER, "rsa-2")), Clock()
    authenticator = _jwks_authenticator(keys, clock)
    assert await authenticator.authenticate(f"Bearer {_rs(_RSA, {'kid': 'rsa-1'})}") == "vet-1"
    keys.keys = [_jwk(_RSA_OTHER, "rsa-2")]  # the identity provider revokes rsa-1
    clock.now += 300.0  # exactly the cache's lifetime: the set is stale now
    with pytest.raises(Unauthenticated):
        await authenticator.authenticate(f"Bearer {_rs(_RSA, {'kid': 'rsa-1'}, 'nurse-1')}")
    assert keys.fetches == 2


async def test_an_unknown_kid_refetches_from_exactly_the_minimum_interval() -> None:
    keys, clock = KeySet(_jwk(_RSA, "rsa-1")), Clock()
    authenticator = _jwks_authenticator(keys, clock, min_refresh=5.0)
    await authenticator.authenticate(f"Bearer {_rs(_RSA, {'kid': 'rsa-1'})}")
    keys.keys = [*keys.keys, _jwk(_RSA_OTHER, "rsa-2")]
    clock.now += 5.0
    assert await authenticator.authenticate(f"Bearer {_rs(_RSA_OTHER, {'kid': 'rsa-2'})}")
    assert keys.fetches == 2


async def test_an_outage_keeps_known_keys_and_does_not_refetch_on_every_request() -> None:
    keys, clock = KeySet(_jwk(_RSA, "rsa-1")), Clock()
    authenticator = _jwks_authenticator(keys, clock)
    await authenticator.authenticate(f"Bearer {_rs(_RSA, {'kid': 'rsa-1'})}")
    keys.up = False
    clock.now += 301.0
    for user in ("nurse-1", "admin-1", "owner-1"):
        token = _rs(_RSA, {"kid": "rsa-1"}, user)
        assert await authenticator.authenticate(f"Bearer {token}") == user
    assert keys.fetches == 2  # one failed refetch, then the known keys until the next window


async def test_no_keys_at_all_is_503_with_retry_after() -> None:
    keys = KeySet(_jwk(_RSA, "rsa-1"))
    keys.up = False
    authenticator = _jwks_authenticator(keys, Clock())
    with pytest.raises(ProviderUnavailable) as unavailable:
        await authenticator.authenticate(f"Bearer {_rs(_RSA, {'kid': 'rsa-1'})}")
    assert unavailable.value.message == "Token keys are unavailable, try again shortly"
    assert unavailable.value.retry_after == 5


async def test_a_key_published_for_encryption_never_verifies_a_signature() -> None:
    authenticator = _jwks_authenticator(KeySet(_jwk(_RSA, "rsa-enc", use="enc")), Clock())
    with pytest.raises(Unauthenticated):
        await authenticator.authenticate(f"Bearer {_rs(_RSA, {'kid': 'rsa-enc'})}")


async def test_concurrent_first_requests_share_one_fetch_and_both_verify() -> None:
    keys = KeySet(_jwk(_RSA, "rsa-1"))
    keys.release.clear()  # the first fetch waits until both requests are in
    authenticator = _jwks_authenticator(keys, Clock())
    first = asyncio.ensure_future(
        authenticator.authenticate(f"Bearer {_rs(_RSA, {'kid': 'rsa-1'})}")
    )
    second = asyncio.ensure_future(
        authenticator.authenticate(f"Bearer {_rs(_RSA, {'kid': 'rsa-1'}, 'nurse-1')}")
    )
    await asyncio.to_thread(keys.fetching.wait, 10)  # the second now waits behind the first
    keys.release.set()
    assert await asyncio.gather(first, second) == ["vet-1", "nurse-1"]
    assert keys.fetches == 1


async def test_a_jwks_token_is_verified_once_and_its_entry_lapses_on_the_injected_clock(
    decodes: list[str],
) -> None:
    clock = Clock()
    authenticator = _jwks_authenticator(KeySet(_jwk(_RSA, "rsa-1")), clock)
    token = _rs(_RSA, {"kid": "rsa-1"})
    for _ in range(3):
        await authenticator.authenticate(f"Bearer {token}")
    assert decodes == [token]
    clock.now += auth.VERIFIED_SECONDS
    await authenticator.authenticate(f"Bearer {token}")
    assert decodes == [token, token]


# -- the Authorization header ---------------------------------------------------------------


async def test_the_header_is_one_scheme_then_one_token_each_refusal_saying_which_part() -> None:
    verifier = _secret_authenticator(Clock(), Clock())
    good = _hs({"sub": "vet-1", "exp": int(time.time()) + 600})
    assert await verifier.authenticate(f"Bearer  {good} ") == "vet-1"  # spaces around it
    shaped = "a" * (auth.MAX_TOKEN_LENGTH - 4) + ".b.c"  # exactly the longest allowed
    cases = {
        None: ("missing_token", "A bearer token is required"),
        "Basic dmV0LTE6cGFzcw==": ("missing_token", "Use the Bearer authentication scheme"),
        f"Bearer {good} extra": ("invalid_token", "Malformed token"),
        "Bearer not-a-jwt": ("invalid_token", "Malformed token"),
        f"Bearer a{shaped}": ("invalid_token", "Malformed token"),  # one character too long
        f"Bearer {shaped}": ("invalid_token", "Invalid or expired token"),  # checked in full
    }
    for header, expected in cases.items():
        with pytest.raises(Unauthenticated) as refused:
            await verifier.authenticate(header)
        assert (refused.value.code, refused.value.message) == expected, header


async def test_without_a_configured_audience_a_token_naming_one_is_still_accepted() -> None:
    # Audience (and issuer) are checked only when configured: PyJWT would otherwise refuse
    # every token that carries an `aud` of its identity provider's choosing.
    verifier = _secret_authenticator(Clock(), Clock())
    exp = int(time.time()) + 600
    token = _hs({"sub": "vet-1", "exp": exp, "aud": "some-api", "iss": "https://idp.example"})
    assert await verifier.authenticate(f"Bearer {token}") == "vet-1"


# -- the development token the demo and `yc-chat token` hand out ------------------------------


async def test_a_dev_token_carries_exactly_the_configured_claims_and_verifies() -> None:
    issued = int(time.time())
    token = auth.issue_dev_token(
        SECRET, "vet-1", ttl_seconds=600, now=issued, claim="uid", audience="yc", issuer="idp"
    )
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience="yc", issuer="idp")
    assert claims == {"uid": "vet-1", "iat": issued, "exp": issued + 600, "aud": "yc", "iss": "idp"}
    verifier = SecretAuthenticator(
        AuthSettings(jwt_secret=SECRET, user_id_claim="uid", audience="yc", issuer="idp")
    )
    assert await verifier.authenticate(f"Bearer {token}") == "vet-1"
    long_ago = issued - 86400  # `now` is the issue time given, not the clock's
    plain = auth.issue_dev_token(SECRET, "vet-1", ttl_seconds=60, now=long_ago)
    assert jwt.decode(plain, SECRET, algorithms=["HS256"], options={"verify_exp": False}) == {
        "sub": "vet-1", "iat": long_ago, "exp": long_ago + 60
    }  # fmt: skip
    before = int(time.time())
    current = jwt.decode(
        auth.issue_dev_token(SECRET, "vet-1", ttl_seconds=60), SECRET, algorithms=["HS256"]
    )
    assert before <= current["iat"] <= int(time.time()) and current["exp"] == current["iat"] + 60


def test_an_authenticator_is_built_for_the_configured_mode_only() -> None:
    assert isinstance(
        auth.build_authenticator(AuthSettings(jwt_secret=SECRET)), SecretAuthenticator
    )
    jwks = AuthSettings(jwks_url="https://idp.example/jwks.json")
    assert isinstance(auth.build_authenticator(jwks), JwksAuthenticator)
    with pytest.raises(SettingsError, match=r"^set JWT_SECRET or JWT_JWKS_URL$"):
        auth.build_authenticator(AuthSettings())


def test_the_jwks_fetch_is_bounded_by_the_configured_timeout() -> None:
    # An identity provider that accepts the connection and never answers must not hold a
    # worker thread for PyJWKClient's default 30 s, or forever.
    settings = AuthSettings(jwks_url="https://idp.example/jwks.json", jwks_timeout_seconds=1.5)
    assert JwksAuthenticator(settings)._client.timeout == 1.5
