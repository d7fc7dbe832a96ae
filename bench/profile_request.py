"""Where an authenticated request's time goes, beyond the route's own work (issue 22).

Runs the real app in process (in-memory stores, the fake Stream) and drives its ASGI
callable directly, with no server or client in the profile, under cProfile: N token
requests and N typeahead requests on a 1k-member org, access log on (INFO, to a null
handler). Prints, per request kind, the share of time in JWT verification, the
middlewares, response encoding and the access log, then the top functions.

    .venv/bin/python -m bench.profile_request [N] [WORD ...]  (only the kinds naming a WORD)
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import json
import logging
import pstats
import sys
from datetime import UTC, datetime
from typing import Any

from litestar.testing import AsyncTestClient

from bench import servers
from bench.http_bench import JWT_SECRET, _fixture, _member_id
from yc_chat import in_memory
from yc_chat.entrypoints.fixture import parse_fixture
from yc_chat.entrypoints.http import create_app
from yc_chat.entrypoints.settings import AuthSettings, HttpSettings, Settings

# Cumulative time of the outermost frame in each area.
AREAS = {
    "caller JWT verification (auth.py with PyJWT)": ("entrypoints/http/auth.py",),
    "Stream token signing": ("stream/tokens.py", "fake_stream/"),
    "response encoding (litestar response, msgspec)": ("litestar/response", "msgspec"),
    "access log (logging)": ("logging/__init__.py", "logs.py"),
}
# Own time only: these wrap the whole handler, so their cumulative time is everything.
OWN = {
    "our middlewares, own time (pipeline.py, rate_limits.py)": (
        "http/pipeline.py",
        "http/rate_limits.py",
    ),
    "litestar routing, kwargs and middleware, own time": ("litestar/",),
}


def _bearer(user_id: str) -> str:
    return servers.caller_token(user_id, JWT_SECRET)


async def _call(app: Any, method: str, path: str, query: bytes, headers: list[Any], body: bytes):
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "root_path": "",
    }
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    status = 0

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


def _areas(stats: pstats.Stats) -> dict[str, float]:
    """Cumulative seconds in each area: the outermost frames of it, never counted twice."""
    raw = stats.stats  # type: ignore[attr-defined]
    total = dict.fromkeys([*AREAS, *OWN], 0.0)
    for (filename, _, _), (_, _, _, cumulative, callers) in raw.items():
        for name, parts in AREAS.items():
            if any(part in filename for part in parts):
                # Count a frame only when none of its callers is in the same area.
                inside = any(any(part in caller[0] for part in parts) for caller in callers)
                if not inside:
                    total[name] += cumulative
    for name, parts in OWN.items():
        total[name] = sum(
            own
            for (filename, _, _), (_, _, own, _, _) in raw.items()
            if any(part in filename for part in parts)
        )
    return total


async def profile(n: int) -> str:
    fixture = _fixture(datetime.now(UTC))
    fixture["orgs"] = [o for o in fixture["orgs"] if o["id"] == "org-1k"]
    fixture["memberships"] = [m for m in fixture["memberships"] if m["orgId"] == "org-1k"]
    kept = {m["userId"] for m in fixture["memberships"]} | {"owner-1"}
    fixture["users"] = [u for u in fixture["users"] if u["id"] in kept]
    settings = Settings(
        http=HttpSettings(
            auth=AuthSettings(jwt_secret=JWT_SECRET),
            webhook_secret="w" * 32,
            activation_interval_seconds=0,
            token_rate_limit=None,
            write_rate_limit=None,
        )
    )
    runtime = in_memory(settings)
    await runtime.load(parse_fixture(json.loads(json.dumps(fixture))))
    app = create_app(runtime)
    caller = _member_id("1k", 0)
    auth = [(b"authorization", f"Bearer {_bearer(caller)}".encode())]
    body = json.dumps({"userId": caller}).encode()
    kinds = {
        "POST /api/chat/token": (
            "POST",
            "/api/chat/token",
            b"",
            [*auth, (b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))],
            body,
        ),
        "GET typeahead @ 1k": (
            "GET",
            "/api/orgs/org-1k/search",
            b"query=ana&limit=10",
            auth,
            b"",
        ),
        "GET members page @ 1k": ("GET", "/api/orgs/org-1k/members", b"limit=100", auth, b""),
        "GET /healthz": ("GET", "/healthz", b"", [], b""),
    }
    only = [kind for kind in sys.argv[2:] if kind]
    if only:
        kinds = {
            label: request for label, request in kinds.items() if any(o in label for o in only)
        }
    out = []
    async with AsyncTestClient(app):  # runs the app's lifespan
        for label, request in kinds.items():
            assert await _call(app, *request) == 200
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(n):
                await _call(app, *request)
            profiler.disable()
            stats = pstats.Stats(profiler)
            total = stats.total_tt  # type: ignore[attr-defined]
            lines = [f"### {label}: {n} requests, {total / n * 1e6:.0f} µs each under cProfile", ""]
            for name, seconds in _areas(stats).items():
                lines.append(f"- {name}: {seconds / total:.0%}")
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(12)
            top = [line for line in text.getvalue().splitlines() if line.strip()][-13:]
            lines += ["", "```", *top, "```", ""]
            out.append("\n".join(lines))

    return "\n".join(out)


def main() -> None:
    logging.basicConfig(level=logging.INFO, handlers=[logging.NullHandler()])
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    print(asyncio.run(profile(n)))


if __name__ == "__main__":
    main()
