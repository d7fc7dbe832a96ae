"""The request pipeline: what every HTTP request goes through before its handler runs,
listed in one place, `middleware_chain`, in the contract's check order.

    413 -> 401 -> 429 -> 400

1. RequestContextMiddleware: the request id (echoed as X-Request-ID), the start time and
   the client's address. It answers only a GET of a route with OPT_FIXED_ANSWER (/healthz)
   itself: that answer needs none of the steps below, nor Litestar's handler and response
   machinery (the access line and X-Request-ID still come from the app's `before_send`).
2. RequestLimitsMiddleware: the body, bounded. Framing (`Content-Length` with
   `Transfer-Encoding`: 400, connection closed), size as received (413), time to arrive
   (408, connection closed). It runs before authentication, so an oversized body is a 413
   before it is a 401, whoever sends it.
   Then WebhookAcknowledger answers the Stream webhook (signature 401, event 400, record),
   a public route that 3. and 4. would pass through (controllers/webhooks.py), within the
   request's deadline (below) unless its inbox cannot wait on anything (in memory).
   Then DeadlineMiddleware: from here on, the request's dependency calls (token keys,
   Redis, the database, Stream with its retries) share one budget, REQUEST_DEADLINE; when
   it runs out the answer is 503 `deadline_exceeded` with Retry-After. The body's arrival
   is bounded separately, above, so a slow client does not spend the budget.
3. AuthMiddleware: 401 unless the request carries a valid bearer token (verified by
   auth.py); routes with OPT_PUBLIC need none.
4. RateLimitMiddleware (rate_limits.py, with the budgets): 429 when the caller's budget is
   spent. Then OrgReadAnswerer answers the typeahead and member pages whose query string
   is plain, with the handlers' own answer functions (controllers/orgs.py).
5. The route handler's body is decoded strictly (body.py, the StrictBody DTO): 400 for
   malformed JSON, wrong types or values out of range. Then the use case's own checks
   (403, 404, 409).

Litestar runs every middleware before it decodes the body, so the order of the chain is
the order of the checks. Route options and state keys live in keys.py.

About the body (step 2): it is read here, once, up to the route's limit, and handed on
whole. The limit counts the bytes that actually arrive, whatever length was declared. Two
disagreeing framings are how requests are smuggled past proxies. A body that has not fully
arrived `read_timeout` seconds after the request started ends the request, so slow senders
cannot hold connections and memory. A client that goes away mid-body is one INFO line,
without a traceback: nothing is left to answer, so nothing runs.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import os
import random
import re
import time
from collections.abc import Sequence

from litestar.enums import ScopeType
from litestar.middleware import DefineMiddleware
from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

from yc_chat.domain.errors import ChatError, InvalidInput, PayloadTooLarge
from yc_chat.entrypoints.http.auth import Authenticator
from yc_chat.entrypoints.http.controllers.orgs import OrgReadAnswerer
from yc_chat.entrypoints.http.controllers.webhooks import WebhookAcknowledger
from yc_chat.entrypoints.http.keys import (
    BODY_LIMIT_WEBHOOK,
    OPT_BODY_LIMIT,
    OPT_FIXED_ANSWER,
    OPT_PUBLIC,
    STATE_CLIENT,
    STATE_REQUEST_ID,
    STATE_STARTED,
    header,
    headers,
    state_of,
)
from yc_chat.entrypoints.http.rate_limits import (
    RateLimitMiddleware,
    token_limiter,
    write_limiter,
)
from yc_chat.entrypoints.http.raw_answer import send_json
from yc_chat.entrypoints.logs import request_id_var
from yc_chat.entrypoints.runtime import Runtime
from yc_chat.entrypoints.settings import IpNetwork
from yc_chat.entrypoints.timers import timeout_at
from yc_chat.ports import Deadlines

logger = logging.getLogger("yc_chat.http")

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_random_bits = random.Random(os.urandom(32)).getrandbits  # noqa: S311 - ids, not secrets
DEFAULT_READ_TIMEOUT = 15.0


def middleware_chain(
    runtime: Runtime, authenticator: Authenticator, *, public_prefixes: Sequence[str] = ()
) -> list[DefineMiddleware]:
    """The middleware every request goes through, outermost first: the check order above."""
    settings = runtime.settings.http
    return [
        DefineMiddleware(RequestContextMiddleware, trusted_proxies=settings.trusted_proxies),
        DefineMiddleware(  # 413 (and framing 400, 408)
            RequestLimitsMiddleware,
            default_limit=settings.max_body_bytes,
            webhook_limit=settings.webhook_max_body_bytes,
            read_timeout=settings.request_read_timeout_seconds,
        ),
        # The Stream webhook is answered here (public, no budget: 3. and 4. do nothing for
        # it), within the request's deadline unless its record cannot wait on anything.
        DefineMiddleware(
            WebhookAcknowledger,
            deadlines=None if runtime.inbox_never_waits else runtime.request_deadlines,
        ),
        DefineMiddleware(DeadlineMiddleware, deadlines=runtime.request_deadlines),
        DefineMiddleware(  # 401
            AuthMiddleware, authenticator=authenticator, public_prefixes=public_prefixes
        ),
        DefineMiddleware(  # 429
            RateLimitMiddleware,
            token_limiter=token_limiter(runtime),
            write_limiter=write_limiter(runtime),
        ),
        # Typeahead and member pages with plain query strings (controllers/orgs.py)
        DefineMiddleware(OrgReadAnswerer),
    ]


# -- 1. request context ----------------------------------------------------------------------


def new_request_id(incoming: str | None) -> str:
    """The caller's X-Request-ID when it is safe to echo and log, else a fresh one."""
    if incoming is not None and _REQUEST_ID.fullmatch(incoming):
        return incoming
    # 32 random hex digits, as uuid4().hex gave. Not from `secrets`: a request id guards
    # nothing (a client may send any id of its own), and the OS call per request cost four
    # times this generator seeded from it.
    return f"{_random_bits(128):032x}"


