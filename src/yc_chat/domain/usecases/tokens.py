"""ConnectUser: a Stream user token for the caller, with their profile kept current."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import attrs

from yc_chat.domain import errors, policies
from yc_chat.domain.limits import DEFAULT_TOKEN_TTL
from yc_chat.domain.model import IssuedToken, UserId, UserProfile, UserToken
from yc_chat.domain.usecases.org_checks import deny_not_caller
from yc_chat.domain.usecases.profile_sync import ProfileSync
from yc_chat.domain.validation import Problems

if TYPE_CHECKING:
    from yc_chat.ports import ChatProvider, Clock, Directory, IssuedTokens


@attrs.frozen(kw_only=True)
class ConnectUser:
    """A chat provider token for the caller, and only for the caller.

    Guarantees: `user_id` must be the caller (403 `not_caller`) and known to the directory
    (404). The user's provider profile is upserted first, only when its name or image
    changed since the last upsert. The token expires `token_ttl` after issue, in whole
    seconds (so `expires_at` equals the token's `exp`), and the result says which API key
    and base URL it works against. With `issued` (shared by every instance), the user's
    last token is handed out again while more than half its lifetime remains and no
    revocation since has covered it (`policies.reusable_token`), with its own expiry.
    """

    directory: Directory
    chat: ChatProvider
    profiles: ProfileSync
    clock: Clock
    token_ttl: timedelta = DEFAULT_TOKEN_TTL
    # Tokens kept for reuse (None: every call signs a new one).
    issued: IssuedTokens | None = None

    async def __call__(self, *, caller: UserId, user_id: UserId) -> UserToken:
        problems = Problems()
        problems.identifier("user_id", user_id)
        problems.check()
        if not policies.may_request_token(caller, user_id):
            raise deny_not_caller("user_id")
        user = await self.directory.get_user(user_id)
        if user is None:
            raise errors.NotFound("User not found", code=errors.CODE_USER_NOT_FOUND)
        await self.profiles.sync([UserProfile.of(user)])
        now = self.clock.now()
        access = await self.chat.client_access()
        if self.issued is not None:
            record = await self.issued.latest(user.id)
            kept = policies.reusable_token(record, user_id=user.id, now=now, ttl=self.token_ttl)
            if kept is not None:
                return UserToken(token=kept.token, expires_at=kept.expires_at, access=access)
        # Whole seconds, so the JWT's integer `exp` and the reported expiresAt agree exactly.
        issued_at = now.replace(microsecond=0)
        expires_at = issued_at + self.token_ttl
        token = await self.chat.issue_user_token(
            user.id, issued_at=issued_at, expires_at=expires_at
        )
        if self.issued is not None:
            await self.issued.remember(
                IssuedToken(
                    user_id=user.id, token=token, issued_at=issued_at, expires_at=expires_at
                )
            )
        return UserToken(token=token, expires_at=expires_at, access=access)
