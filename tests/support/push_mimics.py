"""Local stand-ins for the push providers' HTTP APIs, on 127.0.0.1: Google's OAuth token
endpoint and FCM HTTP v1, and Expo's push API. Tokens steer the answers:

- FCM: `dead-*` is 404 UNREGISTERED, `bad-*` is 400 INVALID_ARGUMENT, others succeed.
  A message FCM would refuse is 400 INVALID_ARGUMENT too: an `apns-collapse-id` over
  APNs' 64 bytes, or an `android.collapse_key` or notification `tag` that is not a string.
- Expo: `ExponentPushToken[dead*]` gets a DeviceNotRegistered ticket,
  `ExponentPushToken[busy*]` MessageRateExceeded; `expo_down = True` answers 503; a request
  whose `collapseId` or `tag` is not a string is 400 (Expo validates its fields).
- `before_expo_reply`, when set, is called with each Expo request's messages after they are
  recorded and before the answer goes out: the crash tests kill the sender right there,
  with the send in flight.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

ACCESS_TOKEN = "mimic-access-token"
PROJECT = "yc-test"


class Mimic:
    """What the mimic received, and switches for its answers."""

    def __init__(self) -> None:
        self.token_requests: list[dict[str, list[str]]] = []
        self.fcm_messages: list[dict[str, Any]] = []
        self.fcm_auth: list[str | None] = []
        self.expo_requests: list[list[dict[str, Any]]] = []
        self.expo_auth: list[str | None] = []
        self.expo_down = False
        self.before_expo_reply: Callable[[list[dict[str, Any]]], None] | None = None
        self.base_url = ""


def _handler(mimic: Mimic) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return None

        def _reply(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the sender died meanwhile (a crash test)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path == "/token":
                mimic.token_requests.append(parse_qs(raw.decode()))
                self._reply(
                    200, {"access_token": ACCESS_TOKEN, "expires_in": 3600, "token_type": "Bearer"}
                )
            elif self.path == f"/v1/projects/{PROJECT}/messages:send":
                mimic.fcm_auth.append(self.headers.get("Authorization"))
                message = json.loads(raw)["message"]
                mimic.fcm_messages.append(message)
                if not _fcm_acceptable(message):
                    self._reply(400, _fcm_error(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT"))
                else:
                    self._fcm(message["token"])
            elif self.path == "/--/api/v2/push/send":
                mimic.expo_auth.append(self.headers.get("Authorization"))
                messages = json.loads(raw)
                mimic.expo_requests.append(messages)
                if mimic.before_expo_reply is not None:
                    mimic.before_expo_reply(messages)
                if not all(_expo_acceptable(m) for m in messages):
                    self._reply(400, {"errors": [{"code": "VALIDATION_ERROR"}]})
                elif mimic.expo_down:
                    self._reply(503, {"errors": [{"code": "INTERNAL_SERVER_ERROR"}]})
                else:
                    self._reply(200, {"data": [_ticket(m["to"]) for m in messages]})
            else:
                self._reply(404, {"error": "no such endpoint"})

        def _fcm(self, token: str) -> None:
            if token.startswith("dead-"):
                self._reply(404, _fcm_error(404, "NOT_FOUND", "UNREGISTERED"))
            elif token.startswith("bad-"):
                self._reply(400, _fcm_error(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT"))
            else:
                self._reply(200, {"name": f"projects/{PROJECT}/messages/{len(mimic.fcm_messages)}"})

    return Handler


def _fcm_acceptable(message: dict[str, Any]) -> bool:
    """What FCM HTTP v1 checks of the collapsing fields: strings, and APNs' 64-byte limit."""
    android = message.get("android", {})
    if not isinstance(android.get("collapse_key", ""), str):
        return False
    if not isinstance(android.get("notification", {}).get("tag", ""), str):
        return False
    collapse_id = message.get("apns", {}).get("headers", {}).get("apns-collapse-id", "")
    return isinstance(collapse_id, str) and len(collapse_id.encode()) <= 64


def _expo_acceptable(message: dict[str, Any]) -> bool:
    return all(isinstance(message.get(field, ""), str) for field in ("collapseId", "tag"))


def _fcm_error(code: int, status: str, fcm_code: str) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": "Requested entity was not found." if code == 404 else "Invalid token",
            "status": status,
            "details": [
                {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                 "errorCode": fcm_code}
            ],
        }
    }  # fmt: skip


def _ticket(token: str) -> dict[str, Any]:
    if token.startswith("ExponentPushToken[dead"):
        return {
            "status": "error",
            "message": f'"{token}" is not a registered push notification recipient',
            "details": {"error": "DeviceNotRegistered"},
        }
    if token.startswith("ExponentPushToken[busy"):
        return {
            "status": "error",
            "message": "slow down",
            "details": {"error": "MessageRateExceeded"},
        }
    return {"status": "ok", "id": "ticket-" + token[-6:]}


@contextmanager
def running_mimic() -> Iterator[Mimic]:
    """The mimic, serving on a free port of 127.0.0.1 until the block ends."""
    mimic = Mimic()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(mimic))
    mimic.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="push-mimic", daemon=True)
    thread.start()
    try:
        yield mimic
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
