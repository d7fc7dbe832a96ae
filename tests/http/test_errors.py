"""Error bodies: bad input is a 4xx with details, never a 500; internals never leak."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from litestar.testing import AsyncTestClient

from tests.http.conftest import WorldFactory
from tests.support.world import World, assert_error, bearer, default_settings
from yc_chat.domain.errors import ProviderUnavailable
from yc_chat.entrypoints.http import create_app


async def test_malformed_json(world: World) -> None:
    response = await world.client.post(
        "/api/chat/token", content=b'{"userId": ', headers=bearer("vet-1")
    )
    body = assert_error(response, 400, "malformed_json")
    assert body["details"] == [{"field": "body", "message": "is not valid JSON"}]


@pytest.mark.parametrize(
    ("path", "payload", "field"),
    [
        ("/api/chat/token", {"userId": 5}, "userId"),
        ("/api/chat/token", {"userId": None}, "userId"),
        ("/api/chat/token", {}, "userId"),
        ("/api/chat/channels/group/g1/members", {"add": ["vet-2"]}, "addedBy"),
        ("/api/chat/token", [], "body"),
        ("/api/chat/token", "vet-1", "body"),
        ("/api/chat/channels", {"appointmentId": "apt-1", "activationMinutes": "5"},
         "activationMinutes"),
        ("/api/chat/channels", {"appointmentId": "apt-1", "activationMinutes": 2.5},
         "activationMinutes"),
        ("/api/chat/channels", {"appointmentId": "apt-1", "appointmentTime": {"at": 1}},
         "appointmentTime"),
        ("/api/chat/channels/internal", {"orgId": "org-1", "memberIds": ["vet-1", 2],
                                         "createdBy": "vet-1"}, "memberIds[1]"),
        ("/api/chat/channels/internal", {"orgId": "org-1", "memberIds": "vet-1",
                                         "createdBy": "vet-1"}, "memberIds"),
        ("/api/chat/channels/group", {"orgId": "org-1", "name": "x", "memberIds": ["vet-2"],
                                      "createdBy": "vet-1", "isReadOnly": "true"}, "isReadOnly"),
        ("/api/chat/channels/group", {"orgId": "org-1", "name": "x", "memberIds": ["vet-2"],
                                      "createdBy": "vet-1", "isReadOnly": 1}, "isReadOnly"),
        ("/api/chat/channels/group", {"orgId": "org-1", "name": "   ", "memberIds": ["vet-2"],
                                      "createdBy": "vet-1"}, "name"),
        ("/api/chat/channels/group", {"orgId": "org-1", "name": "x", "memberIds": ["vet-2"],
                                      "createdBy": "vet-1", "image": "http://x.example/a"},
         "image"),
        ("/api/devices", {"token": "t", "platform": "blackberry"}, "platform"),
    ],
)  # fmt: skip
async def test_wrong_types_and_values_are_400_with_details(
    world: World, path: str, payload: Any, field: str
) -> None:
    before = await world.snapshot()
    body = assert_error(await world.post(path, "vet-1", payload), 400)
    fields = [d["field"] for d in body.get("details", []) if isinstance(d, dict)]
    assert field in fields or (field == "body" and body["code"] in ("missing_body",)), body
    assert await world.snapshot() == before


async def test_empty_body_is_400(world: World) -> None:
    response = await world.client.post("/api/chat/token", content=b"", headers=bearer("vet-1"))
    assert_error(response, 400)


async def test_unknown_fields_are_ignored(world: World) -> None:
    response = await world.post(
        "/api/chat/token", "vet-1", {"userId": "vet-1", "role": "admin", "nested": {"a": [1]}}
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/orgs/org-1/search", {"query": "an", "limit": "ten"}, "limit"),
        ("/api/orgs/org-1/search", {"query": "an", "limit": 0}, "limit"),
        ("/api/orgs/org-1/search", {"query": "a"}, "query"),
        ("/api/orgs/org-1/search", {}, "query"),
        ("/api/orgs/org-1/members", {"limit": 501}, "limit"),
        ("/api/orgs/org-1/members", {"cursor": "!!!"}, "cursor"),
        ("/api/chat/channels", {"limit": "1.5"}, "limit"),
        ("/api/chat/channels", {"category": "secret"}, "category"),
        ("/api/chat/channels", {"role": "admin"}, "role"),
        ("/api/chat/channels", {"cursor": "eyJvIjotMX0"}, "cursor"),
        ("/api/chat/channels/groups", {}, "orgId"),
    ],
)
async def test_bad_query_parameters_are_400(
    world: World, path: str, params: dict[str, Any], field: str
) -> None:
    body = assert_error(await world.get(path, "vet-1", params=params), 400)
    assert field in [d["field"] for d in body["details"]], body


async def test_unknown_route_and_wrong_method(world: World) -> None:
    missing = await world.get("/api/nothing-here", "vet-1")
    assert_error(missing, 404, "not_found")
    wrong = await world.client.put("/api/chat/token", headers=bearer("vet-1"))
    assert_error(wrong, 405, "method_not_allowed")
    assert "POST" in wrong.headers["allow"]
    assert wrong.headers["x-request-id"]


async def test_request_id_is_echoed_or_replaced(world: World) -> None:
    echoed = await world.client.get("/healthz", headers={"X-Request-ID": "abc-123.DEF_4"})
    assert echoed.headers["x-request-id"] == "abc-123.DEF_4"
    replaced = await world.client.get("/healthz", headers={"X-Request-ID": "x" * 300})
    assert len(replaced.headers["x-request-id"]) == 32
    fresh = await world.client.get("/nope")
    assert len(fresh.headers["x-request-id"]) == 32


class _Boom:
    """A use case that fails with a secret-looking internal error."""

    async def __call__(self, **_: Any) -> Any:
        raise RuntimeError("db password is hunter2")


class _Unavailable:
    async def __call__(self, **_: Any) -> Any:
        raise ProviderUnavailable(retry_after=7)


async def test_internal_errors_are_generic_500s(world: World) -> None:
    service = attrs.evolve(world.service, connect_user=_Boom())
    app = create_app(attrs.evolve(world.runtime, service=service))
    async with AsyncTestClient(app) as client:
        response = await client.post(
            "/api/chat/token", json={"userId": "vet-1"}, headers=bearer("vet-1")
        )
    body = assert_error(response, 500, "internal_error")
    assert body == {"error": "Internal error", "code": "internal_error"}
    assert "hunter2" not in response.text


async def test_provider_unavailable_is_503_with_retry_after(world: World) -> None:
    service = attrs.evolve(world.service, connect_user=_Unavailable())
    app = create_app(attrs.evolve(world.runtime, service=service))
    async with AsyncTestClient(app) as client:
        response = await client.post(
            "/api/chat/token", json={"userId": "vet-1"}, headers=bearer("vet-1")
        )
    assert_error(response, 503, "provider_unavailable")
    assert response.headers["retry-after"] == "7"


async def test_stream_outage_leaves_nothing_half_written(world: World) -> None:
    world.state.set_unavailable()
    before = await world.snapshot()
    response = await world.post("/api/chat/channels", "vet-1", {"appointmentId": "apt-1"})
    assert response.status_code in (502, 503)
    assert_error(response, response.status_code)
    assert "retry-after" in response.headers or response.status_code == 502
    after = await world.snapshot()
    assert after.appointments == before.appointments


async def test_cors_only_when_configured(make_world: WorldFactory) -> None:
    plain: World = await make_world()
    response = await plain.client.get("/healthz", headers={"Origin": "https://pms.example"})
    assert "access-control-allow-origin" not in response.headers

    world: World = await make_world(default_settings(cors_origins=("https://pms.example",)))
    preflight = await world.client.options(
        "/api/chat/token",
        headers={
            "Origin": "https://pms.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert preflight.status_code in (200, 204)
    assert preflight.headers["access-control-allow-origin"] == "https://pms.example"
    actual = await world.post(
        "/api/chat/token", "vet-1", {"userId": "vet-1"}, headers={"Origin": "https://pms.example"}
    )
    assert actual.headers["access-control-allow-origin"] == "https://pms.example"
    other = await world.client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


@pytest.mark.parametrize(
    ("path", "caller", "payload", "expected"),
    [
        ("/api/chat/channels/internal", "vet-1",
         {"orgId": "org-1", "memberIds": ["vet-1"], "createdBy": "vet-1"},
         (400, {"error": "memberIds: must list at least 2 ids", "code": "invalid_input",
                "details": [{"field": "memberIds", "message": "must list at least 2 ids"}]})),
        ("/api/chat/channels/internal", "vet-1",
         {"orgId": "org-1", "memberIds": ["vet-1", " "], "createdBy": "vet-1"},
         (400, {"error": "memberIds[1]: must not be blank", "code": "invalid_input",
                "details": [{"field": "memberIds[1]", "message": "must not be blank"}]})),
        ("/api/chat/channels/internal", "vet-1",
         {"orgId": "org-1", "memberIds": ["vet-1", "vet-2"], "createdBy": "vet-2"},
         (403, {"error": "createdBy must be the authenticated user", "code": "not_caller"})),
        ("/api/chat/channels", "vet-1",
         {"appointmentId": "apt-1", "activationMinutes": 1441},
         (400, {"error": "activationMinutes: must be between 0 and 1440",
                "code": "invalid_input",
                "details": [{"field": "activationMinutes",
                             "message": "must be between 0 and 1440"}]})),
        ("/api/chat/channels", "vet-1", {"appointmentId": "apt-1", "petOwnerId": "vet-2"},
         (409, {"error": "petOwnerId does not match the appointment",
                "code": "appointment_mismatch"})),
    ],
)  # fmt: skip
async def test_domain_errors_name_fields_as_the_wire_does(
    world: World, path: str, caller: str, payload: Any, expected: tuple[int, Any]
) -> None:
    # The use cases name fields in the domain's words (member_ids); the edge renames them.
    status, body = expected
    response = await world.post(path, caller, payload)
    assert (response.status_code, response.json()) == (status, body)
