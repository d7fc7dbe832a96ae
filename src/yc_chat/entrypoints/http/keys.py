"""The names the HTTP app's parts share: route options, state keys, and how to read them.

Route handlers declare what the pipeline (pipeline.py) does for them with `opt` keys; the
pipeline and the handlers pass per-request values through the ASGI scope's "state" dict and
app-wide values through `app.state`. Every such key is defined here and nowhere else.
"""

from __future__ import annotations

from typing import Any

from litestar.types import Scope

# -- route handler `opt` keys ---------------------------------------------------------------
# No bearer token needed (health, metrics, webhooks, the console, the API reference).
OPT_PUBLIC = "public"
# Which body size limit applies; BODY_LIMIT_WEBHOOK picks the webhook limit.
OPT_BODY_LIMIT = "body_limit"
BODY_LIMIT_WEBHOOK = "webhook"
# The route spends the token budget (per user and per address).
OPT_TOKEN_BUDGET = "yc_token_budget"  # noqa: S105 - an option name, not a secret
# The route has a budget of its own and is not counted as a write.
OPT_OWN_BUDGET = "yc_own_budget"
# A GET whose answer never depends on the request or on any state (liveness): these JSON
# bytes, answered by the pipeline's first step (pipeline.py).
OPT_FIXED_ANSWER = "yc_fixed_answer"
# The Stream webhook: answered by WebhookAcknowledger in the middleware chain.
OPT_WEBHOOK = "yc_webhook"

# -- per-request keys in the ASGI scope's "state" dict --------------------------------------
STATE_REQUEST_ID = "yc_request_id"
STATE_STARTED = "yc_started"
STATE_CLIENT = "yc_client"

# -- app-wide keys in `app.state` ------------------------------------------------------------
# The Runtime this app serves.
STATE_RUNTIME = "yc_runtime"
# The in-process worker's wake-up (a no-op without one).
STATE_WAKE_WORKER = "yc_wake_worker"


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of a request header (`name` lowercase), decoded as latin-1."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def headers(scope: Scope, first: bytes, second: bytes) -> tuple[str | None, str | None]:
    """The first values of two request headers (names lowercase), read in one pass."""
    one = two = None
    for key, value in scope.get("headers", ()):
        if key == first:
            if one is None:
                one = value
        elif key == second and two is None:
            two = value
    return (
        None if one is None else bytes(one).decode("latin-1"),
        None if two is None else bytes(two).decode("latin-1"),
    )


def state_of(scope: Scope) -> dict[str, Any]:
    """The per-request state dict in the scope."""
    state: dict[str, Any] = scope.setdefault("state", {})
    return state
