"""The rate limits (429): the request budgets and where they are enforced, in one place.

Two budgets, counted in a RateLimitStore (ports/ratelimit.py), in this process when the
store is unreachable:
- the token endpoint's (routes with OPT_TOKEN_BUDGET): one per user, a larger one per client
  address (TokenRateLimiter);
- every user's writes, POST and DELETE (WriteRateLimiter), except on routes with a budget of
  their own (OPT_OWN_BUDGET).

RateLimitMiddleware enforces them. It is a middleware, not a set of route guards: Litestar
copies the route handler for every guard it runs, on every request, which cost more than
the budget checks themselves. Its place in the chain (pipeline.py) puts 429 after 401 and
before 400, the contract's order.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from yc_chat.domain.errors import ProviderUnavailable, RateLimited
from yc_chat.entrypoints.http.keys import (
    OPT_OWN_BUDGET,
    OPT_TOKEN_BUDGET,
    STATE_CLIENT,
    state_of,
)
from yc_chat.entrypoints.runtime import Runtime
from yc_chat.entrypoints.settings import RateLimit
from yc_chat.ports.ratelimit import STORE_SKIPPED, RateLimitStore

_WRITE_METHODS = frozenset({"POST", "DELETE"})


class _Budgets:
    """Counting against budgets in a shared store, falling back to this process when the
    store fails: an outage of Redis must not become an outage of chat. `report(down)` tells
    the runtime's readiness, which says once that the fallback is in use (and when not)."""

    def __init__(
        self,
        store: RateLimitStore,
        *,
        fallback: RateLimitStore,
        report: Callable[[bool], None] = lambda down: None,
    ) -> None:
        self._store = store
        self._fallback = fallback
        self._report = report

    async def spent(self, key: str, budget: RateLimit) -> float:
        """Count one hit on `key`; seconds to wait when over budget, 0 when within it."""
        try:
            count, reset_in = await self._store.hit(key, window_seconds=budget.window_seconds)
        except ProviderUnavailable as exc:
            # A circuit breaker skipping the store is not news: only a failure is.
            if exc.code != STORE_SKIPPED:
                self._report(True)
            count, reset_in = await self._fallback.hit(key, window_seconds=budget.window_seconds)
        else:
            self._report(False)
        return max(reset_in, 1.0) if count > budget.limit else 0.0


class WriteRateLimiter:
    """Every user's budget for writes (POST and DELETE under /api/), so nobody floods an org
    with groups or a registry with devices. Only authenticated requests count."""

    def __init__(
        self,
        store: RateLimitStore,
        *,
        per_user: RateLimit,
        fallback: RateLimitStore,
        report: Callable[[bool], None] = lambda down: None,
    ) -> None:
        self._budgets = _Budgets(store, fallback=fallback, report=report)
        self._per_user = per_user

    async def check(self, *, user_id: str) -> None:
        """Count this write; raise RateLimited (429) when the user's budget is spent."""
        retry_after = await self._budgets.spent(f"w:u:{user_id}", self._per_user)
        if retry_after > 0:
            raise RateLimited(
                "Too many changes, try again later", retry_after=math.ceil(retry_after)
            )


class TokenRateLimiter:
    """The token endpoint's budgets: one per user, a larger one per client address."""

    def __init__(
        self,
        store: RateLimitStore,
        *,
        per_user: RateLimit,
        per_address: RateLimit,
        fallback: RateLimitStore,
        report: Callable[[bool], None] = lambda down: None,
    ) -> None:
        self._budgets = _Budgets(store, fallback=fallback, report=report)
        self._per_user = per_user
        self._per_address = per_address

    async def check(self, *, user_id: str, address: str | None) -> None:
        """Count this request; raise RateLimited (429) when either budget is spent."""
        retry_after = await self._budgets.spent(f"tok:u:{user_id}", self._per_user)
        if address is not None:
            retry_after = max(
                retry_after, await self._budgets.spent(f"tok:a:{address}", self._per_address)
            )
        if retry_after > 0:
            raise RateLimited(
                "Too many token requests, try again later", retry_after=math.ceil(retry_after)
            )


def token_limiter(runtime: Runtime) -> TokenRateLimiter | None:
    """The token endpoint's budgets as configured (None: unlimited)."""
    settings = runtime.settings.http
    per_user = settings.token_rate_limit
    if per_user is None:
        return None
    return TokenRateLimiter(
        runtime.rate_limits,
        per_user=per_user,
        per_address=per_user.times(settings.address_limit_factor),
        fallback=runtime.local_rate_limits,
        report=runtime.rate_limit_store_down,
    )


def write_limiter(runtime: Runtime) -> WriteRateLimiter | None:
    """Every user's write budget as configured (None: unlimited)."""
    per_user = runtime.settings.http.write_rate_limit
    if per_user is None:
        return None
    return WriteRateLimiter(
        runtime.rate_limits,
        per_user=per_user,
        fallback=runtime.local_rate_limits,
        report=runtime.rate_limit_store_down,
    )


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
