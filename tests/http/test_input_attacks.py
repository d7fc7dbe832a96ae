"""Issue 13, findings on inputs: each test replays the attack and shows it now fails."""

from __future__ import annotations

import pytest

from tests.support.world import World, assert_error, bearer
from yc_chat.domain.model import UserId


async def test_token_response_is_never_cached(world: World) -> None:
    response = await world.post("/api/chat/token", "vet-1", {"userId": "vet-1"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("query", ["¨¨", "´´", "  ¸ ¸ ", "a\u0308"])
async def test_a_query_folding_to_under_two_characters_is_400(world: World, query: str) -> None:
    """`¨¨` folded to nothing and matched every member of the org."""
    before = await world.snapshot()
    response = await world.get("/api/orgs/org-1/search", "vet-1", params={"query": query})
    body = assert_error(response, 400, "invalid_input")
    assert any(d["field"] == "query" for d in body["details"])
    assert await world.snapshot() == before


async def test_a_two_letter_query_still_matches(world: World) -> None:
    response = await world.get("/api/orgs/org-1/search", "vet-1", params={"query": "Pr"})
    assert [r["id"] for r in response.json()["results"]] == ["nurse-1"]


@pytest.mark.parametrize(
    "name",
    [
        "\u200b\u200b\u200b",  # only zero-width spaces
        "\u2060\ufeff",  # word joiner, BOM
        "Staff \u202egnp.exe",  # right-to-left override
        "Rota \u2066hidden\u2069",  # bidi isolate
        "Line\nbreak",
        "Bell\x07",
        "Del\x7f",
        "Sep\u2028arated",
        "\u0301\u0301",  # combining marks alone show nothing
    ],
)
async def test_group_names_that_hide_or_reorder_text_are_400(world: World, name: str) -> None:
    before = await world.snapshot()
    response = await world.post(
        "/api/chat/channels/group",
        "vet-1",
        {"orgId": "org-1", "name": name, "memberIds": ["vet-2"], "createdBy": "vet-1"},
    )
    body = assert_error(response, 400, "invalid_input")
    assert [d["field"] for d in body["details"]] == ["name"]
    assert await world.snapshot() == before


@pytest.mark.parametrize("name", ["Night shift 🌙", "Équipe Nuñez", "日本語チーム", "  ok  "])
async def test_ordinary_group_names_are_accepted(world: World, name: str) -> None:
    response = await world.post(
        "/api/chat/channels/group",
        "vet-1",
        {"orgId": "org-1", "name": name, "memberIds": ["vet-2"], "createdBy": "vet-1"},
    )
    assert response.status_code == 200, response.text


async def _group(world: World) -> str:
    response = await world.post(
        "/api/chat/channels/group",
        "vet-1",
        {"orgId": "org-1", "name": "Rota", "memberIds": ["vet-2", "nurse-1"], "createdBy": "vet-1"},
    )
    assert response.status_code == 200
    channel_id: str = response.json()["channelId"]
    return channel_id


async def test_a_non_creator_member_can_leave_a_group(world: World) -> None:
    group = await _group(world)
    response = await world.post(
        f"/api/chat/channels/group/{group}/members",
        "nurse-1",
        {"remove": ["nurse-1"], "addedBy": "nurse-1"},
    )
    assert response.status_code == 200, response.text
    channel = world.state.channel("messaging", group)
    assert {m.user_id for m in channel.members} == {"vet-1", "vet-2"}
    assert world.messages(group)[-1] == "Priya Shah left the group."


@pytest.mark.parametrize(
    "body",
    [
        {"remove": ["vet-2"], "addedBy": "nurse-1"},  # removing someone else
        {"remove": ["nurse-1", "vet-2"], "addedBy": "nurse-1"},  # self plus another
        {"add": ["admin-1"], "remove": ["nurse-1"], "addedBy": "nurse-1"},  # adding while leaving
    ],
)
async def test_leaving_is_only_removing_oneself(world: World, body: dict[str, object]) -> None:
    group = await _group(world)
    before = await world.snapshot()
    response = await world.post(f"/api/chat/channels/group/{group}/members", "nurse-1", body)
    assert_error(response, 403)
    assert await world.snapshot() == before


async def test_an_outsider_cannot_leave_a_group_they_are_not_in(world: World) -> None:
    group = await _group(world)
    before = await world.snapshot()
    response = await world.post(
        f"/api/chat/channels/group/{group}/members",
        "admin-x",
        {"remove": ["admin-x"], "addedBy": "admin-x"},
    )
    assert response.status_code in (403, 404)
    assert await world.snapshot() == before


async def _register(world: World, user: str, token: str) -> int:
    response = await world.post("/api/devices", user, {"token": token, "platform": "ios"})
    status: int = response.status_code
    return status


async def test_a_user_keeps_at_most_ten_devices_the_oldest_dropped(world: World) -> None:
    """2,000 registered tokens fanned one message out into 1,000 Expo sends."""
    for n in range(25):
        assert await _register(world, "owner-1", f"ExponentPushToken[{n:04}]") == 200
    tokens = [d.token for d in await world.devices.devices_of([UserId("owner-1")])]
    assert sorted(tokens) == [f"ExponentPushToken[{n:04}]" for n in range(15, 25)]


async def test_a_device_token_over_4_kb_is_400(world: World) -> None:
    before = await world.snapshot()
    # 2,100 characters but 4,200 bytes: the limit is on bytes.
    response = await world.post("/api/devices", "owner-1", {"token": "é" * 2100, "platform": "ios"})
    assert_error(response, 400, "invalid_input")
    assert await world.snapshot() == before
    assert await _register(world, "owner-1", "x" * 4096) == 200


async def test_a_token_registered_by_another_user_moves_to_the_caller(world: World) -> None:
    assert await _register(world, "owner-1", "phone-token") == 200
    assert await _register(world, "owner-2", "phone-token") == 200
    assert await world.devices.devices_of([UserId("owner-1")]) == []
    assert [d.user_id for d in await world.devices.devices_of([UserId("owner-2")])] == ["owner-2"]
    # The previous owner can no longer remove it.
    gone = await world.client.delete("/api/devices/phone-token", headers=bearer("owner-1"))
    assert_error(gone, 404)
