"""`yc-chat serve`: bind the port first, open the adapters, serve until a signal.

Ctrl-C and SIGTERM stop the server gracefully and the adapters close before the process
exits 0; a busy port is one line before anything starts; `--reload` restarts a child
process when a source file changes.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import importlib.util
import logging
import multiprocessing
import os
import secrets
import signal
import socket
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from yc_chat.entrypoints.cli_common import CommandError, configure_cli_logging, fail
from yc_chat.entrypoints.cli_server import (
    bind_socket,
    serve_forever,
    server_class,
    server_config,
    url_for,
)
from yc_chat.entrypoints.cli_startup import check_stream, shared_metrics
from yc_chat.entrypoints.logs import configure_logging
from yc_chat.entrypoints.runtime import Runtime
from yc_chat.entrypoints.settings import Settings, SettingsError, require_auth, with_jwt_secret

if TYPE_CHECKING:
    from stream_emulator.server import RunningEmulator
    from yc_chat.entrypoints.fixture import Fixture

logger = logging.getLogger("yc_chat.cli")

DEMO_TOKEN_TTL = 12 * 3600


def serve(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """`yc-chat serve`: returns 0 after a clean stop (Ctrl-C or SIGTERM)."""
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
    if args.workers > 1 and not (settings.database_url or settings.mongodb_uri):
        raise SettingsError(
            f"--workers {args.workers} needs MONGODB_URI or DATABASE_URL: in-memory stores "
            "live in one process and cannot be shared between workers"
        )
    fixtures = _fixtures(args)
    # Taken before anything starts: a busy port is one line, not a half-started service.
    sock = bind_socket(args.host, args.port)
    # Every adapter module, before anything starts: a missing extra is named up front.
    importlib.import_module("yc_chat.entrypoints.bootstrap")
    if not args.no_check:
        check_stream(settings, wait_seconds=args.check_timeout)
    if args.reload:
        return _serve_with_reload(args, env, settings, sock)
    # Logging is set up once the configuration is known to be usable: errors before this
    # point are one plain line on stderr.
    configure_cli_logging(settings, env)
    if generated_secret:
        logger.warning("demo: generated a development JWT secret for this run only")
    if args.workers > 1:
        with shared_metrics(settings) as shared:
            return _serve_workers(
                shared, fixtures, sock, host=args.host, port=args.port, workers=args.workers
            )
    return _serve_on(settings, fixtures, sock, host=args.host, port=args.port, demo=args.demo)


def _serve_workers(
    settings: Settings,
    fixtures: Sequence[Fixture],
    sock: socket.socket,
    *,
    host: str,
    port: int,
    workers: int,
) -> int:
    """N processes serving the one socket bound here; SIGINT/SIGTERM stop them all.

    When a worker dies the others are stopped too and the command fails, so whatever
    supervises the service (systemd, Kubernetes) restarts it whole.
    """
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
        _wait_answering(url_for(host, port) + "/healthz", children[0])
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
        raise CommandError("a worker process exited; stopped the others", status=1)
    return 0


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
    serve_forever(_run(settings, fixtures, sock, host=host, port=port, demo_mode=False))


def _fixtures(args: argparse.Namespace) -> list[Fixture]:
    from yc_chat.entrypoints import demo
    from yc_chat.entrypoints.fixture import load_fixture

    fixtures: list[Fixture] = []
    if args.seed:
        fixtures.append(load_fixture(args.seed))
    if args.demo:
        fixtures.append(demo.demo_fixture(datetime.now(UTC)))
    return fixtures


def _serve_on(
    settings: Settings,
    fixtures: Sequence[Fixture],
    sock: socket.socket,
    *,
    host: str,
    port: int,
    demo: bool,
) -> int:
    with sock:
        stopped_by = serve_forever(
            _run(settings, fixtures, sock, host=host, port=port, demo_mode=demo)
        )
    if stopped_by is not None:
        logger.info("stopped", extra={"signal": signal.Signals(stopped_by).name})
    return 0


async def _run(
    settings: Settings,
    fixtures: Sequence[Fixture],
    sock: socket.socket,
    *,
    host: str,
    port: int,
    demo_mode: bool,
) -> int | None:
    from yc_chat.entrypoints import bootstrap

    # Adapters are opened here, in the loop that serves: the Stream SDK client binds to it.
    # The demo migrates a PostgreSQL schema itself; a real service is upgraded by its operator.
    async with bootstrap.open_runtime(settings, migrate=demo_mode) as runtime:
        runtime.deliver_webhooks_to(url_for(host, port))
        return await _load_and_serve(
            runtime, fixtures, sock, host=host, port=port, demo_mode=demo_mode
        )


async def _load_and_serve(
    runtime: Runtime,
    fixtures: Sequence[Fixture],
    sock: socket.socket,
    *,
    host: str,
    port: int,
    demo_mode: bool,
) -> int | None:

    from yc_chat.entrypoints import bootstrap

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
    token_for = demo_token_for(runtime.settings) if demo_mode else None
    if token_for is not None:
        from yc_chat.entrypoints import demo
        from yc_chat.entrypoints.http.console import console_routes

        for handler in console_routes(demo.console_config(token_for)):
            app.register(handler)
    config = server_config(
        app, host=host, port=port, read_timeout=runtime.settings.http.request_read_timeout_seconds
    )
    announce = (
        demo_text(runtime.settings, host, port, emulator=runtime.emulator) if demo_mode else None
    )
    server = server_class()(config, announce=announce)
    await server.serve(sockets=[sock])
    if not server.started:
        raise CommandError(f"could not start the server on {host}:{port}", status=1)
    return server.stopped_by


def _serve_with_reload(
    args: argparse.Namespace, env: Mapping[str, str], settings: Settings, sock: socket.socket
) -> int:
    """Run `serve` in a child process and restart it whenever a source file changes."""
    import uvicorn
    from uvicorn.supervisors import ChangeReload

    child_env = dict(env)
    # The demo's generated secret is kept across restarts, so printed tokens stay valid.
    if settings.http.auth.jwt_secret is not None:
        child_env["JWT_SECRET"] = settings.http.auth.jwt_secret
    child_args = {
        "seed": args.seed,
        "demo": args.demo,
        "no_worker": args.no_worker,
        "host": args.host,
        "port": args.port,
    }
    configure_cli_logging(settings, env)
    source = Path(__file__).resolve().parents[1]
    config = uvicorn.Config(
        "yc_chat.entrypoints.cli:main",  # unused: the target below is what runs
        reload=True,
        reload_dirs=[str(source)],
        log_config=None,
    )
    target = functools.partial(_reload_child, child_args, child_env)
    logger.info("reload: watching for changes", extra={"directory": str(source)})
    with sock:
        ChangeReload(config, target=target, sockets=[sock]).run()
    return 0


def _reload_child(
    child_args: dict[str, Any],
    env: dict[str, str],
    sockets: list[socket.socket] | None = None,
) -> None:
    """One generation of `serve --reload`: a normal serve on the inherited socket."""
    settings = Settings.from_env(env)
    if child_args["no_worker"]:
        settings = attrs.evolve(settings, worker=attrs.evolve(settings.worker, enabled=False))
    args = argparse.Namespace(**child_args)
    configure_cli_logging(settings, env)
    assert sockets, "uvicorn's reloader passes the listening socket"
    try:
        _serve_on(
            settings,
            _fixtures(args),
            sockets[0],
            host=args.host,
            port=args.port,
            demo=args.demo,
        )
    except (CommandError, SettingsError) as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        pass


def demo_token_for(settings: Settings) -> Callable[[str], str] | None:
    """Bearer tokens for the demo's people, or None when callers bring their own (JWKS)."""
    from yc_chat.entrypoints.http.auth import issue_dev_token

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


def demo_text(
    settings: Settings, host: str, port: int, *, emulator: RunningEmulator | None = None
) -> str:
    from yc_chat.entrypoints import demo

    base_url = url_for(host, port)
    # The key is public (Stream's is too); a frontend pointed here needs both.
    stream = (
        f"\nStream emulator: {emulator.base_url}  api key: {emulator.api_key}"
        if emulator is not None
        else ""
    )
    token_for = demo_token_for(settings)
    if token_for is None:
        return (
            f"\nyc-chat demo is up at {base_url}; JWT_JWKS_URL is set: bring your own tokens."
            + stream
        )
    console = f"\nClinic console (vet and pet owner side by side): {base_url}/demo/"
    text = demo.demo_instructions(base_url, token_for)
    if emulator is not None:
        text += "\n" + demo.message_walkthrough(
            base_url,
            token_for(demo.PET_OWNER.user_id),
            stream_url=emulator.base_url,
            api_key=emulator.api_key,
        )
    return text + stream + console + "\n"
