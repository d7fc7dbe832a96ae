"""ConnectUser: a Stream user token for the caller, with their profile kept current."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import attrs

from yc_chat.domain import errors, policies
from yc_chat.domain.limits import DEFAULT_TOKEN_TTL
from yc_chat.domain.model import UserId, UserProfile, UserToken
from yc_chat.domain.usecases.org_checks import deny_not_caller
from yc_chat.domain.usecases.profile_sync import ProfileSync
from yc_chat.domain.validation import Problems

if TYPE_CHECKING:
    from yc_chat.ports import ChatProvider, Clock, Directory


@attrs.frozen(kw_only=True)
class ConnectUser:
    """A chat provider token for the caller, and only for the caller.

    Guarantees: `user_id` must be the caller (403 `not_caller`) and known to the directory
    (404). The user's provider profile is upserted first, only when its name or image
    changed since the last upsert. The token expires `token_ttl` after issue, in whole
    seconds (so `expires_at` equals the token's `exp`), and the result says which API key
    and base URL it works against.
    """

    directory: Directory
    chat: ChatProvider
    profiles: ProfileSync
    clock: Clock
    token_ttl: timedelta = DEFAULT_TOKEN_TTL

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
        # Whole seconds, so the JWT's integer `exp` and the reported expiresAt agree exactly.
        issued_at = self.clock.now().replace(microsecond=0)
        expires_at = issued_at + self.token_ttl
        token = await self.chat.issue_user_token(
            user.id, issued_at=issued_at, expires_at=expires_at
        )
        access = await self.chat.client_access()
        return UserToken(token=token, expires_at=expires_at, access=access)