def client_address(scope: Scope, trusted_proxies: Sequence[IpNetwork]) -> str | None:
    """The client's address: the socket peer, or X-Forwarded-For behind trusted proxies."""
    client = scope.get("client")
    peer = client[0] if client else None
    if not trusted_proxies or peer is None or not _trusted(peer, trusted_proxies):
        return peer
    forwarded = header(scope, b"x-forwarded-for")
    if not forwarded:
        return peer
    # Walk from the nearest hop back; the first address we do not trust is the client.
    # Hops further left were written by the client itself and prove nothing.
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return peer
        if not _trusted(hop, trusted_proxies):
            return hop
    return hops[0] if hops else peer


def _trusted(address: str, networks: Sequence[IpNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


class RequestContextMiddleware:
    """Assigns the request id (echoed as X-Request-ID), start time and client address."""

    def __init__(self, app: ASGIApp, trusted_proxies: Sequence[IpNetwork] = ()) -> None:
        self.app = app
        self._trusted = tuple(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        state = state_of(scope)
        request_id = new_request_id(header(scope, b"x-request-id"))
        state[STATE_REQUEST_ID] = request_id
        state[STATE_STARTED] = time.perf_counter()
        state[STATE_CLIENT] = client_address(scope, self._trusted)
        token = request_id_var.set(request_id)
        try:
            fixed = scope["route_handler"].opt.get(OPT_FIXED_ANSWER)
            if fixed is not None and scope["method"] == "GET":
                await send_json(send, fixed)
                return
            await self.app(scope, receive, send)
        finally:
            request_id_var.reset(token)


# -- 2. the body, bounded (400 framing, 413, 408) -----------------------------------------


class RequestTimeout(ChatError):
    """408: the request did not arrive in time."""

    status = 408
    default_code = "request_timeout"
    default_message = "The request did not arrive in time"


class _Disconnected(Exception):
    """The client went away before its body was complete."""


class RequestLimitsMiddleware:
    """Framing check, body size as received (413), body arrival deadline (408)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        default_limit: int,
        webhook_limit: int,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
    ) -> None:
        self.app = app
        self._default = default_limit
        self._webhook = webhook_limit
        self._read_timeout = read_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        length, encoding = headers(scope, b"content-length", b"transfer-encoding")
        if length is not None and encoding is not None:
            await _refuse(
                send,
                InvalidInput(
                    "Content-Length and Transfer-Encoding must not both be sent",
                    code="ambiguous_length",
                ),
            )
            return
        is_webhook = scope["route_handler"].opt.get(OPT_BODY_LIMIT) == BODY_LIMIT_WEBHOOK
        limit = self._webhook if is_webhook else self._default
        if length is not None and length.strip().isdigit() and int(length) > limit:
            raise _too_large(limit)
        now = time.perf_counter()
        started = state_of(scope).get(STATE_STARTED, now)
        deadline = asyncio.get_running_loop().time() + self._read_timeout - (now - started)
        try:
            async with timeout_at(deadline):  # one timer for every request's (timers.py)
                body = await _read_body(receive, limit)
        except TimeoutError:
            logger.info(
                "request body too slow, connection closed",
                extra={"request_id": state_of(scope).get(STATE_REQUEST_ID)},
            )
            await _refuse(
                send,
                RequestTimeout(f"The request body did not arrive within {self._read_timeout:g} s"),
            )
            return
        except _Disconnected:
            logger.info(
                "client disconnected before its request was complete",
                extra={
                    "request_id": state_of(scope).get(STATE_REQUEST_ID),
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                },
            )
            return
        whole: ReceiveMessage = {"type": "http.request", "body": body, "more_body": False}
        await self.app(scope, _replay(whole, receive), send)


async def _read_body(receive: Receive, limit: int) -> bytes:
    """The whole body, counting the bytes received; 413 as soon as they pass `limit`."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise _Disconnected
        body = message.get("body", b"")
        size += len(body)
        if size > limit:
            raise _too_large(limit)
        chunks.append(body)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _refuse(send: Send, error: ChatError) -> None:
    """Answer with the contract's error body and close the connection: what remains of the
    request on it cannot be trusted to be framed as the client meant."""
    body = json.dumps({"error": error.message, "code": error.code}).encode()
    await send_json(send, body, error.status, (b"connection", b"close"))


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The request body is over the {limit // 1024} KiB limit")


def _replay(first: ReceiveMessage, receive: Receive) -> Receive:
    pending = [first]

    async def replay() -> ReceiveMessage:
        if pending:
            return pending.pop()
        return await receive()

    return replay


# -- the request's deadline (503) -----------------------------------------------------------


class DeadlineMiddleware:
    """Runs the rest of the request within one budget for its dependencies."""

    def __init__(self, app: ASGIApp, *, deadlines: Deadlines) -> None:
        self.app = app
        self._deadlines = deadlines

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        async with self._deadlines.bounded():
            await self.app(scope, receive, send)


# -- 3. authentication (401) -------------------------------------------------------------


class AuthMiddleware:
    """401 unless the request carries a valid bearer token; sets scope["user"] to the caller."""

    def __init__(
        self, app: ASGIApp, *, authenticator: Authenticator, public_prefixes: Sequence[str] = ()
    ) -> None:
        self.app = app
        self._authenticator = authenticator
        self._public_prefixes = tuple(public_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == ScopeType.HTTP
            and scope["method"] != "OPTIONS"
            and not self._public(scope)
        ):
            caller = await self._authenticator.authenticate(header(scope, b"authorization"))
            scope["user"] = caller
        await self.app(scope, receive, send)

    def _public(self, scope: Scope) -> bool:
        if scope["route_handler"].opt.get(OPT_PUBLIC):
            return True
        return scope["path"].startswith(self._public_prefixes) if self._public_prefixes else False
