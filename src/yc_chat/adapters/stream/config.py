"""Settings of the Stream adapter: credentials, where Stream is, timeouts and retries."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Final
from urllib.parse import urlsplit

import attrs

from yc_chat.adapters.stream.tokens import TOKEN_IAT_BACKDATE

DEFAULT_BASE_URL: Final = "https://chat.stream-io-api.com"


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """Capped exponential backoff with full jitter, for calls that may be repeated."""

    attempts: int = attrs.field(default=3, validator=attrs.validators.ge(1))
    base_delay: float = attrs.field(default=0.2, validator=attrs.validators.ge(0))
    max_delay: float = attrs.field(default=2.0, validator=attrs.validators.ge(0))
    # A 429 names when the budget refills; waiting longer than this in a request is worse
    # than answering 503 with Retry-After and letting the client come back.
    max_rate_limit_wait: float = attrs.field(default=2.0, validator=attrs.validators.ge(0))

    def backoff(self, retry: int, rng: random.Random) -> float:
        """The pause before retry number `retry` (1 for the first retry)."""
        ceiling = min(self.max_delay, self.base_delay * (2.0 ** (retry - 1)))
        # Full jitter: concurrent callers that failed together do not retry together.
        return rng.uniform(0, ceiling)


def _check_base_url(_: object, attribute: attrs.Attribute[str | None], value: str | None) -> None:
    if value is None:
        return
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{attribute.name} must be an http(s) URL")
    # The async SDK joins "/" + path onto its aiohttp base_url, which drops any path
    # prefix: a base URL with a path would silently talk to the wrong place.
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"{attribute.name} must not have a path, query or fragment")


@attrs.frozen(kw_only=True)
class StreamConfig:
    """How to reach one Stream app; the secret never appears in repr or logs."""

    api_key: str = attrs.field(validator=attrs.validators.min_len(1))
    api_secret: str = attrs.field(repr=False, validator=attrs.validators.min_len(1))
    base_url: str | None = attrs.field(default=None, validator=_check_base_url)
    timeout: float = attrs.field(default=6.0, validator=attrs.validators.gt(0))
    retry: RetryPolicy = attrs.field(factory=RetryPolicy)
    # How much earlier than issued user tokens claim to be (stream/tokens.py says why).
    token_iat_backdate: timedelta = TOKEN_IAT_BACKDATE
    # The Stream user that creates every channel and posts the system notices.
    system_user_id: str = attrs.field(default="system", validator=attrs.validators.min_len(1))

    @property
    def effective_base_url(self) -> str:
        """The base URL requests go to, without a trailing slash."""
        return (self.base_url or DEFAULT_BASE_URL).rstrip("/")
