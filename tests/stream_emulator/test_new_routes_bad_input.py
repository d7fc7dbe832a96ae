"""Hostile input to the routes added for Stream's SDK suite (batch updates, invitations and
roles on UpdateChannel, pending messages, message history, event hooks, filter tags, roles
and permissions): every wrong shape is a 4xx in Stream's error shape, never a 5xx."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import jwt
import pytest
from stream_chat import StreamChat

from stream_emulator import RunningEmulator
from tests.support.emulator import API_KEY, API_SECRET
from tests.support.emulator import stream_emulator as stream_emulator  # the fixture

HOSTILE: list[Any] = [None, -1, "", True, {}, [1], [{}], {"$in": 1}]
ROUTES: list[tuple[str, str, list[str]]] = [
    ("PUT", "/channels/batch", ["operation", "filter", "members", "data"]),
    (
        "POST",
        "/channels/messaging/visit",
        [
            "invites",
            "accept_invite",
            "reject_invite",
            "add_moderators",
            "demote_moderators",
            "assign_roles",
            "add_filter_tags",
            "remove_filter_tags",
            "user_id",
        ],
    ),
    ("POST", "/channels/messaging/visit/message", ["pending", "pending_message_metadata"]),
    ("POST", "/messages/history", ["filter", "sort", "limit", "next", "prev"]),
    ("PATCH", "/app", ["event_hooks", "webhook_url"]),
    ("POST", "/roles", ["name"]),
    ("POST", "/permissions", ["id", "name", "action", "condition", "owner"]),
    ("PUT", "/permissions/some-id", ["name", "action", "condition"]),
    ("POST", "/channels/messaging/fresh/query", ["data"]),
]


def _server_token() -> str:
    return jwt.encode({"server": True}, API_SECRET, algorithm="HS256")


def _client(emulator: RunningEmulator) -> httpx.Client:
    return httpx.Client(
        base_url=emulator.base_url,
        params={"api_key": API_KEY},
        headers={"Authorization": _server_token(), "Stream-Auth-Type": "jwt"},
        timeout=10,
    )


def _bodies(fields: list[str]) -> list[object]:
    bodies: list[object] = [[], "x", 7]
    for field, value in itertools.product(fields, HOSTILE):
        bodies.append({field: value})
        if field == "data":
            bodies.append({field: {"invites": value, "filter_tags": value, "members": value}})
    # A well-formed core with one hostile member or tag.
    bodies.append({"operation": "addMembers", "filter": {"cids": "a:b"}, "members": [{}]})
    bodies.append({"invites": [{"user_id": 5}]})
    bodies.append({"event_hooks": [{"webhook_url": "https://e.x", "event_types": [None]}]})
    bodies.append({"filter": {"message_id": "m", "message_updated_at": {"$gt": 5}}})
    bodies.append({"id": "p", "name": "n", "action": "DeleteChannel", "condition": {"$x": 1}})
    return bodies


@pytest.mark.parametrize(("method", "path", "fields"), ROUTES)
def test_hostile_bodies_are_4xx_in_streams_shape(
    emulator: RunningEmulator, server: StreamChat, method: str, path: str, fields: list[str]
) -> None:
    with _client(emulator) as client:
        answers = [(body, client.request(method, path, json=body)) for body in _bodies(fields)]
    for body, answer in answers:
        if answer.is_success:
            continue  # some hostile values are harmless no-ops (e.g. reject_invite: false)
        assert 400 <= answer.status_code < 500, (method, path, body, answer.text)
        error = answer.json()
        assert isinstance(error["code"], int) and error["message"], (body, error)
        assert error["StatusCode"] == answer.status_code
