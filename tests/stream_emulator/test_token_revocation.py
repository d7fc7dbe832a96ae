"""Revoking a user's tokens by issued-at, as Stream does it (`revoke_user_token`, the
`revoke_tokens_issued_before` user field): driven with the official Python SDK as the
server and as the user, and with the `websockets` client for sockets.

A token whose `iat` is before the user's cut-off (or that has no `iat`) is refused on REST
with code 40 (the SDKs then fetch a new token) and on `/connect`; sockets opened with such
a token are closed when the cut-off is set. Newer tokens keep working.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from stream_chat import StreamChat
from stream_chat.base.exceptions import StreamAPIException
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from stream_emulator import RunningEmulator
from tests.support.emulator import API_KEY, API_SECRET, frames, user_token, ws_url

TOKEN_EXPIRED = 40


def _as(emulator: RunningEmulator, token: str) -> StreamChat:
    sdk = StreamChat(API_KEY, API_SECRET, base_url=emulator.base_url)
    sdk.auth_token = token
    return sdk


def _refused(emulator: RunningEmulator, token: str) -> StreamAPIException:
    with pytest.raises(StreamAPIException) as refused:
        _as(emulator, token).query_channels({"members": {"$in": ["sam"]}})
    return refused.value


def _drain_until_closed(socket: ClientConnection) -> None:
    """Read frames until the server closes the socket (raises ConnectionClosed)."""
    for _ in range(50):
        socket.recv(timeout=5)


def test_tokens_issued_before_the_cut_off_are_refused_and_newer_ones_work(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    old = user_token("sam", issued_ago=timedelta(minutes=10))
    assert _as(emulator, old).query_channels({"members": {"$in": ["sam"]}})["channels"]

    server.revoke_user_token("sam", datetime.now(UTC) - timedelta(minutes=5))

    refusal = _refused(emulator, old)
    assert refusal.status_code == 401 and refusal.error_code == TOKEN_EXPIRED
    assert "revoked" in refusal.error_message
    newer = user_token("sam", issued_ago=timedelta(minutes=1))
    assert _as(emulator, newer).query_channels({"members": {"$in": ["sam"]}})["channels"]
    # Only sam's tokens: ana's token of the same age still works.
    ana = user_token("ana", issued_ago=timedelta(minutes=10))
    assert _as(emulator, ana).query_channels({"members": {"$in": ["ana"]}})["channels"]
    # The cut-off is part of the user, as Stream shows it.
    [sam] = server.query_users({"id": "sam"})["users"]
    assert sam["revoke_tokens_issued_before"]


def test_a_token_without_iat_is_refused_once_tokens_are_revoked(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    exp = int((datetime.now(UTC) + timedelta(hours=1)).timestamp())
    no_iat = jwt.encode({"user_id": "sam", "exp": exp}, API_SECRET, algorithm="HS256")
    assert _as(emulator, no_iat).query_channels({"members": {"$in": ["sam"]}})["channels"]
    server.revoke_user_token("sam", datetime.now(UTC))
    assert _refused(emulator, no_iat).error_code == TOKEN_EXPIRED


def test_undoing_the_revocation_lets_old_tokens_in_again(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    old = user_token("sam", issued_ago=timedelta(minutes=10))
    server.revoke_user_token("sam", datetime.now(UTC))
    assert _refused(emulator, old).error_code == TOKEN_EXPIRED
    # Stream's documented undo: set the field to null.
    server.update_users_partial([{"id": "sam", "set": {"revoke_tokens_issued_before": None}}])
    assert _as(emulator, old).query_channels({"members": {"$in": ["sam"]}})["channels"]


def test_a_cut_off_that_is_not_a_time_is_a_400(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    with pytest.raises(StreamAPIException) as refused:
        server.update_users_partial([{"id": "sam", "set": {"revoke_tokens_issued_before": 5}}])
    assert refused.value.status_code == 400


def test_a_socket_of_a_revoked_token_is_closed_and_cannot_reconnect(
    emulator: RunningEmulator, server: StreamChat
) -> None:
    with ws_connect(ws_url(emulator, "sam")) as sam, ws_connect(ws_url(emulator, "ana")) as ana:
        frames(sam, "health.check")
        frames(ana, "health.check")
        server.revoke_user_token("sam", datetime.now(UTC) - timedelta(seconds=2))
        with pytest.raises(ConnectionClosed):
            _drain_until_closed(sam)
        # ana's socket stays open: it still answers a heartbeat.
        ana.send(json.dumps({"type": "health.check"}))
        assert frames(ana, "health.check")["type"] == "health.check"
    with ws_connect(ws_url(emulator, "sam")) as again:
        answer = json.loads(again.recv(timeout=5))
        assert answer["error"]["code"] == TOKEN_EXPIRED
    # A token issued after the cut-off connects.
    fresh = user_token("sam", issued_ago=timedelta(seconds=1))
    with ws_connect(ws_url(emulator, "sam", authorization=fresh)) as renewed:
        assert frames(renewed, "health.check")["type"] == "health.check"


def test_an_upsert_keeps_the_revocation(emulator: RunningEmulator, server: StreamChat) -> None:
    """Stream's UpdateUsers request has no such field: a profile upsert (as yc-chat's token
    endpoint makes) cannot bring revoked tokens back."""
    old = user_token("sam", issued_ago=timedelta(minutes=10))
    server.revoke_user_token("sam", datetime.now(UTC))
    server.upsert_user({"id": "sam", "name": "Sam Lee"})
    assert _refused(emulator, old).error_code == TOKEN_EXPIRED
