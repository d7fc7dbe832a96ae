"""Bearer JWT verification: HS256 and JWKS modes, forged, expired, confused and missing tokens."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from tests.http.conftest import WorldFactory
from tests.support.world import JWT_SECRET, World, assert_error, default_settings, make_token
from yc_chat.entrypoints.settings import AuthSettings

TOKEN_PATH = "/api/chat/token"


async def _token_call(world: World, authorization: str | None, user: str = "vet-1") -> Any:
    headers = (
        {"Authorization": authorization.encode("latin-1")} if authorization is not None else {}
    )
    return await world.client.post(TOKEN_PATH, json={"userId": user}, headers=headers)


# -- HS256 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "missing_token"),
        ("", "missing_token"),
        ("Bearer", "missing_token"),
        ("Bearer    ", "missing_token"),
        ("Basic dmV0LTE6cGFzcw==", "missing_token"),
        ("Bearer not-a-jwt", "invalid_token"),
        ("Bearer a.b.c.d", "invalid_token"),
        ("Bearer " + "a" * 9000 + ".b.c", "invalid_token"),
        ("Bearer eyJhbGciOiJIUzI1NiJ9.e30.\u00e9", "invalid_token"),
    ],
)
async def test_missing_or_malformed_credentials(
    world: World, authorization: str | None, code: str
) -> None:
    response = await _token_call(world, authorization)
    assert_error(response, 401, code)
    assert response.headers["www-authenticate"] == "Bearer"


def _forged_tokens() -> dict[str, str]:
    now = int(time.time())
    claims = {"sub": "vet-1", "iat": now, "exp": now + 600}
    return {
        "expired": make_token("vet-1", now=now - 7200, ttl=3600),
        "wrong secret": make_token("vet-1", secret="another-secret-" + "z" * 60),
        "alg none": jwt.encode(claims, key=None, algorithm="none"),
        "HS512 with the right secret": make_token("vet-1", algorithm="HS512"),
        "no sub": make_token(None),
        "sub not a string": make_token(None, sub=12345),
        "blank sub": make_token("   "),
        "no exp": jwt.encode({"sub": "vet-1"}, JWT_SECRET, algorithm="HS256"),
        "exp not a number": jwt.encode({"sub": "vet-1", "exp": "soon"}, JWT_SECRET),
        "tampered payload": _tamper(make_token("vet-2")),
    }


def _tamper(token: str) -> str:
    header, _, signature = token.split(".")
    payload = jwt.utils.base64url_encode(json.dumps({"sub": "admin-1", "exp": 2**40}).encode())
    return f"{header}.{payload.decode()}.{signature}"


@pytest.mark.parametrize("name", list(_forged_tokens()))
async def test_forged_or_invalid_tokens_are_401(world: World, name: str) -> None:
    token = _forged_tokens()[name]
    before = await world.snapshot()
    response = await _token_call(world, f"Bearer {token}")
    assert_error(response, 401)
    assert await world.snapshot() == before


async def test_small_clock_skew_is_tolerated(world: World) -> None:
    token = make_token("vet-1", now=time.time() - 3610, ttl=3600)  # expired 10 s ago
    response = await _token_call(world, f"Bearer {token}")
    assert response.status_code == 200


async def test_token_issued_in_the_future_says_so(world: World) -> None:
    # A client whose clock runs two minutes fast: beyond the leeway, and told why.
    token = make_token("vet-1", now=time.time() + 120, ttl=3600)
    before = await world.snapshot()
    response = await _token_call(world, f"Bearer {token}")
    body = assert_error(response, 401, "invalid_token")
    assert "issued in the future: check the client's clock" in body["error"]
    assert await world.snapshot() == before


async def test_token_issued_slightly_in_the_future_is_tolerated(world: World) -> None:
    token = make_token("vet-1", now=time.time() + 5, ttl=3600)  # within the leeway
    response = await _token_call(world, f"Bearer {token}")
    assert response.status_code == 200


async def test_scheme_is_case_insensitive(world: World) -> None:
    response = await _token_call(world, f"bearer {make_token('vet-1')}")
    assert response.status_code == 200


async def test_audience_and_issuer_are_checked_when_set(make_world: WorldFactory) -> None:
    auth = AuthSettings(jwt_secret=JWT_SECRET, audience="yc-chat", issuer="https://id.example")
    world: World = await make_world(default_settings(auth=auth))
    good = make_token("vet-1", aud="yc-chat", iss="https://id.example")
    assert (await _token_call(world, f"Bearer {good}")).status_code == 200
    for token in (
        make_token("vet-1", aud="someone-else", iss="https://id.example"),
        make_token("vet-1", iss="https://id.example"),
        make_token("vet-1", aud="yc-chat", iss="https://evil.example"),
        make_token("vet-1", aud="yc-chat"),
    ):
        assert_error(await _token_call(world, f"Bearer {token}"), 401, "invalid_token")


async def test_user_id_claim_is_configurable(make_world: WorldFactory) -> None:
    auth = AuthSettings(jwt_secret=JWT_SECRET, user_id_claim="uid")
    world: World = await make_world(default_settings(auth=auth))
    assert (await _token_call(world, f"Bearer {make_token(None, uid='vet-1')}")).is_success
    # `sub` means nothing in this mode: it names no one.
    assert_error(await _token_call(world, f"Bearer {make_token('vet-1')}"), 401)


async def test_tokens_never_reach_the_log(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    good, bad = make_token("vet-1"), make_token("vet-1", secret="wrong-" + "q" * 40)
    await _token_call(world, f"Bearer {good}")
    await _token_call(world, f"Bearer {bad}")
    assert caplog.records
    for record in caplog.records:
        text = json.dumps(vars(record), default=str)
        for token in (good, bad):
            assert token.split(".")[2] not in text
            assert token.split(".")[1] not in text


# -- JWKS ----------------------------------------------------------------------------------


class JwksServer:
    """A local JWKS endpoint whose key set the test can rotate; counts fetches."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.fetches = 0
        self.up = True
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.fetches += 1
                if not outer.up:
                    self.send_response(500)
                    self.end_headers()
                    return
                body = json.dumps({"keys": outer.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/jwks.json"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> JwksServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


_RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_RSA_OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_EC = ec.generate_private_key(ec.SECP256R1())


def _jwk(private_key: Any, kid: str) -> dict[str, Any]:
    public = private_key.public_key()
    if isinstance(private_key, rsa.RSAPrivateKey):
        jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
        jwk["alg"] = "RS256"
    else:
        jwk = ECAlgorithm.to_jwk(public, as_dict=True)
        jwk["alg"] = "ES256"
    jwk.update(kid=kid, use="sig")
    return dict(jwk)


def _signed(private_key: Any, kid: str | None, alg: str, user: str = "vet-1", **claims: Any) -> str:
    now = int(time.time())
    payload = {"sub": user, "iat": now, "exp": now + 600, **claims}
    headers = {"kid": kid} if kid is not None else None
    return jwt.encode(payload, private_key, algorithm=alg, headers=headers)


@pytest.fixture
def jwks() -> Iterator[JwksServer]:
    with JwksServer() as server:
        server.keys = [_jwk(_RSA, "rsa-1"), _jwk(_EC, "ec-1")]
        yield server


async def _jwks_world(make_world: WorldFactory, server: JwksServer, **auth: Any) -> World:
    settings = AuthSettings(jwks_url=server.url, jwks_min_refresh_seconds=60, **auth)
    world: World = await make_world(default_settings(auth=settings))
    return world


async def test_jwks_rs256_and_es256_tokens_verify(
    make_world: WorldFactory, jwks: JwksServer
) -> None:
    world = await _jwks_world(make_world, jwks)
    assert (await _token_call(world, f"Bearer {_signed(_RSA, 'rsa-1', 'RS256')}")).is_success
    assert (await _token_call(world, f"Bearer {_signed(_EC, 'ec-1', 'ES256')}")).is_success
    assert jwks.fetches == 1  # cached after the first fetch


async def test_jwks_rejects_confusion_none_and_foreign_keys(
    make_world: WorldFactory, jwks: JwksServer
) -> None:
    world = await _jwks_world(make_world, jwks)
    public_pem = (
        _RSA.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    now = int(time.time())
    claims = {"sub": "vet-1", "iat": now, "exp": now + 600}
    # HS256 "signed" with the public key: the classic RS/HS confusion attack. PyJWT refuses
    # to sign with a PEM as HMAC key, so forge the signature by hand.
    header = jwt.utils.base64url_encode(
        json.dumps({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}).encode()
    )
    payload = jwt.utils.base64url_encode(json.dumps(claims).encode())
    signing_input = header + b"." + payload
    import hashlib
    import hmac

    signature = jwt.utils.base64url_encode(
        hmac.new(public_pem.encode(), signing_input, hashlib.sha256).digest()
    )
    confused = (signing_input + b"." + signature).decode()
    forged = {
        "hs256 with the public key": confused,
        "alg none": jwt.encode(claims, key=None, algorithm="none", headers={"kid": "rsa-1"}),
        "another rsa key, same kid": _signed(_RSA_OTHER, "rsa-1", "RS256"),
        "rs256 key used as es256": _signed(_EC, "rsa-1", "ES256"),
        "hs256 with the shared secret": make_token("vet-1", headers={"kid": "rsa-1"}),
        "expired": _signed(_RSA, "rsa-1", "RS256", exp=now - 3600),
    }
    for name, token in forged.items():
        response = await _token_call(world, f"Bearer {token}")
        assert response.status_code == 401, name


async def test_jwks_refetches_on_unknown_kid_but_not_too_often(
    make_world: WorldFactory, jwks: JwksServer
) -> None:
    settings = AuthSettings(jwks_url=jwks.url, jwks_min_refresh_seconds=0)
    world: World = await make_world(default_settings(auth=settings))
    assert (await _token_call(world, f"Bearer {_signed(_RSA, 'rsa-1', 'RS256')}")).is_success
    rotated = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwks.keys = [*jwks.keys, _jwk(rotated, "rsa-2")]
    assert (await _token_call(world, f"Bearer {_signed(rotated, 'rsa-2', 'RS256')}")).is_success
    assert jwks.fetches == 2


async def test_jwks_unknown_kids_cannot_hammer_the_identity_provider(
    make_world: WorldFactory, jwks: JwksServer
) -> None:
    world = await _jwks_world(make_world, jwks)  # at most one refetch a minute
    assert (await _token_call(world, f"Bearer {_signed(_RSA, 'rsa-1', 'RS256')}")).is_success
    for index in range(5):
        token = _signed(_RSA, f"random-{index}", "RS256")
        assert_error(await _token_call(world, f"Bearer {token}"), 401)
    assert jwks.fetches == 1


async def test_jwks_audience_and_kidless_tokens(make_world: WorldFactory, jwks: JwksServer) -> None:
    world = await _jwks_world(make_world, jwks, audience="yc-chat")
    good = _signed(_RSA, "rsa-1", "RS256", aud="yc-chat")
    assert (await _token_call(world, f"Bearer {good}")).is_success
    wrong = _signed(_RSA, "rsa-1", "RS256", aud="other")
    assert_error(await _token_call(world, f"Bearer {wrong}"), 401)
    # Two keys in the set: a token without a kid is ambiguous.
    kidless = _signed(_RSA, None, "RS256", aud="yc-chat")
    assert_error(await _token_call(world, f"Bearer {kidless}"), 401)


async def test_jwks_unreachable_is_503_not_401(make_world: WorldFactory, jwks: JwksServer) -> None:
    jwks.up = False
    world = await _jwks_world(make_world, jwks)
    response = await _token_call(world, f"Bearer {_signed(_RSA, 'rsa-1', 'RS256')}")
    assert_error(response, 503, "provider_unavailable")
    assert response.headers["retry-after"] == "5"
