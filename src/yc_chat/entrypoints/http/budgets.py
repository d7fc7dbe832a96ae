"""The rate limits on the request path (429), as one ASGI middleware after authentication.

Not route guards: Litestar copies the route handler for every guard it runs, on every
request, which cost more than the budget checks themselves. Here, after AuthMiddleware and
before the body is decoded, a 429 still comes after 401 and before 400 (the contract's
order).
"""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from yc_chat.entrypoints.http.deps import OPT_OWN_BUDGET
from yc_chat.entrypoints.http.middleware import STATE_CLIENT, state_of
from yc_chat.entrypoints.http.ratelimit import TokenRateLimiter, WriteRateLimiter

# Route handler `opt` key: the route spends the token budget (per user and per address).
OPT_TOKEN_BUDGET = "yc_token_budget"  # noqa: S105 - an option name, not a secret
_WRITE_METHODS = frozenset({"POST", "DELETE"})


class RateLimitMiddleware:
    """Counts an authenticated request against its budget: the token endpoint's, or for any
    other POST or DELETE the caller's write budget (unless the route has a budget of its own).
    Unauthenticated requests (public routes) count against nothing."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        token_limiter: TokenRateLimiter | None,
        write_limiter: WriteRateLimiter | None,
    ) -> None:
        self.app = app
        self._token = token_limiter
        self._write = write_limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        caller = scope.get("user")
        if scope["type"] == ScopeType.HTTP and isinstance(caller, str):
            opt = scope["route_handler"].opt
            if opt.get(OPT_TOKEN_BUDGET):
                if self._token is not None:
                    client = state_of(scope).get(STATE_CLIENT)
                    await self._token.check(user_id=caller, address=client)
            elif (
                self._write is not None
                and scope["method"] in _WRITE_METHODS
                and not opt.get(OPT_OWN_BUDGET)
            ):
                await self._write.check(user_id=caller)
        await self.app(scope, receive, send)
