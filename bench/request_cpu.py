"""CPU time per request in process: the service's app against a bare Litestar hello.

Drives each app's ASGI callable directly (no server, no client, no network), JSON access
log on (INFO, to /dev/null, as `serve` writes it), and counts this process's CPU time
(`time.process_time`), so other work on a shared machine moves the figures far less than
wall-clock ones: best of 5 rounds of N requests per route. The steadier companion of the
HTTP section of `make bench` when the machine is busy (issue 22).

    .venv/bin/python -m bench.request_cpu [N] [ROUTE ...]   (routes: healthz token
    typeahead members; BENCH_ORG=100k uses the 100k-member org)
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from datetime import UTC, datetime
from typing import Any

from litestar.testing import AsyncTestClient

from bench.bare_app import build as build_bare
from bench.http_bench import JWT_SECRET, _fixture, _member_id
from bench.profile_request import _bearer, _call
from yc_chat import in_memory
from yc_chat.entrypoints.fixture import parse_fixture
from yc_chat.entrypoints.http import create_app
from yc_chat.entrypoints.logs import configure_logging
from yc_chat.entrypoints.settings import AuthSettings, HttpSettings, Settings

Request = tuple[str, str, bytes, list[tuple[bytes, bytes]], bytes]


async def cpu_us(app: Any, request: Request, n: int, rounds: int = 5) -> float:
    """Best CPU microseconds per request over `rounds` rounds of `n` (after a warm-up)."""
    for _ in range(200):
        await _call(app, *request)
    best = float("inf")
    for _ in range(rounds):
        began = time.process_time()
        for _ in range(n):
            await _call(app, *request)
        best = min(best, (time.process_time() - began) / n * 1e6)
    return best


async def service_app(label: str) -> tuple[Any, dict[str, Request]]:
    """The service over the bench fixture's `label` org alone, and its requests."""
    fixture = _fixture(datetime.now(UTC))
    org = f"org-{label}"
    fixture["orgs"] = [o for o in fixture["orgs"] if o["id"] == org]
    fixture["memberships"] = [m for m in fixture["memberships"] if m["orgId"] == org]
    fixture["appointments"] = [a for a in fixture["appointments"] if a["orgId"] == org]
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
    caller = _member_id(label, 0)
    auth = [(b"authorization", f"Bearer {_bearer(caller)}".encode())]
    body = json.dumps({"userId": caller}).encode()
    json_body = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    return create_app(runtime), {
        "healthz": ("GET", "/healthz", b"", [], b""),
        "token": ("POST", "/api/chat/token", b"", [*auth, *json_body], body),
        "typeahead": ("GET", f"/api/orgs/{org}/search", b"query=ana&limit=10", auth, b""),
        "members": ("GET", f"/api/orgs/{org}/members", b"limit=100", auth, b""),
    }


async def main(n: int, only: list[str]) -> None:
    with open(os.devnull, "w") as null:  # noqa: ASYNC230 - once, before any request
        stderr, sys.stderr = sys.stderr, null
        try:
            configure_logging(level="INFO")  # its handler keeps /dev/null
        finally:
            sys.stderr = stderr
        label = os.environ.get("BENCH_ORG", "1k")
        bare = build_bare(JWT_SECRET, "s" * 40)
        app, requests = await service_app(label)
        async with AsyncTestClient(app), AsyncTestClient(bare):  # the apps' lifespans
            hello = await cpu_us(bare, ("GET", "/", b"", [], b""), n)
            print(f"bare Litestar hello: {hello:.1f} µs")
            token = requests["token"]
            crypto = await cpu_us(bare, ("POST", "/crypto", *token[2:]), n)
            print(f"bare Litestar crypto-only: {crypto:.1f} µs ({hello / crypto:.2f}x hello)")
            for name, request in requests.items():
                if only and name not in only:
                    continue
                spent = await cpu_us(app, request, n)
                versus = f", {crypto / spent:.2f}x crypto-only" if name == "token" else ""
                print(f"{name} @ {label}: {spent:.1f} µs ({hello / spent:.2f}x hello{versus})")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000, sys.argv[2:]))
