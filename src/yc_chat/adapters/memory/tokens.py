"""IssuedTokens in memory: one process only (several instances need the Redis one)."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta

from yc_chat.domain.limits import DEFAULT_TOKEN_TTL
from yc_chat.domain.model import IssuedToken, TokenRecord, UserId

# Kept tokens beyond this are dropped oldest first: a dropped one only costs a new signing.
DEFAULT_CAPACITY = 100_000


class InMemoryIssuedTokens:
    """The last token per user, bounded, and revocation cut-offs kept `keep_for` (the token
    lifetime: no token issued before a cut-off outlives it)."""

    def __init__(
        self, *, keep_for: timedelta = DEFAULT_TOKEN_TTL, capacity: int = DEFAULT_CAPACITY
    ) -> None:
        self._tokens: OrderedDict[UserId, IssuedToken] = OrderedDict()
        self._revoked: dict[UserId, datetime] = {}
        self._keep_for = keep_for
        self._capacity = capacity

    async def latest(self, user_id: UserId) -> TokenRecord:
        return TokenRecord(
            token=self._tokens.get(user_id), revoked_before=self._revoked.get(user_id)
        )

    async def remember(self, token: IssuedToken) -> None:
        self._tokens.pop(token.user_id, None)
        self._tokens[token.user_id] = token
        while len(self._tokens) > self._capacity:
            self._tokens.popitem(last=False)

    async def revoke(self, user_id: UserId, *, issued_before: datetime) -> None:
        self._tokens.pop(user_id, None)
        current = self._revoked.get(user_id)
        self._revoked[user_id] = issued_before if current is None else max(current, issued_before)
        # Cut-offs older than a token's lifetime cover no token that could still be reused.
        stale = issued_before - self._keep_for
        for other, cutoff in list(self._revoked.items()):
            if cutoff < stale:
                del self._revoked[other]
