"""What every route reads from a request and how it answers: the caller, the body, typed
fields, and Stream-shaped responses.

Every helper raises `StreamAPIError` in Stream's wording, so a route reads as the list of
checks Stream makes. Responses carry Stream's `duration` and rate-limit headers.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from typing import Any, Final

from litestar import Request, Response

from stream_emulator.auth import Principal
from stream_emulator.control import EmulatorControl
from stream_emulator.state.errors import input_error, not_allowed
from stream_emulator.state.parsing import clean_json

RATE_LIMIT: Final = 10_000
# JSON nested deeper than this is refused (400): Stream's payloads nest a few levels.
MAX_JSON_DEPTH: Final = 64
# Stream is a Go service: integers beyond 64 bits and non-finite numbers are not JSON it reads.
INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1


def control_of(request: Request[Any, Any, Any]) -> EmulatorControl:
    """The emulator handle of the app serving `request`."""
    control = request.app.state.emulator
    assert isinstance(control, EmulatorControl)
    return control


def principal_of(request: Request[Any, Any, Any]) -> Principal:
    """Who made the request (set by the authentication hook)."""
    principal = request.state.principal
    assert isinstance(principal, Principal)
    return principal


def server_only(request: Request[Any, Any, Any], endpoint: str) -> None:
    """Refuse (403) a request made with a user token."""
    if not principal_of(request).is_server:
        raise not_allowed(endpoint, "this endpoint needs server-side auth in the emulator")


def acting_user(
    request: Request[Any, Any, Any], endpoint: str, named: object, *, refusal: str
) -> str:
    """Who a user-scoped call acts for: the token's user, or (server-side) the `user_id`
    named; a user naming someone else is refused with `refusal`."""
    principal = principal_of(request)
    if principal.is_server:
        if not isinstance(named, str) or not named:
            raise input_error(endpoint, "user_id is required with server side auth")
        return named
    if named is not None and named != principal.user_id:
        raise not_allowed(endpoint, refusal)
    return str(principal.user_id)


def named_user(fields: Mapping[str, object]) -> object:
    """The user a body (or its message, reaction or member) names: `user_id`, else `user.id`."""
    user = fields.get("user")
    return fields.get("user_id") or (user.get("id") if isinstance(user, Mapping) else None)


def duration(request: Request[Any, Any, Any]) -> str:
    """Stream's `duration` field: time since the request came in."""
    started = getattr(request.state, "started", None)
    if not isinstance(started, float):
        return "0.00ms"
    return f"{(time.perf_counter() - started) * 1000:.2f}ms"


def rate_headers(*, exhausted: bool = False) -> dict[str, str]:
    """Stream's rate-limit headers (never exhausted unless a 429 is injected)."""
    # Header names are case-insensitive, but Stream's arrive in lower case, and the async
    # Python SDK copies them into a plain dict and looks up "x-ratelimit-limit" in it.
    reset = math.floor(time.time()) + (1 if exhausted else 60)
    return {
        "x-ratelimit-limit": str(RATE_LIMIT),
        "x-ratelimit-remaining": "0" if exhausted else str(RATE_LIMIT - 1),
        "x-ratelimit-reset": str(reset),
    }


def ok(request: Request[Any, Any, Any], body: dict[str, object], status: int) -> Response[Any]:
    """A success answer in Stream's shape: `body` plus `duration`, rate-limit headers."""
    # Whatever the state holds (the in-process provider writes it directly too), the answer
    # is always encodable: a stored lone surrogate never turns into a 500.
    return Response(
        content=clean_json({**body, "duration": duration(request)}),
        status_code=status,
        headers=rate_headers(),
    )


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def decode_json(raw: str | bytes, endpoint: str, what: str) -> object:
    """JSON as Stream reads it: at most MAX_JSON_DEPTH deep, 64-bit integers, finite
    numbers (else an input error), and every lone surrogate replaced with U+FFFD."""
    try:
        parsed = json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError as exc:
        raise input_error(endpoint, f"{what} is nested too deeply") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise input_error(endpoint, f"{what} is not valid JSON") from exc
    problem = _shape_problem(parsed)
    if problem is not None:
        raise input_error(endpoint, f"{what}: {problem}")
    return clean_json(parsed)


def _shape_problem(value: object) -> str | None:
    """Why `value` is not JSON Stream reads, or None; iterative, so no depth can crash it."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                return f"nested deeper than {MAX_JSON_DEPTH} levels"
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
        elif not isinstance(item, bool) and _out_of_range(item):
            return "a number is out of range"
    return None


def _out_of_range(item: object) -> bool:
    if isinstance(item, int):
        return not INT64_MIN <= item <= INT64_MAX
    return isinstance(item, float) and not math.isfinite(item)


async def read_body(request: Request[Any, Any, Any], endpoint: str) -> dict[str, object]:
    """The JSON object body (`{}` when empty); anything else is an input error."""
    raw = await request.body()
    if not raw.strip():
        return {}
    parsed = decode_json(raw, endpoint, "the request body")
    if not isinstance(parsed, dict):
        raise input_error(endpoint, "the request body must be a JSON object")
    return parsed


def payload_param(request: Request[Any, Any, Any], endpoint: str) -> dict[str, object]:
    """The JSON object in the `payload` query parameter (Stream's GET queries)."""
    raw = request.query_params.get("payload")
    if raw is None:
        raise input_error(endpoint, "payload is a required query parameter")
    parsed = decode_json(raw, endpoint, "payload")
    if not isinstance(parsed, dict):
        raise input_error(endpoint, "payload must be a JSON object")
    return parsed


def object_field(
    body: Mapping[str, object], key: str, endpoint: str
) -> Mapping[str, object] | None:
    """`body[key]` when it is an object, None when absent; otherwise an input error."""
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise input_error(endpoint, f"{key} must be an object")
    return value


def int_field(
    body: Mapping[str, object],
    key: str,
    endpoint: str,
    *,
    default: int,
    low: int = 0,
    high: int | None = None,
) -> int:
    """`body[key]` as an integer within bounds, `default` when absent."""
    value = body.get(key)
    if value is None:
        return default
    # bool is an int in Python, never a number in JSON.
    if isinstance(value, bool) or not isinstance(value, int):
        raise input_error(endpoint, f"{key} must be an integer")
    if value < low or (high is not None and value > high):
        upper = f" and {high}" if high is not None else ""
        raise input_error(endpoint, f"{key} must be at least {low}{upper}")
    return value


def string_list(value: object, what: str, endpoint: str) -> list[str]:
    """`value` as a list of strings (`[]` when None)."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise input_error(endpoint, f"{what} must be a list of strings")
    return list(value)


def refuse_unsupported(
    body: Mapping[str, object], fields: frozenset[str], endpoint: str, prefix: str = ""
) -> None:
    """Fields Stream knows but the emulator does not model: refused when set."""
    for key in sorted(fields & set(body)):
        if body[key] not in (None, False, "", [], {}, 0):
            raise input_error(endpoint, f"{prefix}{key} is not supported by the emulator")
