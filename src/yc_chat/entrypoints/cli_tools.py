"""The one-shot and background commands: dev-token, seed, worker, events, emulator."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import socket
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from yc_chat.entrypoints.cli_common import CommandError, configure_cli_logging, plural
from yc_chat.entrypoints.cli_server import bind_socket
from yc_chat.entrypoints.cli_startup import check_stream
from yc_chat.entrypoints.settings import Settings, SettingsError, parse_duration_seconds

if TYPE_CHECKING:
    from yc_chat.entrypoints.fixture import Fixture
    from yc_chat.entrypoints.observability import MetricsServer
    from yc_chat.entrypoints.runtime import Runtime

logger = logging.getLogger("yc_chat.cli")


def dev_token(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from yc_chat.entrypoints.http.auth import issue_dev_token

    auth = Settings.from_env(env).http.auth
    if auth.jwt_secret is None:
        raise SettingsError("dev-token signs with JWT_SECRET, which is not set")
    try:
        ttl = parse_duration_seconds(args.ttl)
    except ValueError as exc:
        raise CommandError(f"--ttl: {exc}") from exc
    if not 1 <= ttl <= 30 * 86400:
        raise CommandError("--ttl must be between 1 second and 30 days")
    print(
        issue_dev_token(
            auth.jwt_secret,
            args.user_id,
            ttl_seconds=ttl,
            claim=auth.user_id_claim,
            audience=auth.audience,
            issuer=auth.issuer,
        )
    )
    return 0


def seed_command(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from yc_chat.entrypoints.fixture import load_fixture

    settings = Settings.from_env(env)
    configure_cli_logging(settings, env, quiet=True)
    fixture = load_fixture(args.file)
    counts = ", ".join(
        (
            plural(len(fixture.orgs), "org"),
            plural(len(fixture.users), "user"),
            plural(len(fixture.memberships), "membership"),
            plural(len(fixture.appointments), "appointment"),
        )
    )
    print(f"{args.file}: valid ({counts}).")
    if not (settings.database_url or settings.mongodb_uri):
        # In-memory stores live in the server process; a separate `seed` has nowhere lasting
        # to write to. The server loads the same file with `serve --seed`.
        print(
            "Neither DATABASE_URL nor MONGODB_URI is set, so the stores are in memory and "
            "nothing was written; "
            f"load it into a server with: yc-chat serve --seed {args.file}"
        )
        return 0
    return asyncio.run(_seed_into_mongo(settings, fixture))


async def _seed_into_mongo(settings: Settings, fixture: Fixture) -> int:
    from yc_chat.entrypoints import bootstrap
    from yc_chat.entrypoints.fixture import seed

    async with bootstrap.open_database(settings) as stores:
        await seed(fixture, directory=stores.directory, appointments=stores.appointments)
    where = "PostgreSQL" if settings.database_url is not None else "MongoDB"
    print(f"Loaded into {where} (upserts: loading the same file again changes nothing).")
    return 0


def worker(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    settings = Settings.from_env(env)
    sock = None
    if args.metrics_port is not None:
        if not 0 < args.metrics_port < 65536:
            raise SettingsError("--metrics-port must be between 1 and 65535")
        # Taken before anything starts: a busy port is one line.
        sock = bind_socket(args.metrics_host, args.metrics_port, option="--metrics-port")
    if not args.no_check:
        try:
            check_stream(settings, wait_seconds=args.check_timeout)
        except BaseException:
            if sock is not None:
                sock.close()
            raise
    configure_cli_logging(settings, env)
    if not (settings.database_url or settings.mongodb_uri):
        logger.warning(
            "worker without DATABASE_URL or MONGODB_URI: its in-memory inbox receives nothing "
            "from a server; run it against the database the servers use"
        )
    try:
        asyncio.run(_run_worker(settings, sock))
    finally:
        if sock is not None:
            sock.close()
    return 0


async def _run_worker(settings: Settings, sock: socket.socket | None) -> None:
    from yc_chat.entrypoints import bootstrap

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with bootstrap.open_runtime(settings) as runtime:
        metrics = None if sock is None else await _serve_metrics(runtime, sock)
        logger.info("worker started")
        try:
            await bootstrap.run_worker(runtime, stop)
        finally:
            if metrics is not None:
                await metrics.stop()
    logger.info("worker stopped")


async def _serve_metrics(runtime: Runtime, sock: socket.socket) -> MetricsServer:
    """GET /metrics (and /healthz) on `sock`, served beside the worker's loops."""
    from yc_chat.entrypoints.observability import MetricsServer, metrics_app

    server = MetricsServer(metrics_app(runtime), sock)
    await server.start()
    host, port = sock.getsockname()[:2]
    logger.info("metrics: serving /metrics", extra={"url": f"http://{host}:{port}/metrics"})
    return server


def events_command(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    settings = Settings.from_env(env)
    if not (settings.database_url or settings.mongodb_uri):
        # An in-memory inbox lives in the server process; this process cannot see it.
        raise CommandError(
            "`yc-chat events` reads the webhook inbox in the database the servers share, and "
            "MONGODB_URI is not set, nor DATABASE_URL (a server without either keeps its inbox "
            "in its own memory)"
        )
    if not 1 <= args.limit <= 1000:
        raise CommandError("--limit must be between 1 and 1000")
    configure_cli_logging(settings, env, quiet=True)
    return asyncio.run(_events(args, settings))


async def _events(args: argparse.Namespace, settings: Settings) -> int:
    from yc_chat.entrypoints import bootstrap

    async with bootstrap.open_database(settings) as stores:
        if args.events_command == "retry":
            if await stores.inbox.retry_parked(args.event_id, now=datetime.now(UTC)):
                print(f"{args.event_id}: queued again; a worker will handle it shortly.")
                return 0
            raise CommandError(
                f"no parked event {args.event_id!r} (`yc-chat events` lists them)", status=1
            )
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


def db_command(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """`yc-chat db upgrade`: the PostgreSQL schema brought to this version's."""
    from yc_chat.entrypoints import bootstrap

    settings = Settings.from_env(env)
    if settings.database_url is None:
        raise CommandError(
            "`yc-chat db upgrade` migrates the PostgreSQL that DATABASE_URL names, and it is "
            "not set (MongoDB needs no migrations: its indexes are made when the stores open)"
        )
    configure_cli_logging(settings, env, quiet=True)
    before, after = asyncio.run(bootstrap.upgrade_database(settings.database_url))
    if before == after:
        print(f"PostgreSQL schema: already at {after} (nothing to do).")
    else:
        print(f"PostgreSQL schema: upgraded from {before or 'empty'} to {after}.")
    return 0


def emulator(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """The emulator package's own server, with yc-chat's settings, logging and port check."""
    from stream_emulator.server import announcement, new_credentials, run_emulator

    settings = Settings.from_env(env)
    if not 0 < args.port < 65536:
        raise SettingsError("--port must be between 1 and 65535")
    bind_socket(args.host, args.port).close()  # a busy port is one line, before anything
    configure_cli_logging(settings, env)
    if settings.stream_api_key and settings.stream_api_secret:
        key, secret = settings.stream_api_key, settings.stream_api_secret
        print(announcement(args.host, args.port, api_key=key))
    else:
        key, secret = new_credentials()
        # Printed on purpose: this is a throwaway local app the developer must point at.
        print(announcement(args.host, args.port, api_key=key, api_secret=secret), flush=True)
    run_emulator(args.host, args.port, api_key=key, api_secret=secret, webhook_url=args.webhook_url)
    return 0
