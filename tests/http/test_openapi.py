"""The served OpenAPI document describes every route, field and error of the contract."""

from __future__ import annotations

from typing import Any

import pytest

from tests.http.conftest import World

CONTRACT = {
    ("post", "/api/chat/token"),
    ("post", "/api/chat/channels"),
    ("post", "/api/chat/channels/internal"),
    ("post", "/api/chat/channels/group"),
    ("get", "/api/orgs/{orgId}/search"),
    ("post", "/api/chat/channels/group/{channelId}/members"),
    ("get", "/api/orgs/{orgId}/members"),
    ("get", "/api/chat/channels/groups"),
    ("post", "/api/chat/channels/{channelId}/end"),
    ("get", "/api/chat/channels"),
    ("post", "/api/webhooks/stream"),
    ("post", "/api/devices"),
    ("delete", "/api/devices/{token}"),
    ("delete", "/api/orgs/{orgId}/members/{userId}"),
    ("get", "/healthz"),
    ("get", "/readyz"),
}
ERROR_REF = "#/components/schemas/ErrorBody"


@pytest.fixture
async def document(world: World) -> dict[str, Any]:
    response = await world.client.get("/schema/openapi.json")
    assert response.status_code == 200
    doc: dict[str, Any] = response.json()
    return doc


def _operations(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method, path): operation
        for path, item in doc["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "delete", "put", "patch")
    }


async def test_every_contract_route_is_documented(document: dict[str, Any]) -> None:
    assert set(_operations(document)) == CONTRACT


async def test_operations_have_ids_tags_and_error_bodies(document: dict[str, Any]) -> None:
    operations = _operations(document)
    ids = [op["operationId"] for op in operations.values()]
    assert len(set(ids)) == len(ids)
    for (method, path), op in operations.items():
        assert op.get("tags"), path
        assert op["responses"]["200"]["content"]["application/json"]["schema"], path
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")):
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": ERROR_REF}, (method, path, status)
        if path.startswith("/api/") and path != "/api/webhooks/stream":
            assert op["security"] == [{"BearerAuth": []}], path
            assert "401" in op["responses"], path


async def test_request_bodies_are_described_in_camel_case(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    group = schemas["GroupRequest"]
    assert set(group["properties"]) == {
        "orgId", "name", "memberIds", "createdBy", "isReadOnly", "image", "channelId",
    }  # fmt: skip
    assert set(group["required"]) == {"orgId", "name", "memberIds", "createdBy"}
    channels = schemas["ChannelOut"]["properties"]
    assert {"lastMessageAt", "appointmentId", "chatCategory", "isGroup"} <= set(channels)
    op = _operations(document)[("post", "/api/chat/channels")]
    body_schema = op["requestBody"]["content"]["application/json"]["schema"]
    assert body_schema == {"$ref": "#/components/schemas/AppointmentChatRequest"}
    assert document["components"]["securitySchemes"]["BearerAuth"]["scheme"] == "bearer"


async def test_webhook_documents_its_signature_header(document: dict[str, Any]) -> None:
    op = _operations(document)[("post", "/api/webhooks/stream")]
    names = {p["name"] for p in op["parameters"] if p["in"] == "header"}
    assert {"X-Signature", "X-Webhook-Id"} <= names
    assert "security" not in op
