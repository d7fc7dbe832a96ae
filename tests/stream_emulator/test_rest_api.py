"""The Stream emulator, driven over HTTP by Stream's official SDK (sync and async) and raw calls.

Checks the REST subset the adapter uses, Stream's auth and error answers, the response
shapes of Stream's OpenAPI (see `stream_openapi`), webhooks and the fault switches.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from stream_chat import StreamChat
from stream_chat.async_chat.client import StreamChatAsync
from stream_chat.base.exceptions import StreamAPIException
from stream_chat.types.stream_response import StreamResponse

from stream_emulator import (
    RunningEmulator,
    WebhookSettings,
    sign,
    start_in_background,
)
from stream_emulator.state import payloads
from tests.stream_emulator.stream_openapi import OPERATIONS, problems
from tests.support.emulator import (
    API_KEY,
    API_SECRET,
    WebhookReceiver,
    user_token,
)
from tests.support.emulator import stream_emulator as stream_emulator  # the fixture
from yc_chat.adapters.fake_stream import StreamState

SERVER_TOKEN = jwt.encode({"server": True}, API_SECRET, algorithm="HS256")


@pytest.fixture
def client(emulator: RunningEmulator) -> Iterator[StreamChat]:
    sdk = StreamChat(API_KEY, API_SECRET, base_url=emulator.base_url)
    sdk.upsert_users([{"id": uid, "name": uid.title()} for uid in ("ana", "ben", "cleo", "system")])
    yield sdk
    sdk.session.close()


@pytest.fixture
def raw(emulator: RunningEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.base_url, params={"api_key": API_KEY}) as http:
        yield http


def server_headers(token: str = SERVER_TOKEN) -> dict[str, str]:
    return {"Authorization": token, "Stream-Auth-Type": "jwt"}


def assert_conforms(operation: str, response: StreamResponse) -> None:
    spec = OPERATIONS[operation]
    assert response.status_code() == spec.status, operation
    assert problems(spec.response, dict(response)) == []


def assert_stream_error(response: httpx.Response, status: int, code: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert problems("APIError", body) == []
    assert (body["StatusCode"], body["code"]) == (status, code), body
    return body


def sdk_error(exc: pytest.ExceptionInfo[StreamAPIException]) -> tuple[int, int]:
    return exc.value.status_code, exc.value.error_code


# -- the REST subset with the sync SDK ------------------------------------------------------


def test_channel_lifecycle_with_the_sync_sdk(client: StreamChat) -> None:
    channel = client.channel("messaging", "grp_1", {"members": ["ana", "ben"], "topic": "x"})

    created = channel.create("ana")
    assert_conforms("GetOrCreateChannel", created)
    assert created["channel"]["topic"] == "x"
    assert created["channel"]["created_by"]["id"] == "ana"
    assert [m["user_id"] for m in created["members"]] == ["ana", "ben"]

    sent = channel.send_message({"text": "hello"}, "ben")
    assert_conforms("SendMessage", sent)
    assert sent["message"]["user"]["id"] == "ben"

    updated = channel.update({"topic": "y"}, {"text": "Topic changed", "user_id": "system"})
    assert_conforms("UpdateChannel", updated)
    assert updated["channel"]["topic"] == "y"
    assert updated["message"]["type"] == "system"

    partial = channel.update_partial({"frozen": True, "color": "red"}, ["topic"])
    assert_conforms("UpdateChannelPartial", partial)
    assert partial["channel"]["frozen"] is True
    assert "topic" not in partial["channel"]

    added = channel.add_members(["cleo"], {"text": "Cleo joined", "user_id": "system"})
    assert_conforms("UpdateChannel", added)
    assert [m["user_id"] for m in added["members"]] == ["ana", "ben", "cleo"]
    removed = channel.remove_members(["ben"])
    assert [m["user_id"] for m in removed["members"]] == ["ana", "cleo"]

    members = client.get(
        "members", params={"payload": json.dumps({"type": "messaging", "id": "grp_1"})}
    )
    assert_conforms("QueryMembers", members)

    deleted = channel.delete(hard=True)
    assert_conforms("DeleteChannel", deleted)
    assert deleted["channel"]["deleted_at"]
    assert client.query_channels({"id": "grp_1"})["channels"] == []


def test_the_emulator_answers_with_the_simulations_channel_json(
    emulator: RunningEmulator, client: StreamChat
) -> None:
    # One writer of channel JSON: what the emulator serves is what the simulation (and so
    # the fake provider) produces for the same channel.
    channel = client.channel("messaging", "grp_json", {"members": ["ana", "ben"], "topic": "x"})
    channel.create("ana")
    channel.send_message({"text": "hello"}, "ben")
    state = emulator.control.state
    stored = state.channel("messaging", "grp_json")
    assert stored is not None

    fetched = dict(channel.query())
    queried = dict(client.query_channels({"id": "grp_json"}))
    partial = dict(channel.update_partial({"color": "red"}))

    fetched.pop("duration")
    assert fetched == state.channel_state(stored)
    assert queried["channels"] == [state.channel_state(stored)]
    updated = state.channel("messaging", "grp_json")
    assert updated is not None
    partial.pop("duration")
    assert partial == payloads.channel_with_members(updated, state.user)


def test_query_channels_filters_sorts_and_pages(client: StreamChat) -> None:
    for n in range(5):
        kind = "even" if n % 2 == 0 else "odd"
        client.channel("messaging", f"c{n}", {"members": ["ana"], "kind": kind}).create("ana")
    client.channel("messaging", "c1").send_message({"text": "bump"}, "ana")

    newest = client.query_channels(
        {"members": {"$in": ["ana"]}}, [{"field": "last_message_at", "direction": -1}], limit=2
    )
    assert_conforms("QueryChannels", newest)
    assert [c["channel"]["id"] for c in newest["channels"]] == ["c1", "c4"]

    page = client.query_channels(
        {"kind": "even"}, [{"created_at": 1}], limit=2, offset=1, message_limit=0
    )
    assert [c["channel"]["id"] for c in page["channels"]] == ["c2", "c4"]

    with pytest.raises(StreamAPIException) as too_many:
        client.query_channels({}, limit=31)
    assert sdk_error(too_many) == (400, 4)
    with pytest.raises(StreamAPIException) as unknown_operator:
        client.query_channels({"name": {"$autocomplete": "c"}})
    assert sdk_error(unknown_operator) == (400, 4)


def test_users_and_app_settings(client: StreamChat) -> None:
    upserted = client.upsert_users([{"id": "dan", "name": "Dan", "image": "https://i/x.png"}])
    assert_conforms("UpdateUsers", upserted)
    assert upserted["users"]["dan"]["name"] == "Dan"

    partial = client.update_user_partial({"id": "dan", "set": {"name": "Daniel"}})
    assert_conforms("UpdateUsersPartial", partial)
    assert partial["users"]["dan"]["name"] == "Daniel"

    found = client.query_users({"id": {"$in": ["dan", "ana", "nobody"]}})
    assert_conforms("QueryUsers", found)
    assert sorted(u["id"] for u in found["users"]) == ["ana", "dan"]

    assert_conforms("GetApp", client.get_app_settings())
    assert_conforms("UpdateApp", client.update_app_settings(webhook_url="https://example.test/h"))
    assert client.get_app_settings()["app"]["webhook_url"] == "https://example.test/h"
    with pytest.raises(StreamAPIException) as unsupported:
        client.update_app_settings(enforce_unique_usernames="app")
    assert sdk_error(unsupported) == (400, 4)


async def test_the_async_sdk_works_against_the_emulator(
    emulator: RunningEmulator, client: StreamChat
) -> None:
    async with StreamChatAsync(API_KEY, API_SECRET, base_url=emulator.base_url) as sdk:
        channel = sdk.channel("messaging", "dm_1", {"members": ["ana", "ben"]})
        created = await channel.create("ana")
        assert_conforms("GetOrCreateChannel", created)
        await channel.send_message({"text": "hi"}, "ana")
        listed = await sdk.query_channels({"members": {"$in": ["ben"]}}, message_limit=1)
        assert [c["messages"][0]["text"] for c in listed["channels"]] == ["hi"]
        with pytest.raises(StreamAPIException) as missing:
            await sdk.channel("messaging", "dm_missing").update({"x": 1})
        assert (missing.value.status_code, missing.value.error_code) == (404, 16)


def test_openapi_shaped_requests_are_understood(raw: httpx.Client, client: StreamChat) -> None:
    # Newer clients nest custom data under `custom` and send member objects with roles.
    body = {
        "data": {
            "created_by_id": "ana",
            "custom": {"topic": "nested"},
            "members": [
                {"user_id": "ana", "channel_role": "channel_moderator"},
                {"user_id": "ben"},
            ],
        }
    }
    response = raw.post("/channels/messaging/grp_2/query", json=body, headers=server_headers())

    assert response.status_code == 201
    state = response.json()
    assert problems("ChannelStateResponse", state) == []
    assert state["channel"]["topic"] == "nested"
    assert [m["channel_role"] for m in state["members"]] == ["channel_moderator", "channel_member"]
    assert response.headers["X-Ratelimit-Limit"]
    # In lower case on the wire, as Stream's: the async SDK reads them from a plain dict.
    names = [name for name, _ in response.headers.raw]
    assert {b"x-ratelimit-limit", b"x-ratelimit-remaining", b"x-ratelimit-reset"} <= set(names)


# -- Stream's input errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    "channel_id", ["x" * 65, "Upper", "has space", "bang!", "dot.ted", "ümlaut"]
)
def test_channel_ids_are_checked(client: StreamChat, channel_id: str) -> None:
    with pytest.raises(StreamAPIException) as caught:
        client.channel("messaging", channel_id, {"members": ["ana"]}).create("ana")

    assert sdk_error(caught) == (400, 4)
    assert "GetOrCreateChannel failed" in caught.value.error_message


def test_a_64_character_id_is_fine(client: StreamChat) -> None:
    created = client.channel("messaging", "x" * 64, {"members": ["ana"]}).create("ana")

    assert created["channel"]["id"] == "x" * 64


def test_members_must_have_been_upserted(client: StreamChat) -> None:
    with pytest.raises(StreamAPIException) as caught:
        client.channel("messaging", "grp_1", {"members": ["ana", "ghost", "phantom"]}).create("ana")

    assert sdk_error(caught) == (400, 4)
    assert "[ghost phantom]" in caught.value.error_message
    assert client.query_channels({"id": "grp_1"})["channels"] == []
    client.channel("messaging", "grp_2", {"members": ["ana"]}).create("ana")
    with pytest.raises(StreamAPIException) as adding:
        client.channel("messaging", "grp_2").add_members(["ghost"])
    assert sdk_error(adding) == (400, 4)


def test_creating_needs_a_creator_server_side(raw: httpx.Client) -> None:
    response = raw.post(
        "/channels/messaging/grp_1/query", json={"data": {}}, headers=server_headers()
    )

    body = assert_stream_error(response, 400, 4)
    assert "created_by" in body["message"]


def test_frozen_channels_refuse_messages(emulator: RunningEmulator, client: StreamChat) -> None:
    channel = client.channel("messaging", "apt_1", {"members": ["ana", "ben"], "frozen": True})
    channel.create("ana")

    with pytest.raises(StreamAPIException) as server_side:
        channel.send_message({"text": "no"}, "ben")
    user_sdk = StreamChat(API_KEY, API_SECRET, base_url=emulator.base_url)
    user_sdk.auth_token = user_token("ben")
    with pytest.raises(StreamAPIException) as client_side:
        user_sdk.channel("messaging", "apt_1").send_message({"text": "no"}, "ben")

    assert sdk_error(server_side) == (403, 17)
    assert sdk_error(client_side) == (403, 17)
    # Server-side updates still post their notice into a frozen channel.
    channel.update({"frozen": True}, {"text": "Closed", "user_id": "system"})


def test_malformed_requests_get_streams_error_shape(raw: httpx.Client) -> None:
    bad_json = raw.post(
        "/channels", content=b"{not json", headers={**server_headers(), "Content-Type": "x"}
    )
    unknown_path = raw.get("/no/such/endpoint", headers=server_headers())
    wrong_type = raw.post("/channels", json={"limit": "10"}, headers=server_headers())

    assert_stream_error(bad_json, 400, 4)
    assert_stream_error(unknown_path, 404, 16)
    assert_stream_error(wrong_type, 400, 4)


def test_server_side_watch_is_refused(client: StreamChat) -> None:
    with pytest.raises(StreamAPIException) as caught:
        client.query_channels({}, watch=True)

    assert sdk_error(caught) == (400, 4)


# -- authentication -------------------------------------------------------------------------


def test_wrong_api_key_is_refused(emulator: RunningEmulator) -> None:
    sdk = StreamChat("not-the-key", API_SECRET, base_url=emulator.base_url)

    with pytest.raises(StreamAPIException) as caught:
        sdk.get_app_settings()

    assert sdk_error(caught) == (401, 2)


def test_forged_server_token_is_refused(emulator: RunningEmulator) -> None:
    # The right key, but a token signed with a guessed secret.
    sdk = StreamChat(API_KEY, "a-guessed-secret-that-is-long-enough", base_url=emulator.base_url)

    with pytest.raises(StreamAPIException) as caught:
        sdk.upsert_users([{"id": "mallory", "role": "admin"}])

    assert sdk_error(caught) == (401, 43)


def test_expired_user_token_is_refused(emulator: RunningEmulator, client: StreamChat) -> None:
    client.channel("messaging", "dm_1", {"members": ["ana", "ben"]}).create("ana")
    sdk = StreamChat(API_KEY, API_SECRET, base_url=emulator.base_url)
    sdk.auth_token = user_token("ben", expires_in=timedelta(seconds=-1))

    with pytest.raises(StreamAPIException) as caught:
        sdk.channel("messaging", "dm_1").send_message({"text": "late"}, "ben")

    assert sdk_error(caught) == (401, 40)


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"Stream-Auth-Type": "jwt"}, 5),
        ({"Authorization": SERVER_TOKEN}, 5),
        ({"Authorization": SERVER_TOKEN, "Stream-Auth-Type": "anonymous"}, 5),
        ({"Authorization": "not.a.jwt", "Stream-Auth-Type": "jwt"}, 5),
        (server_headers(jwt.encode({"server": True}, key="", algorithm="none")), 43),
        (server_headers(jwt.encode({"server": True}, API_SECRET + "x", algorithm="HS256")), 43),
        (server_headers(jwt.encode({"user_id": "ben", "iat": 4102444800}, API_SECRET)), 42),
        (server_headers(jwt.encode({"user_id": "ben", "nbf": 4102444800}, API_SECRET)), 41),
        (server_headers(jwt.encode({"role": "admin"}, API_SECRET)), 5),
    ],
)
def test_bad_credentials_get_streams_auth_codes(
    raw: httpx.Client, headers: dict[str, str], code: int
) -> None:
    assert_stream_error(raw.get("/app", headers=headers), 401, code)


def test_missing_api_key_is_refused(emulator: RunningEmulator) -> None:
    response = httpx.get(f"{emulator.base_url}/app", headers=server_headers())

    assert_stream_error(response, 401, 2)


def test_user_tokens_are_permission_checked(emulator: RunningEmulator, client: StreamChat) -> None:
    client.channel("messaging", "dm_1", {"members": ["ana", "ben"]}).create("ana")
    client.channel("messaging", "dm_2", {"members": ["ana", "cleo"]}).create("ana")
    ben = StreamChat(API_KEY, API_SECRET, base_url=emulator.base_url)
    ben.auth_token = user_token("ben", issued_ago=timedelta(0))

    sent = ben.channel("messaging", "dm_1").send_message({"text": "mine"}, "ben")
    mine = ben.query_channels({})
    with pytest.raises(StreamAPIException) as not_member:
        ben.channel("messaging", "dm_2").send_message({"text": "intrude"}, "ben")
    with pytest.raises(StreamAPIException) as impersonating:
        ben.channel("messaging", "dm_1").send_message({"text": "as ana"}, "ana")
    with pytest.raises(StreamAPIException) as server_only:
        ben.upsert_users([{"id": "ben", "role": "admin"}])
    with pytest.raises(StreamAPIException) as reading_other:
        ben.channel("messaging", "dm_2").query()

    assert sent["message"]["user"]["id"] == "ben"
    assert [c["channel"]["id"] for c in mine["channels"]] == ["dm_1"]
    assert sdk_error(not_member) == (403, 17)
    assert "CreateMessage" in not_member.value.error_message
    assert sdk_error(impersonating) == (403, 17)
    assert sdk_error(server_only) == (403, 17)
    assert sdk_error(reading_other) == (403, 17)


def test_channel_grant_modifiers_make_read_only_channels(
    emulator: RunningEmulator, client: StreamChat
) -> None:
    data = {
        "members": [{"user_id": "ana", "channel_role": "channel_moderator"}, "ben", "cleo"],
        "config_overrides": {"grants": {"channel_member": ["!create-message"]}},
    }
    created = client.channel("messaging", "grp_news", data).create("ana")

    def post_as(user_id: str) -> None:
        sdk = StreamChat(API_KEY, API_SECRET, base_url=emulator.base_url)
        sdk.auth_token = user_token(user_id)
        sdk.channel("messaging", "grp_news").send_message({"text": f"from {user_id}"}, user_id)

    post_as("ana")
    with pytest.raises(StreamAPIException) as member:
        post_as("ben")
    client.channel("messaging", "grp_news").update_partial(to_unset=["config_overrides"])
    post_as("ben")

    assert created["channel"]["config"]["grants"] == {"channel_member": ["!create-message"]}
    assert sdk_error(member) == (403, 17)
    with pytest.raises(StreamAPIException) as bad_override:
        client.channel("messaging", "grp_bad", {"config_overrides": {"nonsense": 1}}).create("ana")
    assert sdk_error(bad_override) == (400, 4)


# -- webhooks ------------------------------------------------------------------------------


def test_webhooks_are_signed_over_the_exact_body(
    emulator: RunningEmulator, client: StreamChat
) -> None:
    client.channel("messaging", "dm_1", {"members": ["ana", "ben"]}).create("ana")
    with WebhookReceiver() as receiver:
        emulator.control.webhook_url = receiver.url
        client.channel("messaging", "dm_1").send_message({"text": "ping"}, "ben")
        client.upsert_users([{"id": "ben", "name": "Benjamin"}])
        client.channel("messaging", "dm_1").delete()
        hooks = receiver.wait_for(3)

    types = [json.loads(hook.body)["type"] for hook in hooks]
    assert types == ["message.new", "user.updated", "channel.deleted"]
    for hook in hooks:
        expected = hmac.new(API_SECRET.encode(), hook.body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(hook.headers["x-signature"], expected)
        assert hook.headers["x-signature"] == sign(hook.body, API_SECRET)
        assert hook.headers["x-api-key"] == API_KEY
        assert hook.headers["x-webhook-attempt"] == "1"
        assert client.verify_and_parse_webhook(hook.body, hook.headers["x-signature"])
    assert len({hook.headers["x-webhook-id"] for hook in hooks}) == 3
    message = json.loads(hooks[0].body)
    assert (message["cid"], message["message"]["text"]) == ("messaging:dm_1", "ping")
    assert message["user"]["id"] == "ben"


def test_event_listeners_of_the_emulator_outlive_a_reset(
    emulator: RunningEmulator, client: StreamChat
) -> None:
    received: list[dict[str, Any]] = []
    unsubscribe = emulator.control.events.subscribe(received.append)
    try:
        client.upsert_users([{"id": "ana", "name": "Ana Again"}])
        emulator.control.reset(StreamState())
        client.upsert_users([{"id": "ben"}])
        client.upsert_users([{"id": "ben", "name": "Ben Again"}])
    finally:
        unsubscribe()
    client.upsert_users([{"id": "ben", "name": "Unheard"}])

    assert [(event["type"], event["user"]["name"]) for event in received] == [
        ("user.updated", "Ana Again"),
        ("user.updated", "Ben Again"),
    ]


def test_webhooks_are_retried_with_the_same_id(
    emulator: RunningEmulator, client: StreamChat
) -> None:
    client.channel("messaging", "dm_1", {"members": ["ana", "ben"]}).create("ana")
    with WebhookReceiver(statuses=[500, 503]) as receiver:
        emulator.control.webhook_url = receiver.url
        client.channel("messaging", "dm_1").send_message({"text": "ping"}, "ben")
        hooks = receiver.wait_for(3)

    assert [hook.answered for hook in hooks] == [500, 503, 200]
    assert [hook.headers["x-webhook-attempt"] for hook in hooks] == ["1", "2", "3"]
    assert len({hook.headers["x-webhook-id"] for hook in hooks}) == 1
    assert len({hook.body for hook in hooks}) == 1


def test_webhook_retries_are_bounded_and_client_errors_final() -> None:
    settings = WebhookSettings(timeout=1.0, max_attempts=2, backoff_base=0.01, backoff_max=0.01)
    state = StreamState()
    state.upsert_users([{"id": "ana"}])
    with (
        WebhookReceiver(statuses=[503, 503, 400]) as receiver,
        start_in_background(
            state,
            api_key=API_KEY,
            api_secret=API_SECRET,
            webhook_url=receiver.url,
            webhook=settings,
        ) as running,
    ):
        state.get_or_create_channel("messaging", "c1", created_by_id="ana", members=["ana"])
        state.send_message("messaging", "c1", text="one", user_id="ana")
        state.send_message("messaging", "c1", text="two", user_id="ana")
        hooks = receiver.wait_for(3)
        stats = running.control.webhook_stats

    assert [hook.answered for hook in hooks] == [503, 503, 400]
    first, second = (json.loads(hook.body)["message"]["text"] for hook in hooks[1:])
    assert (first, second) == ("one", "two")
    assert (stats.delivered, stats.failed, stats.attempts) == (0, 2, 3)


# -- fault switches and lifecycle -------------------------------------------------------------


def test_fault_switches_over_http(emulator: RunningEmulator, raw: httpx.Client) -> None:
    switched = raw.post(
        "/_emulator/faults", json={"fail_status": 503, "fail_count": 2}, headers=server_headers()
    )
    failures = [raw.get("/app", headers=server_headers()) for _ in range(2)]
    recovered = raw.get("/app", headers=server_headers())
    as_user = raw.post(
        "/_emulator/faults",
        json={"fail_status": 500},
        headers=server_headers(user_token("ben")),
    )

    assert switched.status_code == 200
    for failure in failures:
        assert_stream_error(failure, 503, -1)
    assert recovered.status_code == 200
    assert_stream_error(as_user, 403, 17)
    assert emulator.control.faults.fail_status is None


def test_rate_limited_answers_say_when_to_come_back(
    emulator: RunningEmulator, raw: httpx.Client
) -> None:
    emulator.control.fail(429, count=1)

    limited = raw.get("/app", headers=server_headers())

    assert_stream_error(limited, 429, 9)
    assert limited.headers["x-ratelimit-remaining"] == "0"
    assert int(limited.headers["x-ratelimit-reset"]) > 0


def test_emulator_starts_and_stops_cleanly() -> None:
    running = start_in_background(api_key=API_KEY, api_secret=API_SECRET)
    url = running.base_url

    assert httpx.get(f"{url}/app", params={"api_key": API_KEY}, headers=server_headers()).is_success
    assert "secret" not in repr(running.control).lower()
    running.stop()
    running.stop()

    assert not running.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/app")
