"""The `yc-chat` command: serve, worker, events, dev-token, seed, emulator, stream setup.

Only the standard library and the settings are imported at module level: `yc-chat --help`
works from a bare `pip install yc-chat`, and a command whose optional extra is missing says
which extra to install. Every mistake is one `yc-chat: error: ...` line and a non-zero exit
status, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from yc_chat.entrypoints.cli_common import EXIT_INTERRUPTED, EXIT_USAGE, CommandError, fail
from yc_chat.entrypoints.settings import SettingsError

DEFAULT_PORT = 3000
EMULATOR_PORT = 8800  # stream_emulator.server.DEFAULT_PORT, not imported: --help needs no extras
ENV_FILE = ".env"

# Which optional extra (pyproject `[project.optional-dependencies]`) provides a module.
_EXTRA_OF_MODULE = {
    "litestar": "http",
    "uvicorn": "http",
    "redis": "http",
    "httpx": "http",
    "stream_chat": "stream",
    "aiohttp": "stream",
    "beanie": "mongo",
    "pymongo": "mongo",
    "sqlalchemy": "postgres",
    "asyncpg": "postgres",
    "alembic": "postgres",
    "firebase_admin": "push",
    "google": "push",
}
# What each command imports when it runs (the composition root opens every adapter kind).
_COMMAND_EXTRAS = {
    "serve": "http,stream,mongo,postgres",
    "worker": "http,stream,mongo,postgres",
    "events": "http,stream,mongo,postgres",
    "seed": "http,stream,mongo,postgres",
    "db": "postgres",
    "emulator": "http,stream",
    "stream": "stream",
    "dev-token": "http",
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="yc-chat",
        description="Chat backend of the Yosemite Crew veterinary platform: who may talk to "
        "whom, on Stream Chat. Configuration comes from the environment (and a .env file in "
        "the current directory, if there is one; the real environment wins).",
        epilog="Start with `yc-chat serve --demo`. `yc-chat COMMAND --help` describes each.",
    )
    parser.add_argument("--version", action="version", version=f"yc-chat {_version()}")
    parser.add_argument(
        "--env-file",
        metavar="FILE",
        help=f"read variables from FILE (default: {ENV_FILE} if it exists); variables already "
        "set in the environment win",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="run the HTTP service",
        description="Run the HTTP service. Without MONGODB_URI the stores are in memory; "
        "without STREAM_API_KEY/STREAM_API_SECRET a built-in Stream emulator is started. "
        "Needs JWT_SECRET or JWT_JWKS_URL, except with --demo.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port to bind (default {DEFAULT_PORT})"
    )
    serve.add_argument(
        "--seed", metavar="FILE", help="load a directory/appointments JSON file (see `seed`)"
    )
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
    _add_stream_check(serve)
    serve.add_argument(
        "--reload",
        action="store_true",
        help="restart when a source file changes (local development only)",
    )

    worker = commands.add_parser(
        "worker",
        help="handle webhook events and run the chat lifecycle, without HTTP (needs MongoDB)",
        description="Handle recorded webhook events and run the appointment chat lifecycle, "
        "without serving HTTP. It works on the inbox the servers write to, so it needs "
        "MONGODB_URI pointing at their MongoDB; several workers may run at once.",
    )
    _add_stream_check(worker)
    worker.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help="serve Prometheus metrics (GET /metrics) and GET /healthz on PORT (default: none)",
    )
    worker.add_argument(
        "--metrics-host",
        default="127.0.0.1",
        metavar="HOST",
        help="address for --metrics-port (default 127.0.0.1)",
    )

    events = commands.add_parser(
        "events",
        help="list parked webhook events, or retry one (needs MongoDB)",
        description="Show the webhook inbox's counts and the events parked after "
        "WEBHOOK_MAX_ATTEMPTS failures. Reads the MongoDB at MONGODB_URI.",
    )
    events.add_argument("--limit", type=int, default=50, help="how many to list (default 50)")
    events_commands = events.add_subparsers(dest="events_command", metavar="retry")
    retry = events_commands.add_parser(
        "retry",
        help="replay a parked event",
        description="Queue a parked event again; a worker handles it shortly.",
    )
    retry.add_argument("event_id", metavar="ID", help="the id `yc-chat events` lists")

    database = commands.add_parser(
        "db",
        help="PostgreSQL schema migrations: `yc-chat db upgrade`",
        description="Manage the schema of the PostgreSQL that DATABASE_URL names. `serve` "
        "and `worker` refuse to start on a schema behind this version's.",
    )
    database_commands = database.add_subparsers(dest="db_command", metavar="upgrade", required=True)
    database_commands.add_parser(
        "upgrade",
        help="bring the schema to this version's (safe to run again, and from several "
        "processes at once)",
        description="Apply every migration the database lacks, in one transaction.",
    )

    token = commands.add_parser(
        "dev-token",
        help="print a bearer JWT for a user, signed with JWT_SECRET",
        description="Print a bearer JWT for USER_ID signed with JWT_SECRET (HS256), with "
        "JWT_AUDIENCE, JWT_ISSUER and JWT_USER_ID_CLAIM applied: for local calls with curl.",
    )
    token.add_argument("user_id", metavar="USER_ID")
    token.add_argument(
        "--ttl",
        default="3600",
        help="lifetime: seconds, or a number with s, m, h or d, e.g. 24h (default 3600)",
    )

    seed = commands.add_parser(
        "seed",
        help="validate a directory/appointments JSON file; load it into MongoDB",
        description="Check FILE, a JSON object with the lists orgs, users, memberships and "
        "appointments (the format is in the README, 'Fixture format'). Every problem is "
        "listed with its place in the file. With MONGODB_URI set, the file is then loaded "
        "into that database (upserts: loading it twice changes nothing); without it, nothing "
        "is written (use `yc-chat serve --seed FILE`).",
    )
    seed.add_argument("file", metavar="FILE")

    stream = commands.add_parser(
        "stream",
        help="set up the Stream app the service uses (needs STREAM_API_KEY/SECRET)",
        description="Operator commands for the Stream app named by STREAM_API_KEY, "
        "STREAM_API_SECRET and STREAM_BASE_URL (Stream, or a `yc-chat emulator`).",
    )
    stream_commands = stream.add_subparsers(dest="stream_command", required=True, metavar="setup")
    setup = stream_commands.add_parser(
        "setup",
        help="apply the channel type's grants the service relies on (idempotent)",
        description="Set the `messaging` channel type's grants so that people holding a Stream "
        "user token cannot create channels, change members or custom data, or unfreeze, and "
        "members can read, send, reply, react, upload, mark read and send typing events; a "
        "channel's creator gets nothing more. Running it again changes nothing. `/readyz` "
        "fails until it is applied.",
    )
    setup.add_argument(
        "--check",
        action="store_true",
        help="only report whether the setup is applied (exit status 1 if not)",
    )

    emulator = commands.add_parser(
        "emulator",
        help="run the Stream API emulator on its own",
        description="Serve the built-in Stream emulator alone. It prints the STREAM_API_KEY, "
        "STREAM_API_SECRET and STREAM_BASE_URL to give `yc-chat serve` (or uses the given "
        "STREAM_API_KEY/STREAM_API_SECRET).",
    )
    emulator.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    emulator.add_argument(
        "--port", type=int, default=EMULATOR_PORT, help=f"port to bind (default {EMULATOR_PORT})"
    )
    emulator.add_argument(
        "--webhook-url", metavar="URL", help="where to deliver signed webhooks (optional)"
    )
    return parser


def _add_stream_check(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--no-check",
        action="store_true",
        help="do not check at start that Stream answers and accepts STREAM_API_KEY/"
        "STREAM_API_SECRET",
    )
    command.add_argument(
        "--check-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long the start-up check keeps asking a Stream that does not answer yet "
        "(default 30; 0 asks once)",
    )


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("yc-chat")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree, not installed
        return "unknown"


def parse_args(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse `argv`; an unknown option is reported with its own subcommand's usage.

    argparse leaves unknown arguments to the top-level parser, whose usage says nothing
    about `serve`'s options; the innermost subcommand's parser reports them instead.
    """
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        _innermost(parser, args).error("unrecognized arguments: " + " ".join(unknown))
    return args


