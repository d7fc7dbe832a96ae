"""The uvicorn server under `yc-chat serve`: its socket, its event loop, its configuration,
and a server that stops cleanly on a signal."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import importlib.util
import logging
import signal
import socket
import threading
from collections.abc import Coroutine, Iterator
from typing import TYPE_CHECKING, Any

from yc_chat.entrypoints.cli_common import CommandError

if TYPE_CHECKING:
    import uvicorn

logger = logging.getLogger("yc_chat.cli")


def bind_socket(host: str, port: int, *, option: str = "--port") -> socket.socket:
    """A listening-ready socket on host:port; a port in use is one clear error."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise CommandError(f"--host {host}: cannot resolve it ({exc.strerror})") from exc
    family, kind, proto, _, address = infos[0]
    # The protocol is named: asyncio sets TCP_NODELAY only on IPPROTO_TCP sockets.
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise CommandError(
                f"port {port} on {host} is already in use (another yc-chat?): stop that "
                f"process, or pick another port with {option}"
                + (" (make serve PORT=...)" if option == "--port" else ""),
                status=1,
            ) from exc
        raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror}", status=1) from exc
    sock.set_inheritable(True)
    return sock


def serve_forever(main: Coroutine[Any, Any, int | None]) -> int | None:
    """Run the server coroutine on uvloop when installed (the `http` extra), else asyncio."""
    if _has("uvloop"):
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(main)
    return asyncio.run(main)


def server_config(app: Any, *, host: str, port: int, read_timeout: float = 15.0) -> uvicorn.Config:
    """Uvicorn on uvloop and httptools (the `http` extra installs both); our access log only.
    With httptools, request heads must arrive within `read_timeout` s (h11 has no deadline)."""
    import uvicorn

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


def server_class() -> type[_ServerProtocol]:
    import uvicorn

    class _Server(uvicorn.Server):
        """Prints the demo text once listening; a signal stops it without re-raising."""

        def __init__(self, config: uvicorn.Config, *, announce: str | None) -> None:
            super().__init__(config)
            self._announce = announce
            self.stopped_by: int | None = None

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started:
                logger.info(
                    "listening",
                    extra={"url": url_for(self.config.host, self.config.port)},
                )
                if self._announce is not None:
                    print(self._announce, flush=True)

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            # Uvicorn re-raises the signal after a graceful stop. Under asyncio.run that
            # cancels the adapters' closing (a CancelledError, then KeyboardInterrupt);
            # here the stop is complete once serve() returns, and the exit status is 0.
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            handled = (signal.SIGINT, signal.SIGTERM)
            original = {sig: signal.signal(sig, self._on_signal) for sig in handled}
            try:
                yield
            finally:
                for sig, handler in original.items():
                    signal.signal(sig, handler)

        def _on_signal(self, sig: int, frame: Any) -> None:
            self.stopped_by = sig
            self.handle_exit(sig, frame)

    return _Server


if TYPE_CHECKING:
    from typing import Protocol

    class _ServerProtocol(Protocol):
        started: bool
        stopped_by: int | None

        def __init__(self, config: uvicorn.Config, *, announce: str | None) -> None: ...

        async def serve(self, sockets: list[socket.socket] | None = None) -> None: ...


def url_for(host: str, port: int) -> str:
    # A wildcard bind is reachable on loopback; that is the address worth pasting.
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"
