"""Stream user tokens, signed one way for both ChatProviders that speak Stream's API: the
SDK-backed adapter (stream/provider.py) and the one over the simulation
(fake_stream/provider.py), so the two cannot sign differently without a test noticing.

Pure (PyJWT only, no SDK), like `mapping` and `events`, so the fake needs no `stream-chat`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import jwt

# Stream refuses tokens whose `iat` lies in its future; a clock a little ahead of Stream's
# would make fresh tokens fail, so `iat` is written this much earlier.
TOKEN_IAT_BACKDATE = timedelta(seconds=5)


def sign_user_token(
    api_secret: str,
    user_id: str,
    *,
    issued_at: datetime,
    expires_at: datetime,
    iat_backdate: timedelta = TOKEN_IAT_BACKDATE,
) -> str:
    """A client token for `user_id`, HS256 with the app's secret, as Stream's SDKs sign it:
    `exp` is `expires_at`, `iat` is `issued_at` less `iat_backdate`."""
    claims = {
        "user_id": user_id,
        "exp": int(expires_at.timestamp()),
        "iat": int(issued_at.timestamp()) - int(iat_backdate.total_seconds()),
    }
    return jwt.encode(claims, api_secret, algorithm="HS256")
