"""Every endpoint's success path, with the exact response shapes the frontends read."""

from __future__ import annotations

from datetime import timedelta

import jwt

from tests.support.world import WEBHOOK_SECRET, World
from yc_chat.domain.channel_ids import appointment_channel_id, colleague_dm_channel_id
from yc_chat.domain.model import AppointmentId, ChatStatus, OrgId, UserId


async def test_token_shape_and_expiry(world: World) -> None:
    response = await world.post("/api/chat/token", "vet-1", {"userId": "vet-1"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "expiresAt", "apiKey", "baseUrl"}
    # The HTTP world's chat provider is the in-process fake: its key, no address of its own.
    assert body["apiKey"] == world.stream.api_key
    assert body["baseUrl"] is None
    # A bearer credential: no cache may keep the answer.
    assert response.headers["cache-control"] == "no-store"
    expected = world.clock.now() + timedelta(hours=24)
    assert body["expiresAt"] == int(expected.timestamp()) * 1000
    # The fixed clock lies in the past: check the claims, not expiry against the wall clock.
    claims = jwt.decode(
        body["token"], WEBHOOK_SECRET, algorithms=["HS256"], options={"verify_exp": False}
    )
    assert claims["user_id"] == "vet-1"
    assert claims["exp"] * 1000 == body["expiresAt"]
    assert "iat" in claims


async def test_repeated_token_calls_write_nothing_to_stream(world: World) -> None:
    await world.post("/api/chat/token", "vet-1", {"userId": "vet-1"})
    writes = len(world.chat.writes)
    for _ in range(3):
        response = await world.post("/api/chat/token", "vet-1", {"userId": "vet-1"})
        assert response.status_code == 200
    assert len(world.chat.writes) == writes


async def test_appointment_chat_shape_and_idempotence(world: World) -> None:
    response = await world.post("/api/chat/channels", "owner-1", {"appointmentId": "apt-1"})
    assert response.status_code == 200
    channel_id = appointment_channel_id(AppointmentId("apt-1"))
    assert response.json() == {
        "channelId": channel_id,
        "channelType": "messaging",
        "members": ["owner-1", "vet-1"],
    }
    again = await world.post(
        "/api/chat/channels",
        "vet-1",
        {"appointmentId": "apt-1", "petOwnerId": "owner-1", "vetId": "vet-1",
         "appointmentTime": "2030-01-01T00:00:00Z", "somethingNew": [1, 2]},
    )  # fmt: skip
    assert again.json() == response.json()
    record = await world.appointments.get(AppointmentId("apt-1"))
    assert record is not None
    assert record.chat_channel_id == channel_id
    assert record.chat_status is ChatStatus.PENDING
    channel = await world.chat.get_channel(channel_id)
    assert channel is not None and channel.frozen


async def test_colleague_dm_shape_and_order_independence(world: World) -> None:
    body = {"orgId": "org-1", "memberIds": ["vet-1", "nurse-1"], "createdBy": "vet-1"}
    response = await world.post("/api/chat/channels/internal", "vet-1", body)
    assert response.status_code == 200
    expected_id = colleague_dm_channel_id(OrgId("org-1"), UserId("vet-1"), UserId("nurse-1"))
    assert response.json() == {
        "channelId": expected_id,
        "channelType": "messaging",
        "members": ["vet-1", "nurse-1"],
    }
    reverse = {"orgId": "org-1", "memberIds": ["vet-1", "nurse-1"], "createdBy": "nurse-1"}
    again = await world.post("/api/chat/channels/internal", "nurse-1", reverse)
    assert again.json()["channelId"] == expected_id


async def test_group_create_edit_list_end(world: World) -> None:
    created = await world.post(
        "/api/chat/channels/group",
        "vet-1",
        {"orgId": "org-1", "name": "  Surgery team ", "memberIds": ["nurse-1"],
         "createdBy": "vet-1", "channelId": "surgery-team", "image": "https://img.example/a.png"},
    )  # fmt: skip
    assert created.status_code == 200, created.text
    assert created.json() == {
        "channelId": "surgery-team",
        "channelType": "messaging",
        "members": ["vet-1", "nurse-1"],
    }

    edited = await world.post(
        "/api/chat/channels/group/surgery-team/members",
        "vet-1",
        {"add": ["vet-2"], "remove": ["nurse-1"], "addedBy": "vet-1"},
    )
    assert edited.status_code == 200
    assert edited.json() == {"success": True}
    assert world.messages("surgery-team")[-1].startswith("Dr. Ana Núñez added Tom O'Brien")

    groups = await world.get("/api/chat/channels/groups", "vet-1", params={"orgId": "org-1"})
    assert groups.status_code == 200
    assert groups.json() == {
        "channels": [
            {
                "id": "surgery-team",
                "name": "Surgery team",
                "members": ["vet-1", "vet-2"],
                "status": "active",
                "isGroup": True,
                "chatCategory": "group",
                "orgId": "org-1",
                "image": "https://img.example/a.png",
                "isReadOnly": False,
                "createdBy": "vet-1",
                "memberCount": 2,
                "frozen": False,
            }
        ]
    }

    ended = await world.post("/api/chat/channels/surgery-team/end", "vet-1")
    assert ended.status_code == 200
    assert ended.json() == {"success": True}
    channel = await world.chat.get_channel("surgery-team")  # type: ignore[arg-type]
    assert channel is not None and channel.is_ended and channel.frozen


async def test_typeahead_shape(world: World) -> None:
    response = await world.get(
        "/api/orgs/org-1/search", "vet-1", params={"query": "  nun ", "limit": 5}
    )
    assert response.status_code == 200
    assert response.json() == {"results": []}  # the caller is left out of their own search
    response = await world.get("/api/orgs/org-1/search", "nurse-1", params={"query": "NÚÑ"})
    assert response.json() == {
        "results": [
            {"id": "vet-1", "name": "Dr. Ana Núñez", "email": "ana@hp.example",
             "image": None, "role": "vet"}
        ]
    }  # fmt: skip
    by_email = await world.get("/api/orgs/org-1/search", "vet-1", params={"query": "tom@"})
    assert [r["id"] for r in by_email.json()["results"]] == ["vet-2"]
    apostrophe = await world.get("/api/orgs/org-1/search", "vet-1", params={"query": "obri"})
    assert [r["id"] for r in apostrophe.json()["results"]] == ["vet-2"]


async def test_org_members_pagination(world: World) -> None:
    first = await world.get("/api/orgs/org-1/members", "vet-1", params={"limit": 3})
    assert first.status_code == 200
    page = first.json()
    assert set(page) == {"members", "nextCursor"}
    assert [m["id"] for m in page["members"]] == ["vet-1", "admin-1", "owner-org"]
    assert set(page["members"][0]) == {"id", "name", "email", "image", "role"}
    assert isinstance(page["nextCursor"], str)
    second = await world.get(
        "/api/orgs/org-1/members", "vet-1", params={"limit": 3, "cursor": page["nextCursor"]}
    )
    assert [m["id"] for m in second.json()["members"]] == ["nurse-1", "vet-2"]
    assert second.json()["nextCursor"] is None


async def test_my_channels_shape_filters_and_paging(world: World) -> None:
    await world.post("/api/chat/channels", "owner-2", {"appointmentId": "apt-2"})
    await world.post(
        "/api/chat/channels/internal",
        "vet-2",
        {"orgId": "org-1", "memberIds": ["vet-2", "vet-1"], "createdBy": "vet-2"},
    )
    world.clock.advance(timedelta(seconds=30))
    apt2 = appointment_channel_id(AppointmentId("apt-2"))
    world.state.send_message("messaging", apt2, text="Hello doctor", user_id="owner-2")

    response = await world.get("/api/chat/channels", "vet-2")
    assert response.status_code == 200
    body = response.json()
    assert body["nextCursor"] is None
    client_chat, dm = body["channels"]
    assert client_chat == {
        "id": apt2,
        "name": "Chat with Jordan Müller",
        "members": ["owner-2", "vet-2"],
        "lastMessage": "Hello doctor",
        "lastMessageAt": int(world.clock.now().timestamp() * 1000),
        "appointmentId": "apt-2",
        "status": "active",
        "chatCategory": "client",
        "orgId": "org-1",
        "isGroup": False,
        "frozen": False,
    }
    assert dm["name"] == "Dr. Ana Núñez"  # a DM is named after the other member
    assert dm["appointmentId"] is None
    assert dm["chatCategory"] == "colleague"

    only_dms = await world.get("/api/chat/channels", "vet-2", params={"category": "colleague"})
    assert [c["id"] for c in only_dms.json()["channels"]] == [dm["id"]]
    as_vet = await world.get("/api/chat/channels", "vet-2", params={"role": "vet"})
    assert [c["id"] for c in as_vet.json()["channels"]] == [apt2]
    as_owner = await world.get("/api/chat/channels", "vet-2", params={"role": "pet-owner"})
    assert as_owner.json()["channels"] == []

    page1 = await world.get("/api/chat/channels", "vet-2", params={"limit": 1})
    assert [c["id"] for c in page1.json()["channels"]] == [apt2]
    cursor = page1.json()["nextCursor"]
    page2 = await world.get("/api/chat/channels", "vet-2", params={"limit": 1, "cursor": cursor})
    assert [c["id"] for c in page2.json()["channels"]] == [dm["id"]]
    assert page2.json()["nextCursor"] is None


async def test_appointment_chat_end_is_idempotent(world: World) -> None:
    opened = await world.post("/api/chat/channels", "vet-2", {"appointmentId": "apt-2"})
    channel_id = opened.json()["channelId"]
    for _ in range(2):
        response = await world.post(f"/api/chat/channels/{channel_id}/end", "vet-2")
        assert response.status_code == 200
        assert response.json() == {"success": True}
    assert len(world.messages(channel_id)) == 1
    record = await world.appointments.get(AppointmentId("apt-2"))
    assert record is not None and record.chat_status is ChatStatus.ENDED
    listed = await world.get("/api/chat/channels", "owner-2")
    assert listed.json()["channels"][0]["status"] == "ended"
    assert listed.json()["channels"][0]["frozen"] is True


async def test_devices_register_and_unregister(world: World) -> None:
    token = "fcm:AbC-123_xyz"
    response = await world.post("/api/devices", "owner-1", {"token": token, "platform": "ios"})
    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert [d.token for d in await world.devices.devices_of([UserId("owner-1")])] == [token]
    deleted = await world.client.delete(
        f"/api/devices/{token}", headers={"Authorization": _auth("owner-1")}
    )
    assert deleted.status_code == 200
    assert deleted.json() == {"success": True}
    assert await world.devices.devices_of([UserId("owner-1")]) == []


async def test_health_endpoints(world: World) -> None:
    health = await world.client.get("/healthz")
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    ready = await world.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "checks": {"stores": "ok", "chat": "ok", "setup": "ok"},
        "degraded": [],
    }


async def test_readyz_reports_a_stream_app_without_the_setup(world: World) -> None:
    # Someone gave the `user` role its default grants back (people may create channels).
    world.stream.state.update_channel_type("messaging", {"grants": {"user": []}})
    ready = await world.client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["details"] == ["setup"]

    await world.stream.apply_setup()
    ready = await world.client.get("/readyz")
    assert ready.status_code == 200


async def test_readyz_reports_an_unreachable_provider(world: World) -> None:
    world.state.set_unavailable()
    ready = await world.client.get("/readyz")
    assert ready.status_code == 503
    assert ready.headers["retry-after"] == "5"
    assert ready.json() == {
        "error": "Some dependencies are unreachable",
        "code": "not_ready",
        # The setup cannot be read either while Stream is unreachable.
        "details": ["chat", "setup"],
    }


def _auth(user: str) -> str:
    from tests.support.world import bearer

    return bearer(user)["Authorization"]
