"""The `yc-chat` command: serve, worker, events, dev-token, seed, emulator."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import logging
import multiprocessing
import os
import secrets
import signal
import socket
import sys
import time
import urllib.request
from collections.abc import Callable, Coroutine, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs
import uvicorn

from yc_chat.domain.errors import ProviderUnavailable
from yc_chat.entrypoints import bootstrap, demo
from yc_chat.entrypoints.fixture import Fixture, FixtureError, load_fixture, seed
from yc_chat.entrypoints.http.auth import issue_dev_token
from yc_chat.entrypoints.http.console import console_routes
from yc_chat.entrypoints.logs import configure_logging
from yc_chat.entrypoints.runtime import Runtime
from yc_chat.entrypoints.settings import Settings, SettingsError, require_auth, with_jwt_secret
from yc_chat.entrypoints.stream_emulator import (
    DEFAULT_PORT,
    RunningEmulator,
    new_credentials,
    run_emulator,
)

logger = logging.getLogger("yc_chat.cli")

DEMO_TOKEN_TTL = 12 * 3600


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="yc-chat", description="Chat backend of the Yosemite Crew veterinary platform."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=3000, help="port to bind (default 3000)")
    serve.add_argument("--seed", metavar="FILE", help="load a directory/appointments JSON file")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="server processes on the one port (default 1; more need MONGODB_URI, "
        "since in-memory stores cannot be shared between processes)",
    )
    serve.add_argument(
        "--demo",
        action="store_true",
        help="load the bundled demo clinic and print curl commands with valid tokens "
        "(generates a development JWT secret if none is set)",
    )
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="do not handle recorded webhook events in this process (run `yc-chat worker`)",
    )

    commands.add_parser(
        "worker",
        help="handle recorded webhook events and run the chat lifecycle, without HTTP",
    )

    events = commands.add_parser("events", help="list parked webhook events (or retry one)")
    events.add_argument("--limit", type=int, default=50, help="how many to list (default 50)")
    events_commands = events.add_subparsers(dest="events_command")
    retry = events_commands.add_parser("retry", help="replay a parked event")
    retry.add_argument("event_id", metavar="ID")

    token = commands.add_parser("dev-token", help="print a bearer JWT signed with JWT_SECRET")
    token.add_argument("user_id", metavar="USER_ID")
    token.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds (default 3600)")

    seed = commands.add_parser("seed", help="validate a fixture and load it into the stores")
    seed.add_argument("file", metavar="FILE")

    emulator = commands.add_parser("emulator", help="run the Stream API emulator on its own")
    emulator.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    emulator.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port to bind (default {DEFAULT_PORT})"
    )
    emulator.add_argument(
        "--webhook-url", metavar="URL", help="where to deliver signed webhooks (optional)"
    )
    return parser


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    args = build_parser().parse_args(argv)
    environment = os.environ if env is None else env
    try:
        if args.command == "serve":
            return _serve(args, environment)
        if args.command == "dev-token":
            return _dev_token(args, environment)
        if args.command == "emulator":
            return _emulator(args, environment)
        if args.command == "worker":
            return _worker(environment)
        if args.command == "events":
            return asyncio.run(_events(args, environment))
        return asyncio.run(_seed(args, environment))
    except (SettingsError, FixtureError) as exc:
        print(f"yc-chat: error: {exc}", file=sys.stderr)
        return 2
    except ProviderUnavailable as exc:
        # A store or Stream that cannot be reached at start: say which, exit non-zero.
        print(f"yc-chat: error: {exc.message}", file=sys.stderr)
        return 1


def _serve(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    settings = Settings.from_env(env)
    if not 0 < args.port < 65536:
        raise SettingsError("--port must be between 1 and 65535")
    if args.no_worker:
        settings = attrs.evolve(settings, worker=attrs.evolve(settings.worker, enabled=False))
    generated_secret = args.demo and not settings.http.auth.configured
    if generated_secret:
        settings = with_jwt_secret(settings, secrets.token_urlsafe(48))
    require_auth(settings)
    if args.workers < 1:
        raise SettingsError("--workers must be at least 1")
    if args.workers > 1 and settings.mongodb_uri is None:
        raise SettingsError(
            f"--workers {args.workers} needs MONGODB_URI: in-memory stores live in one "
            "process and cannot be shared between workers"
        )
    fixtures: list[Fixture] = []
    if args.seed:
        fixtures.append(load_fixture(args.seed))
    if args.demo:
        fixtures.append(demo.demo_fixture(datetime.now(UTC)))
    # Logging is set up once the configuration is known to be usable: errors before this
    # point are one plain line on stderr.
    configure_logging(level=settings.log_level, fmt=settings.log_format)
    if generated_secret:
        logger.warning("demo: generated a development JWT secret for this run only")
    if args.workers > 1:
        _serve_workers(settings, fixtures, host=args.host, port=args.port, workers=args.workers)
        return 0
    serve_forever(_run(settings, fixtures, host=args.host, port=args.port, demo_mode=args.demo))
    return 0


def _serve_workers(
    settings: Settings, fixtures: Sequence[Fixture], *, host: str, port: int, workers: int
) -> None:
    """N processes serving one socket bound here; SIGINT/SIGTERM stop them all.

    When a worker dies the others are stopped too and the command fails, so whatever
    supervises the service (systemd, Kubernetes) restarts it whole.
    """
    config = uvicorn.Config("yc_chat", host=host, port=port, log_config=None)
    sock = config.bind_socket()
    # Spawned, not forked: each worker starts clean and opens its own clients in its own
    # loop. Settings and fixtures go over whole, so a generated demo secret is shared.
    context = multiprocessing.get_context("spawn")
    children = [
        context.Process(
            target=_worker_process,
            args=(settings, tuple(fixtures), host, port, sock),
            name=f"yc-chat-worker-{n}",
        )
        for n in range(workers)
    ]
    stopping = False

    def stop(signum: int, _: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        # The first worker starts alone: it creates the database indexes, which concurrent
        # creators can trip over; the others start once it answers.
        children[0].start()
        _wait_answering(_base_url(host, port) + "/healthz", children[0])
        for child in children[1:]:
            child.start()
        logger.info("workers started", extra={"workers": workers, "host": host, "port": port})
        while not stopping and all(child.is_alive() for child in children):
            time.sleep(0.2)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for child in children:
            if child.is_alive() and child.pid is not None:
                os.kill(child.pid, signal.SIGTERM)
        for child in children:
            child.join(timeout=30)
            if child.is_alive():
                child.kill()
                child.join()
        sock.close()
    if not stopping:
        raise SettingsError("a worker process exited; stopped the others")


def _wait_answering(url: str, child: multiprocessing.process.BaseProcess) -> None:
    while child.is_alive():
        try:
            with urllib.request.urlopen(url, timeout=5):  # noqa: S310 - our own address
                return
        except OSError:
            time.sleep(0.2)


def _worker_process(
    settings: Settings,
    fixtures: Sequence[Fixture],
    host: str,
    port: int,
    sock: socket.socket,
) -> None:
    configure_logging(level=settings.log_level, fmt=settings.log_format)
    serve_forever(_run(settings, fixtures, host=host, port=port, demo_mode=False, sockets=[sock]))


def serve_forever(main: Coroutine[Any, Any, None]) -> None:
    """Run the server coroutine on uvloop when installed (the `http` extra), else asyncio."""
    if _has("uvloop"):
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(main)
        return
    asyncio.run(main)


async def _run(
    settings: Settings,
    fixtures: Sequence[Fixture],
    *,
    host: str,
    port: int,
    demo_mode: bool,
    sockets: list[socket.socket] | None = None,
) -> None:
    # Adapters are opened here, in the loop that serves: the Stream SDK client binds to it.
    async with bootstrap.open_runtime(settings) as runtime:
        runtime.deliver_webhooks_to(_base_url(host, port))
        await _load_and_serve(
            runtime, fixtures, host=host, port=port, demo_mode=demo_mode, sockets=sockets
        )


async def _load_and_serve(
    runtime: Runtime,
    fixtures: Sequence[Fixture],
    *,
    host: str,
    port: int,
    demo_mode: bool,
    sockets: list[socket.socket] | None = None,
) -> None:
    for fixture in fixtures:
        await runtime.load(fixture)
        logger.info(
            "loaded fixture",
            extra={
                "orgs": len(fixture.orgs),
                "users": len(fixture.users),
                "appointments": len(fixture.appointments),
            },
        )
    app = bootstrap.build_app(runtime)
    token_for = _demo_token_for(runtime.settings) if demo_mode else None
    if token_for is not None:
        for handler in console_routes(demo.console_config(token_for)):
            app.register(handler)
    config = server_config(
        app, host=host, port=port, read_timeout=runtime.settings.http.request_read_timeout_seconds
    )
    announce = (
        _demo_text(runtime.settings, host, port, emulator=runtime.emulator) if demo_mode else None
    )
    server = _Server(config, announce=announce)
    await server.serve(sockets=sockets)
    if not server.started:
        raise SettingsError(f"could not start the server on {host}:{port}")


def server_config(app: Any, *, host: str, port: int, read_timeout: float = 15.0) -> uvicorn.Config:
    """Uvicorn on uvloop and httptools (the `http` extra installs both); our access log only.
    With httptools, request heads must arrive within `read_timeout` s (h11 has no deadline)."""
    http: Any = "h11"
    if _has("httptools"):
        from yc_chat.entrypoints.http.server_protocol import timed_protocol  # needs httptools

        http = timed_protocol(read_timeout)
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="none",  # `serve_forever` runs the loop
        http=http,
        log_config=None,
        access_log=False,
        lifespan="on",
        server_header=False,
    )


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


class _Server(uvicorn.Server):
    """A uvicorn server that prints the demo instructions once it is listening."""

    def __init__(self, config: uvicorn.Config, *, announce: str | None) -> None:
        super().__init__(config)
        self._announce = announce

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            logger.info("listening", extra={"host": self.config.host, "port": self.config.port})
            if self._announce is not None:
                print(self._announce, flush=True)


def _demo_token_for(settings: Settings) -> Callable[[str], str] | None:
    """Bearer tokens for the demo's people, or None when callers bring their own (JWKS)."""
    auth = settings.http.auth
    secret = auth.jwt_secret
    if secret is None:
        return None
    return lambda user_id: issue_dev_token(
        secret,
        user_id,
        ttl_seconds=DEMO_TOKEN_TTL,
        claim=auth.user_id_claim,
        audience=auth.audience,
        issuer=auth.issuer,
    )


