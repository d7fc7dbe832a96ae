"""Test support for the Stream emulator: a served emulator fixture, tokens, a webhook
receiver, and a connected client's helpers (its websocket URL, frames, watching, posting).

Import `stream_emulator` into a test module to use it: one emulator (uvicorn on a free
127.0.0.1 port, on its own thread) per importing module, always stopped at the end.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs
import httpx
import jwt
import pytest
from stream_chat import StreamChat
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from stream_emulator import (
    RunningEmulator,
    WebhookSettings,
    start_in_background,
)
from stream_emulator.state import StreamState
from yc_chat.adapters.stream import RetryPolicy, StreamConfig

API_KEY = "emulator-test-key"
API_SECRET = "emulator-test-secret-long-enough-for-hs256-signing"
# Retries quick enough for tests, still real retries with real pauses.
FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05, max_rate_limit_wait=1.5)
FAST_WEBHOOKS = WebhookSettings(timeout=2.0, max_attempts=4, backoff_base=0.01, backoff_max=0.05)


@pytest.fixture(scope="session")
def stream_emulator() -> Iterator[RunningEmulator]:
    """A running emulator; tests reset its state and faults before use."""
    emulator = start_in_background(api_key=API_KEY, api_secret=API_SECRET, webhook=FAST_WEBHOOKS)
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def emulator(stream_emulator: RunningEmulator) -> RunningEmulator:
    """The emulator over a fresh Stream state, delivering no webhooks."""
    stream_emulator.control.reset(StreamState())
    stream_emulator.control.webhook_url = None
    return stream_emulator


@pytest.fixture
def server(emulator: RunningEmulator) -> Iterator[StreamChat]:
    """The official SDK with the app's secret: ana, sam and cleo; ana and sam in 'visit'."""
    sdk = StreamChat(API_KEY, API_SECRET, base_url=emulator.base_url)
    sdk.upsert_users([{"id": uid, "name": uid.title()} for uid in ("ana", "sam", "cleo")])
    sdk.channel("messaging", "visit", {"members": ["ana", "sam"]}).create("ana")
    yield sdk
    sdk.session.close()


def adapter_config(emulator: RunningEmulator, **changes: Any) -> StreamConfig:
    """Settings for a StreamChatProvider talking to `emulator`."""
    config = StreamConfig(
        api_key=API_KEY,
        api_secret=API_SECRET,
        base_url=emulator.base_url,
        timeout=5.0,
        retry=FAST_RETRY,
    )
    return attrs.evolve(config, **changes)


def user_token(
    user_id: str,
    *,
    secret: str = API_SECRET,
    expires_in: timedelta = timedelta(hours=1),
    issued_ago: timedelta = timedelta(seconds=5),
) -> str:
    """A client token for `user_id`, as our token endpoint hands them out."""
    now = datetime.now(UTC)
    claims = {
        "user_id": user_id,
        "iat": int((now - issued_ago).timestamp()),
        "exp": int((now + expires_in).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


@attrs.frozen(kw_only=True)
class ReceivedWebhook:
    """One POST the receiver got: exact body bytes, headers (lower-cased names), our answer."""

    body: bytes
    headers: dict[str, str]
    answered: int


class WebhookReceiver:
    """A tiny HTTP server that records POSTs and answers with scripted statuses, then 200."""

    def __init__(self, statuses: Sequence[int] = ()) -> None:
        self._statuses = list(statuses)
        self._lock = threading.Lock()
        self.received: list[ReceivedWebhook] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with receiver._lock:
                    status = receiver._statuses.pop(0) if receiver._statuses else 200
                    receiver.received.append(
                        ReceivedWebhook(
                            body=body,
                            headers={k.lower(): v for k, v in self.headers.items()},
                            answered=status,
                        )
                    )
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A short poll interval keeps shutdown quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        """Where to send webhooks."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/webhook"

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedWebhook]:
        """The first `count` POSTs, waiting for them to arrive."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.005)
        with self._lock:
            raise AssertionError(f"expected {count} webhooks, got {len(self.received)}")


def as_user(emulator: RunningEmulator, user_id: str) -> StreamChat:
    """The official SDK acting as a user's client: the user's token, no secret needed."""
    sdk = StreamChat(API_KEY, API_SECRET, base_url=emulator.base_url)
    sdk.auth_token = user_token(user_id)
    return sdk


def post(emulator: RunningEmulator, user_id: str, text: str) -> str:
    sent = (
        as_user(emulator, user_id)
        .channel("messaging", "visit")
        .send_message({"text": text}, user_id)
    )
    return str(sent["message"]["id"])


# -- a connected client (the websocket `/connect`) ------------------------------------------


def ws_url(emulator: RunningEmulator, user_id: str, **overrides: str) -> str:
    query = {
        "json": json.dumps(
            {"user_id": user_id, "user_details": {"id": user_id}, "client_request_id": "r1"}
        ),
        "api_key": API_KEY,
        "authorization": user_token(user_id),
        "stream-auth-type": "jwt",
        **overrides,
    }
    return emulator.base_url.replace("http", "ws") + "/connect?" + urllib.parse.urlencode(query)


def frames(socket: ClientConnection, wanted: str, timeout: float = 5.0) -> dict[str, Any]:
    """The next frame of type `wanted` (earlier frames of other types are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no {wanted} frame within {timeout} s")
        frame: dict[str, Any] = json.loads(socket.recv(timeout=left))
        if frame.get("type") == wanted:
            return frame


def no_frame_of(socket: ClientConnection, unwanted: str, wait: float = 0.5) -> None:
    deadline = time.monotonic() + wait
    while (left := deadline - time.monotonic()) > 0:
        try:
            frame = json.loads(socket.recv(timeout=left))
        except TimeoutError:
            return
        assert frame.get("type") != unwanted, frame


@contextmanager
def connected(emulator: RunningEmulator, user_id: str) -> Iterator[tuple[ClientConnection, str]]:
    with ws_connect(ws_url(emulator, user_id)) as socket:
        hello = frames(socket, "health.check")
        yield socket, str(hello["connection_id"])


def watch(emulator: RunningEmulator, user_id: str, connection_id: str) -> dict[str, Any]:
    response = httpx.post(
        f"{emulator.base_url}/channels/messaging/visit/query",
        params={"api_key": API_KEY, "connection_id": connection_id},
        headers={"Authorization": user_token(user_id), "Stream-Auth-Type": "jwt"},
        json={"state": True, "watch": True, "presence": True},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body
