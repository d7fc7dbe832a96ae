"""`python -m stream_emulator`: serve the Stream emulator until interrupted."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import socket
import sys
from collections.abc import Mapping, Sequence

from stream_emulator.server import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    announcement,
    new_credentials,
    run_emulator,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m stream_emulator",
        description="Serve a local Stream Chat: Stream's REST API and its websocket "
        "(/connect) on one address, for the server SDKs, stream-chat-js and browsers. "
        "Without --api-key/--api-secret (or STREAM_API_KEY/STREAM_API_SECRET) a fresh "
        "key and secret are made and printed, with the STREAM_BASE_URL to point a client at.",
    )
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST})"
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port to bind (default {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--api-key", metavar="KEY", help="the app's API key (default: $STREAM_API_KEY)"
    )
    parser.add_argument(
        "--api-secret",
        metavar="SECRET",
        help="the app's API secret, which signs server tokens (default: $STREAM_API_SECRET)",
    )
    parser.add_argument(
        "--webhook-url", metavar="URL", help="where to deliver signed webhooks (optional)"
    )
    return parser


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    environment = os.environ if env is None else env
    key = args.api_key or environment.get("STREAM_API_KEY") or None
    secret = args.api_secret or environment.get("STREAM_API_SECRET") or None
    if (key is None) != (secret is None):
        parser.error("give both the API key and the API secret, or neither")
    if not 0 < args.port < 65536:
        parser.error("--port must be between 1 and 65535")
    try:  # a busy port is one line, before anything starts
        socket.create_server((args.host, args.port)).close()
    except OSError as error:
        parser.error(f"cannot listen on {args.host}:{args.port}: {error.strerror or error}")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if key is not None and secret is not None:
        print(announcement(args.host, args.port, api_key=key), flush=True)
    else:
        key, secret = new_credentials()
        print(announcement(args.host, args.port, api_key=key, api_secret=secret), flush=True)
    # uvicorn stops gracefully on Ctrl-C, then raises it again: stopping is not an error.
    with contextlib.suppress(KeyboardInterrupt):
        run_emulator(
            args.host, args.port, api_key=key, api_secret=secret, webhook_url=args.webhook_url
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
