"""Provider tokens kept for reuse, and each user's revocation cut-off."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from yc_chat.domain.model import IssuedToken, TokenRecord, UserId


class IssuedTokens(Protocol):
    """The last token signed for each user, for reuse, and when their tokens were revoked.

    Must be shared by every instance that hands out tokens (Redis), or a revocation
    written by one would not stop another from reusing a revoked token.
    """

    async def latest(self, user_id: UserId) -> TokenRecord:
        """The token kept for `user_id` (if any) and their revocation cut-off (if any), read
        together. An unreachable store answers an empty record: nothing is reused."""

    async def remember(self, token: IssuedToken) -> None:
        """Keep `token` as its user's latest; best effort (a failure only costs reuse)."""

    async def revoke(self, user_id: UserId, *, issued_before: datetime) -> None:
        """Tokens of `user_id` issued before `issued_before` must never be reused: forget the
        kept one and keep the cut-off (the later one, if already set) for as long as a
        token issued before it could be kept. Raises ProviderUnavailable if not stored."""
