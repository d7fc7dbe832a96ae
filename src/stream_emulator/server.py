"""Running the emulator: in the foreground (`run_emulator`) or on a background thread."""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Final

import uvicorn

from stream_emulator.app import create_emulator_app, emulator_control
from stream_emulator.control import EmulatorControl
from stream_emulator.state import StreamState, system_clock
from stream_emulator.webhooks import WebhookSettings

DEFAULT_HOST: Final = "127.0.0.1"
# Not 3030: stream-chat-js rewrites a base URL on :3030 to :8800 for its websocket (its own
# local setup), so an emulator there would be unreachable live. 8800 survives the rewrite.
DEFAULT_PORT: Final = 8800


def new_credentials() -> tuple[str, str]:
    """A fresh (api_key, api_secret) pair for an emulator nobody configured."""
    return f"emu-{secrets.token_hex(6)}", secrets.token_urlsafe(32)


def announcement(host: str, port: int, *, api_key: str, api_secret: str | None = None) -> str:
    """What a started emulator prints: its address and key, and the secret only when given
    (a fresh throwaway one the developer must copy; a configured one stays unprinted)."""
    if api_secret is None:
        return f"Stream emulator on http://{host}:{port} with STREAM_API_KEY={api_key}"
    return (
        f"Stream emulator on http://{host}:{port}\n"
        f"  STREAM_API_KEY={api_key}\n  STREAM_API_SECRET={api_secret}\n"
        f"  STREAM_BASE_URL=http://{host}:{port}"
    )


def _config(app: object, *, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=host,
        port=port,
        lifespan="on",
        access_log=False,
        log_config=None,
        # Idle keep-alive connections of the clients must not hold up a stop.
        timeout_graceful_shutdown=2,
    )


def run_emulator(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    api_key: str,
    api_secret: str,
    webhook_url: str | None = None,
    webhook: WebhookSettings | None = None,
    state: StreamState | None = None,
) -> None:
    """Serve the emulator until interrupted (Ctrl+C / SIGTERM)."""
    app = create_emulator_app(
        state if state is not None else StreamState(),
        api_key=api_key,
        api_secret=api_secret,
        webhook_url=webhook_url,
        webhook=webhook,
    )
    uvicorn.Server(_config(app, host=host, port=port)).run()


class RunningEmulator:
    """An emulator serving on a background thread; `stop()` ends it (also on `with` exit)."""

    def __init__(
        self,
        *,
        base_url: str,
        control: EmulatorControl,
        server: uvicorn.Server,
        thread: threading.Thread,
        sock: socket.socket,
    ) -> None:
        self.base_url = base_url
        self.control = control
        self._server = server
        self._thread = thread
        self._socket = sock

    def __repr__(self) -> str:
        return f"RunningEmulator(base_url={self.base_url!r})"

    @property
    def api_key(self) -> str:
        """The emulated app's API key."""
        return self.control.api_key

    @property
    def running(self) -> bool:
        """Whether the server thread is still serving."""
        return self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        """Shut the server down and wait for its thread; safe to call twice."""
        self._server.should_exit = True
        self._thread.join(timeout)
        self._socket.close()
        if self._thread.is_alive():
            raise RuntimeError("the stream emulator did not stop in time")

    def __enter__(self) -> RunningEmulator:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def start_in_background(
    state: StreamState | None = None,
    *,
    api_key: str,
    api_secret: str,
    host: str = DEFAULT_HOST,
    port: int = 0,
    webhook_url: str | None = None,
    webhook: WebhookSettings | None = None,
    clock: Callable[[], datetime] = system_clock,
    startup_timeout: float = 10.0,
) -> RunningEmulator:
    """Start the emulator on its own thread and event loop; port 0 picks a free port."""
    app = create_emulator_app(
        state if state is not None else StreamState(),
        api_key=api_key,
        api_secret=api_secret,
        webhook_url=webhook_url,
        webhook=webhook,
        clock=clock,
    )
    # Bind here, so the port is known (and taken) before the thread starts. The protocol
    # must be named: asyncio sets TCP_NODELAY only on sockets whose proto is IPPROTO_TCP,
    # and without it every keep-alive answer waits 40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    server = uvicorn.Server(_config(app, host=host, port=bound_port))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="stream-emulator", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(startup_timeout)
            sock.close()
            raise RuntimeError("the stream emulator did not start")
        time.sleep(0.01)
    return RunningEmulator(
        base_url=f"http://{host}:{bound_port}",
        control=emulator_control(app),
        server=server,
        thread=thread,
        sock=sock,
    )