def _demo_text(
    settings: Settings, host: str, port: int, *, emulator: RunningEmulator | None = None
) -> str:
    base_url = _base_url(host, port)
    # The key is public (Stream's is too); a frontend pointed here needs both.
    stream = (
        f"\nStream emulator: {emulator.base_url}  api key: {emulator.api_key}"
        if emulator is not None
        else ""
    )
    token_for = _demo_token_for(settings)
    if token_for is None:
        return (
            f"\nyc-chat demo is up at {base_url}; JWT_JWKS_URL is set: bring your own tokens."
            + stream
        )
    console = f"\nClinic console (vet and pet owner side by side): {base_url}/demo/"
    return demo.demo_instructions(base_url, token_for) + stream + console + "\n"


def _base_url(host: str, port: int) -> str:
    # A wildcard bind is reachable on loopback; that is the address worth pasting.
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"


def _dev_token(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    auth = Settings.from_env(env).http.auth
    if auth.jwt_secret is None:
        raise SettingsError("dev-token signs with JWT_SECRET, which is not set")
    if not 1 <= args.ttl <= 30 * 86400:
        raise SettingsError("--ttl must be between 1 second and 30 days")
    print(
        issue_dev_token(
            auth.jwt_secret,
            args.user_id,
            ttl_seconds=args.ttl,
            claim=auth.user_id_claim,
            audience=auth.audience,
            issuer=auth.issuer,
        )
    )
    return 0


async def _seed(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    settings = Settings.from_env(env)
    fixture = load_fixture(args.file)
    print(
        f"{args.file}: valid ({len(fixture.orgs)} orgs, {len(fixture.users)} users, "
        f"{len(fixture.memberships)} memberships, {len(fixture.appointments)} appointments)."
    )
    if settings.mongodb_uri is None:
        # In-memory stores live in the server process; a separate `seed` has nowhere lasting
        # to write to. The server loads the same file with `serve --seed`.
        print(
            "MONGODB_URI is not set, so the stores are in memory and nothing was written; "
            f"load it into a server with: yc-chat serve --seed {args.file}"
        )
        return 0
    async with bootstrap.open_mongo(settings) as stores:
        await seed(fixture, directory=stores.directory, appointments=stores.appointments)
    print("Loaded into MongoDB (upserts: loading the same file again changes nothing).")
    return 0


def _worker(env: Mapping[str, str]) -> int:
    settings = Settings.from_env(env)
    configure_logging(level=settings.log_level, fmt=settings.log_format)
    if settings.mongodb_uri is None:
        logger.warning(
            "worker without MONGODB_URI: its in-memory inbox receives nothing from a server; "
            "run it against the MongoDB the servers use"
        )
    asyncio.run(_run_worker(settings))
    return 0


async def _run_worker(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with bootstrap.open_runtime(settings) as runtime:
        logger.info("worker started")
        await bootstrap.run_worker(runtime, stop)
    logger.info("worker stopped")


async def _events(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    settings = Settings.from_env(env)
    if settings.mongodb_uri is None:
        # Like `seed`: an in-memory inbox lives in the server process, not here.
        print("MONGODB_URI is not set: the inbox is in the server's memory, nothing to show here.")
        return 0
    async with bootstrap.open_mongo(settings) as stores:
        if args.events_command == "retry":
            if await stores.inbox.retry_parked(args.event_id, now=datetime.now(UTC)):
                print(f"{args.event_id}: queued again; a worker will handle it shortly.")
                return 0
            print(f"yc-chat: error: no parked event {args.event_id!r}", file=sys.stderr)
            return 1
        if not 1 <= args.limit <= 1000:
            raise SettingsError("--limit must be between 1 and 1000")
        counts = await stores.inbox.counts()
        parked = await stores.inbox.parked(limit=args.limit)
    print("inbox: " + ", ".join(f"{state.value} {n}" for state, n in counts.items()))
    if not parked:
        print("no parked events")
        return 0
    print(f"{'id':<40} {'type':<20} {'attempts':>8}  {'parked at':<25} reason")
    for event in parked:
        when = event.finished_at.isoformat(timespec="seconds") if event.finished_at else "-"
        print(
            f"{event.id:<40} {event.type[:20]:<20} {event.attempts:>8}  {when:<25} "
            f"{event.last_error or ''}"
        )
    print("replay one with: yc-chat events retry ID")
    return 0


def _emulator(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    settings = Settings.from_env(env)
    if not 0 < args.port < 65536:
        raise SettingsError("--port must be between 1 and 65535")
    configure_logging(level=settings.log_level, fmt=settings.log_format)
    if settings.stream_api_key and settings.stream_api_secret:
        key, secret = settings.stream_api_key, settings.stream_api_secret
        print(f"Stream emulator on http://{args.host}:{args.port} with STREAM_API_KEY={key}")
    else:
        key, secret = new_credentials()
        # Printed on purpose: this is a throwaway local app the developer must point at.
        print(
            f"Stream emulator on http://{args.host}:{args.port}\n"
            f"  STREAM_API_KEY={key}\n  STREAM_API_SECRET={secret}\n"
            f"  STREAM_BASE_URL=http://{args.host}:{args.port}",
            flush=True,
        )
    run_emulator(args.host, args.port, api_key=key, api_secret=secret, webhook_url=args.webhook_url)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
