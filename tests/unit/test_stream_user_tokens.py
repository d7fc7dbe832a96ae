"""Stream user tokens: the real adapter and the fake sign them with one function, so a
token from either carries the same claims (`iat` back-dated by the same 5 s)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

from yc_chat.adapters.fake_stream import FakeStreamChatProvider
from yc_chat.adapters.stream import StreamConfig
from yc_chat.adapters.stream.provider import StreamChatProvider
from yc_chat.adapters.stream.tokens import TOKEN_IAT_BACKDATE, sign_user_token
from yc_chat.domain.model import UserId

SECRET = "unit-test-secret-long-enough-for-hs256"
ISSUED = datetime(2026, 1, 1, 12, 0, 30, 999, tzinfo=UTC)
EXPIRES = ISSUED + timedelta(hours=24)


async def test_the_real_adapter_and_the_fake_sign_identical_tokens() -> None:
    real = await StreamChatProvider.open(StreamConfig(api_key="key", api_secret=SECRET))
    try:
        real_token = await real.issue_user_token(
            UserId("ana"), issued_at=ISSUED, expires_at=EXPIRES
        )
    finally:
        await real.aclose()
    fake = FakeStreamChatProvider(api_secret=SECRET)
    fake_token = await fake.issue_user_token(UserId("ana"), issued_at=ISSUED, expires_at=EXPIRES)

    claims = jwt.decode(real_token, SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert claims == {
        "user_id": "ana",
        "iat": int(ISSUED.timestamp()) - 5,
        "exp": int(EXPIRES.timestamp()),
    }
    assert (
        jwt.decode(fake_token, SECRET, algorithms=["HS256"], options={"verify_exp": False})
        == claims
    )
    assert fake_token == real_token


def test_the_backdate_is_configurable_and_defaults_to_five_seconds() -> None:
    assert timedelta(seconds=5) == TOKEN_IAT_BACKDATE
    assert StreamConfig(api_key="key", api_secret=SECRET).token_iat_backdate == TOKEN_IAT_BACKDATE
    token = sign_user_token(
        SECRET, "ana", issued_at=ISSUED, expires_at=EXPIRES, iat_backdate=timedelta(0)
    )
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert claims["iat"] == int(ISSUED.timestamp())