def _innermost(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> argparse.ArgumentParser:
    for action in parser._actions:  # argparse has no public way to reach its subparsers
        if isinstance(action, argparse._SubParsersAction):
            chosen = getattr(args, action.dest or "", None)
            if chosen in action.choices:
                return _innermost(action.choices[chosen], args)
    return parser


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    args = parse_args(build_parser(), argv)
    try:
        environment = os.environ if env is None else env
        if env is None or args.env_file:
            environment = with_env_file(environment, args.env_file)
        return _dispatch(args, environment)
    except KeyboardInterrupt:
        # Ctrl-C outside the server's own handling (while starting, or a one-shot command).
        print("yc-chat: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except CommandError as exc:
        fail(str(exc))
        return exc.status
    except SettingsError as exc:
        fail(str(exc))
        return EXIT_USAGE
    except ModuleNotFoundError as exc:
        root = (exc.name or "").split(".")[0]
        extra = _EXTRA_OF_MODULE.get(root)
        if extra is None:
            raise
        extras = _COMMAND_EXTRAS.get(args.command, extra)
        fail(
            f"`yc-chat {args.command}` needs {root}, from the '{extra}' extra: "
            f"pip install 'yc-chat[{extras}]'"
        )
        return EXIT_USAGE
    except Exception as exc:
        failure = _known_failure(exc)
        if failure is None:
            raise
        fail(failure[0])
        return failure[1]


def _known_failure(exc: Exception) -> tuple[str, int] | None:
    """Errors of optional modules, recognised without importing them up front."""
    # Imported only once something failed, so a bare install never needs these modules.
    from yc_chat.domain.errors import ProviderUnavailable
    from yc_chat.entrypoints.fixture import FixtureError

    if isinstance(exc, FixtureError):
        return str(exc), EXIT_USAGE
    if isinstance(exc, ProviderUnavailable):
        # A store or Stream that cannot be reached at start: say which, exit non-zero.
        return exc.message, 1
    return None


def with_env_file(env: Mapping[str, str], path: str | None) -> Mapping[str, str]:
    """`env` completed by the variables of a .env file; variables already set win."""
    file = Path(path or ENV_FILE)
    if path is None and not file.is_file():
        return env
    try:
        from dotenv import dotenv_values
    except ModuleNotFoundError:  # pragma: no cover - python-dotenv is a base dependency
        return env
    if not file.is_file():
        raise CommandError(f"--env-file {path}: no such file")
    # Literal values: a secret containing `$` must not be expanded.
    values = dotenv_values(file, interpolate=False, encoding="utf-8")
    return {**{k: v for k, v in values.items() if v is not None}, **env}


def _dispatch(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    # Imported per command: a bare install can still print --help.
    from yc_chat.entrypoints import cli_serve, cli_stream, cli_tools

    if args.command == "serve":
        return cli_serve.serve(args, env)
    if args.command == "dev-token":
        return cli_tools.dev_token(args, env)
    if args.command == "emulator":
        return cli_tools.emulator(args, env)
    if args.command == "worker":
        return cli_tools.worker(args, env)
    if args.command == "events":
        return cli_tools.events_command(args, env)
    if args.command == "db":
        return cli_tools.db_command(args, env)
    if args.command == "stream":
        return cli_stream.stream_command(args, env)
    return cli_tools.seed_command(args, env)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
