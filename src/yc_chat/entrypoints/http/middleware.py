"""ASGI middleware, in the contract's check order: request context, body (413, in
http/request_limits.py), auth (401).

Litestar runs middleware before guards (rate limit, 429) and before the body is decoded
(400), so the order of this stack is the order of the checks.
"""

from __future__ import annotations

import ipaddress
import re
import time
import uuid
from collections.abc import Sequence
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from yc_chat.entrypoints.http.auth import Authenticator
from yc_chat.entrypoints.logs import request_id_var
from yc_chat.entrypoints.settings import IpNetwork

# Keys this app keeps in the ASGI scope's "state" dict.
STATE_REQUEST_ID = "yc_request_id"
STATE_STARTED = "yc_started"
STATE_CLIENT = "yc_client"
# Route handler `opt` keys.
OPT_PUBLIC = "public"
OPT_BODY_LIMIT = "body_limit"
BODY_LIMIT_WEBHOOK = "webhook"

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of a request header (`name` lowercase), decoded as latin-1."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def state_of(scope: Scope) -> dict[str, Any]:
    """The per-request state dict in the scope."""
    state: dict[str, Any] = scope.setdefault("state", {})
    return state


def new_request_id(incoming: str | None) -> str:
    """The caller's X-Request-ID when it is safe to echo and log, else a fresh one."""
    if incoming is not None and _REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


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
            await self.app(scope, receive, send)
        finally:
            request_id_var.reset(token)


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
