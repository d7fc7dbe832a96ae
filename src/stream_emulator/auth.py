"""Authentication as Stream does it: `api_key` query parameter plus a JWT in `Authorization`.

Server-side requests carry a token with `{"server": true}` signed with the app secret (the
SDKs build it from the secret); client-side requests carry a user token with `user_id` and
usually `exp`/`iat`. The answers use Stream's error codes: 2 for the key, 40 expired,
41 not valid yet, 42 issued in the future, 43 bad signature, 5 anything else.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Final

import attrs
import jwt

from stream_emulator.state import errors as stream_errors
from stream_emulator.state.errors import StreamAPIError
from stream_emulator.state.users import revoked

ALGORITHM: Final = "HS256"


@attrs.frozen(kw_only=True)
class Principal:
    """Who is calling: the server (the secret's holder) or one user."""

    user_id: str | None
    # The token's `iat` (seconds since the epoch), None when it has none.
    issued_at: float | None = None

    @property
    def is_server(self) -> bool:
        """Server-side calls may do anything; user calls are permission-checked."""
        return self.user_id is None


SERVER = Principal(user_id=None)


def _unauthenticated(code: int, message: str) -> StreamAPIError:
    return StreamAPIError(401, code, message)


@attrs.frozen(kw_only=True)
class Authenticator:
    """Checks a request's key and token against one app's key and secret."""

    api_key: str
    api_secret: str = attrs.field(repr=False)
    clock: Callable[[], datetime]

    def authenticate(
        self,
        *,
        api_key: str | None,
        auth_type: str | None,
        authorization: str | None,
    ) -> Principal:
        """The caller, or a StreamAPIError with Stream's status and code."""
        if not api_key:
            raise _unauthenticated(
                stream_errors.ACCESS_KEY_ERROR, "api_key is missing from the query string"
            )
        if not hmac.compare_digest(api_key.encode(), self.api_key.encode()):
            raise _unauthenticated(stream_errors.ACCESS_KEY_ERROR, "api_key not valid")
        if auth_type is None or auth_type.strip().lower() != "jwt":
            raise _unauthenticated(
                stream_errors.AUTHENTICATION_ERROR,
                "Stream-Auth-Type header must be jwt (anonymous access is not supported)",
            )
        token = _bearer(authorization)
        if token is None:
            raise _unauthenticated(
                stream_errors.AUTHENTICATION_ERROR, "Authorization header is missing"
            )
        claims = self._claims(token)
        principal = _principal(claims)
        if principal.is_server:
            return principal
        return attrs.evolve(principal, issued_at=_number(claims, "iat"))

    def _claims(self, token: str) -> Mapping[str, object]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError as exc:
            raise _unauthenticated(
                stream_errors.AUTHENTICATION_ERROR, "token is not a valid JWT"
            ) from exc
        # Only HS256 with the app secret; `none` and other algorithms are refused outright.
        if header.get("alg") != ALGORITHM:
            raise _unauthenticated(
                stream_errors.TOKEN_SIGNATURE_INVALID, "token signature is invalid"
            )
        try:
            claims: dict[str, object] = jwt.decode(
                token,
                self.api_secret,
                algorithms=[ALGORITHM],
                # Time claims are checked below, against the emulator's clock, so each
                # failure gets Stream's own code.
                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
            )
        except jwt.InvalidSignatureError as exc:
            raise _unauthenticated(
                stream_errors.TOKEN_SIGNATURE_INVALID, "token signature is invalid"
            ) from exc
        except jwt.InvalidTokenError as exc:
            raise _unauthenticated(
                stream_errors.AUTHENTICATION_ERROR, "token is not a valid JWT"
            ) from exc
        self._check_times(claims)
        return claims

    def _check_times(self, claims: Mapping[str, object]) -> None:
        now = self.clock().timestamp()
        exp, iat, nbf = (_number(claims, name) for name in ("exp", "iat", "nbf"))
        if exp is not None and exp <= now:
            raise _unauthenticated(stream_errors.TOKEN_EXPIRED, "token is expired")
        if nbf is not None and nbf > now:
            raise _unauthenticated(stream_errors.TOKEN_NOT_VALID_YET, "token is not valid yet")
        # Stream allows no leeway here: a token "issued" in its future is refused.
        if iat is not None and iat > now:
            raise _unauthenticated(
                stream_errors.TOKEN_BEFORE_ISSUED_AT, "token used before issue at (iat)"
            )


def check_not_revoked(principal: Principal, revoked_before: datetime | None) -> None:
    """Refuse a revoked token as Stream refuses an expired one (code 40), so the client
    fetches a new token."""
    if not principal.is_server and revoked(principal.issued_at, revoked_before):
        raise _unauthenticated(
            stream_errors.TOKEN_EXPIRED,
            "token was revoked: issued before the user's revoke_tokens_issued_before",
        )


def _bearer(authorization: str | None) -> str | None:
    if authorization is None:
        return None
    value = authorization.strip()
    # The server SDKs send the bare token; some clients prefix it with "Bearer".
    if value[:7].lower() == "bearer ":
        value = value[7:].strip()
    return value or None


def _number(claims: Mapping[str, object], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _unauthenticated(stream_errors.AUTHENTICATION_ERROR, f"token claim {name} is invalid")
    return float(value)


def _principal(claims: Mapping[str, object]) -> Principal:
    if claims.get("server") is True:
        return SERVER
    user_id = claims.get("user_id")
    if isinstance(user_id, str) and user_id:
        return Principal(user_id=user_id)
    raise _unauthenticated(
        stream_errors.AUTHENTICATION_ERROR, "token has neither server nor user_id claims"
    )
