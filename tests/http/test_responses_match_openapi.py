"""Schemathesis over the served OpenAPI document: no 5xx, and every response as documented.

The real app over in-memory stores and the Stream fake, reached in process through
Schemathesis' ASGI transport (no server). Every operation runs with generated data (positive
and negative, through the examples, coverage and fuzzing phases) twice: with a valid bearer JWT
of a seeded staff user, and with no or garbage credentials. Each response must not be a 5xx,
its status code must be one the operation documents, its content type the documented one, and
its body must match the documented schema.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import hypothesis
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.bad_input import build_app
from tests.support.demo import FIXTURE
from tests.support.world import WEBHOOK_SECRET, make_token

OPENAPI_URL = "/schema/openapi.json"
WEBHOOK_PATH = "/api/webhooks/stream"
CALLER = "admin-1"  # Staff: the owner, so an admin, of org-1.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# The budget of the active Hypothesis profile (tests/conftest.py), capped: 15 operations run
# twice each, so the file stays well inside a minute on two cores even for `nightly`.
MAX_EXAMPLES = min(hypothesis.settings.default.max_examples, 40)

# Known ids, mixed into generated values half the time so requests get past the 404s into
# the use cases; the other half stays free-form.
DICTIONARIES: dict[str, list[str]] = {
    "users": [user["id"] for user in FIXTURE["users"]],
    "orgs": [org["id"] for org in FIXTURE["orgs"]],
    "appointments": [appointment["id"] for appointment in FIXTURE["appointments"]],
    "channels": ["grp-prop", "not-a-channel"],
}
BINDINGS = {
    "orgId": "orgs",
    "channelId": "channels",
    "body.orgId": "orgs",
    "body.channelId": "channels",
    "body.appointmentId": "appointments",
    "body.petOwnerId": "users",
    "body.vetId": "users",
    "body.userId": "users",
    "body.createdBy": "users",
    "body.addedBy": "users",
    "body.memberIds[*]": "users",
    "body.add[*]": "users",
    "body.remove[*]": "users",
}


class StreamSignature(requests.auth.AuthBase):
    """Stream's webhook signature: X-Signature, hex HMAC-SHA256 of the exact body sent.

    A `requests` auth hook runs on the prepared request, after the body is serialized, so it
    signs the very bytes the app receives.
    """

    def __init__(self, secret: str) -> None:
        self.secret = secret.encode()

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        raw = body.encode() if isinstance(body, str) else body
        request.headers["X-Signature"] = hmac.new(self.secret, raw, hashlib.sha256).hexdigest()
        return request


def _config(*, bearer: str | None) -> schemathesis.Config:
    data: dict[str, Any] = {
        "seed": 20260115,
        "generation": {
            "mode": "all",
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,  # Hypothesis' derandomize: the same cases every run.
            "database": "none",  # No replay of earlier runs' examples either.
        },
        # Stateful runs follow OpenAPI links, which the document has none of.
        "phases": {"stateful": {"enabled": False}},
        # Off: string literals lifted from the app's source come out in a different order
        # from run to run, so the generated cases would too. The dictionaries below stand in.
        "analysis": {"constants": {"enabled": False}},
        "dictionaries": {name: {"values": values} for name, values in DICTIONARIES.items()},
        "parameters": {
            key: {"dictionary": name, "probability": 0.5} for key, name in BINDINGS.items()
        },
    }
    if bearer is not None:
        data["auth"] = {"openapi": {"BearerAuth": {"bearer": bearer}}}
    return schemathesis.Config.from_dict(data)


# Schemathesis parametrizes at collection, so the app and both schemas are built on import
# (in memory, quick). Its lazy loader, `schemathesis.pytest.from_fixture`, fails on pytest 9.2:
# it reads and writes `Node._nodeid`, which pytest 9.2 no longer has.
APP = build_app(api_secret=WEBHOOK_SECRET)
staff = schemathesis.openapi.from_asgi(
    OPENAPI_URL, APP, config=_config(bearer=make_token(CALLER, ttl=24 * 3600))
)
anonymous = schemathesis.openapi.from_asgi(OPENAPI_URL, APP, config=_config(bearer=None))


@staff.parametrize()
def test_every_operation_as_staff(case: schemathesis.Case) -> None:
    # The webhook is public but signed: sign what is sent, so requests get past the signature
    # check to the event parser.
    transport: dict[str, Any] = {}
    if case.path == WEBHOOK_PATH:
        transport["auth"] = StreamSignature(WEBHOOK_SECRET)
    case.call_and_validate(checks=CHECKS, **transport)


@anonymous.parametrize()
def test_every_operation_without_credentials(case: schemathesis.Case) -> None:
    # No valid credentials: Schemathesis sends no bearer token or a generated, invalid one,
    # and webhooks unsigned or wrongly signed, so the answers are the 401s the document lists.
    case.call_and_validate(checks=CHECKS)
