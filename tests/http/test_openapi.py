"""The served OpenAPI document describes every route, field and error of the contract."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.world import World

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
    ("get", "/metrics"),
}
# Litestar's fallback for a response without a description of its own.
DEFAULT_DESCRIPTION = "Request fulfilled, document follows"
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
        media = "text/plain" if path == "/metrics" else "application/json"
        [content] = [v for k, v in op["responses"]["200"]["content"].items() if k.startswith(media)]
        assert content["schema"], path
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


async def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    from openapi_spec_validator import validate

    validate(document)  # raises with the first violation of the OpenAPI 3.1 schema


async def test_every_response_says_what_it_means(document: dict[str, Any]) -> None:
    for (method, path), op in _operations(document).items():
        assert op.get("summary"), (method, path)
        assert op["responses"], (method, path)
        for status, response in op["responses"].items():
            description = response.get("description", "")
            assert description and description != DEFAULT_DESCRIPTION, (method, path, status)


async def test_readyz_200_is_only_the_ready_body(document: dict[str, Any]) -> None:
    op = _operations(document)[("get", "/readyz")]
    ok = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/ReadyResponse"}
    assert op["responses"]["503"]["content"]["application/json"]["schema"] == {"$ref": ERROR_REF}


async def test_webhook_documents_the_stream_event_body(document: dict[str, Any]) -> None:
    op = _operations(document)[("post", "/api/webhooks/stream")]
    body = op["requestBody"]
    assert body["required"] is True
    schema = body["content"]["application/json"]["schema"]
    assert schema["required"] == ["type"]
    assert {"type", "cid", "channel_id", "message", "channel", "user"} <= set(schema["properties"])
    assert {"id", "text", "user"} <= set(schema["properties"]["message"]["properties"])


async def test_metrics_is_documented_as_prometheus_text(document: dict[str, Any]) -> None:
    op = _operations(document)[("get", "/metrics")]
    [media] = op["responses"]["200"]["content"]
    assert media.startswith("text/plain; version=0.0.4")
    assert "security" not in op


_ASSET = re.compile(r"""(?:src|href)=["']([^"']+)["']""")


@pytest.mark.parametrize("page", ["/schema", "/schema/swagger"])
async def test_documentation_pages_load_only_the_apps_own_assets(world: World, page: str) -> None:
    """Offline: every script, style and icon of the page is served by the app itself."""
    response = await world.client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assets = _ASSET.findall(html)
    assert any(a.endswith(".js") for a in assets), assets
    for asset in assets:
        assert asset.startswith("/schema/assets/"), asset  # no CDN, no web fonts
        served = await world.client.get(asset)
        assert served.status_code == 200, asset
        assert len(served.content) > 100, asset  # the real file, not an error page
    assert "googleapis" not in html and "cdn." not in html and "unpkg" not in html
