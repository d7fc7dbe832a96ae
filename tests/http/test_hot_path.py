"""The request path stays on the event loop, and the access log line is still written."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.world import WEBHOOK_SECRET, World
from yc_chat.entrypoints.logs import (
    FIELDS_ATTR,
    JsonFormatter,
    JsonLinesHandler,
    log_info,
    use_structured_loggers,
)


@pytest.fixture(params=["json-lines-handler", "stream-handler"])
def access_lines(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[io.StringIO]:
    """The JSON lines the access logger writes during the test, through the handler
    `configure_logging` installs or a plain one. (pytest attaches its capture handlers to
    every non-propagating logger as each phase starts, so here lines take the LogRecord
    path; test_the_access_line_is_written_directly covers the direct one.)"""
    use_structured_loggers()
    sink = io.StringIO()
    access = logging.getLogger("yc_chat.access")
    previous = access.level
    if request.param == "json-lines-handler":
        handler: logging.Handler = JsonLinesHandler(sink)
        monkeypatch.setattr(access, "propagate", False)
    else:
        handler = logging.StreamHandler(sink)
    handler.setFormatter(JsonFormatter())
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        yield sink
    finally:
        access.removeHandler(handler)
        access.setLevel(previous)


def _entries(sink: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in sink.getvalue().splitlines()]


async def test_access_line_has_request_id_status_and_duration(
    world: World, access_lines: io.StringIO
) -> None:
    response = await world.post(
        "/api/chat/token", "vet-1", {"userId": "vet-1"}, headers={"X-Request-ID": "req-abc.1"}
    )
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "req-abc.1"
    (entry,) = _entries(access_lines)
    assert entry["logger"] == "yc_chat.access"
    assert entry["request_id"] == "req-abc.1"
    assert entry["status"] == 200
    assert entry["method"] == "POST"
    assert entry["path"] == "/api/chat/token"
    assert entry["user_id"] == "vet-1"
    assert isinstance(entry["duration_ms"], float | int)
    assert entry["duration_ms"] >= 0
    # Never the bearer token or the minted one.
    assert "Bearer" not in access_lines.getvalue()
    assert response.json()["token"] not in access_lines.getvalue()


async def test_unknown_route_still_gets_a_request_id_and_a_line(
    world: World, access_lines: io.StringIO
) -> None:
    response = await world.get("/nowhere?query=secret-term", None)
    assert response.status_code == 404
    (entry,) = _entries(access_lines)
    assert entry["status"] == 404
    assert entry["request_id"] == response.headers["x-request-id"]
    assert entry["path"] == "/nowhere"
    assert "secret-term" not in access_lines.getvalue()


async def test_no_request_leaves_the_event_loop(
    world: World, access_lines: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No hook, dependency, guard or handler runs in a worker thread (a hop per request)."""
    # On the class: the test client may serve the app from an event loop of its own.
    hops: list[object] = []
    original = asyncio.BaseEventLoop.run_in_executor

    def counting(loop: asyncio.BaseEventLoop, executor: Any, func: Any, *args: Any) -> Any:
        hops.append(func)
        return original(loop, executor, func, *args)

    monkeypatch.setattr(asyncio.BaseEventLoop, "run_in_executor", counting)
    responses = [
        await world.get("/healthz", None),
        await world.post("/api/chat/token", "vet-1", {"userId": "vet-1"}),
        await world.get("/api/orgs/org-1/search", "vet-1", params={"query": "pri"}),
        await world.get("/api/orgs/org-1/members", "vet-1"),
        await world.post("/api/chat/channels", "vet-2", {"appointmentId": "apt-2"}),
        await world.get("/api/chat/channels", "vet-1"),
        await world.get("/nowhere", None),
        await world.post("/api/chat/token", None, {"userId": "vet-1"}),
    ]
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 200, 200, 404, 401]
    assert hops == []
    assert len(_entries(access_lines)) == len(responses)


def test_json_lines_carry_the_extras_given_and_nothing_else() -> None:
    use_structured_loggers()
    logger = logging.getLogger("yc_chat.test_formatter")
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    keep = Keep()
    logger.addHandler(keep)
    try:
        logger.warning("hello %s", "there", extra={"org_id": "org-1", "empty": None})
    finally:
        logger.removeHandler(keep)
    (record,) = records
    assert getattr(record, FIELDS_ATTR) == {"org_id": "org-1", "empty": None}
    entry = json.loads(JsonFormatter().format(record))
    assert set(entry) == {"time", "level", "logger", "message", "org_id"}
    assert entry["message"] == "hello there"
    assert entry["level"] == "WARNING"
    assert entry["time"].endswith("+00:00")


def test_no_route_runs_guards_or_dependencies_in_threads(world: World) -> None:
    """Guards would cost a copy of the route handler per guard per request (Litestar's
    way); rate limits run as middleware instead. Sync dependencies run inline."""
    handlers = [
        handler for route in world.app.routes for handler in getattr(route, "route_handlers", ())
    ]
    assert handlers
    for handler in handlers:
        assert list(handler.resolve_guards()) == [], handler
        for provide in handler.resolve_dependencies().values():
            assert not provide.has_sync_callable or provide.sync_to_thread is False, provide


async def test_liveness_is_answered_first_with_its_request_id_and_access_line(
    world: World, access_lines: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GET /healthz skips the pipeline's later steps and Litestar's handler (issue 22), and
    still answers as the handler would, echoes X-Request-ID and writes its access line."""
    from yc_chat.entrypoints.http import pipeline
    from yc_chat.entrypoints.http.controllers.health import HealthController

    later_steps: list[str] = []

    def noting(cls: type) -> None:
        original = cls.__call__

        async def noted(self: Any, scope: Any, receive: Any, send: Any) -> None:
            later_steps.append(cls.__name__)
            await original(self, scope, receive, send)

        monkeypatch.setattr(cls, "__call__", noted)

    noting(pipeline.AuthMiddleware)
    noting(pipeline.DeadlineMiddleware)
    response = await world.get("/healthz?anything=1", None, headers={"X-Request-ID": "live-1"})
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"] == "live-1"
    assert later_steps == []
    (entry,) = _entries(access_lines)
    assert (entry["path"], entry["status"], entry["request_id"]) == ("/healthz", 200, "live-1")
    # The handler itself (for the OpenAPI document) says the same.
    assert (await HealthController.healthz.fn(None)).status == "ok"  # type: ignore[arg-type]
    # Any other public route still goes through the whole pipeline.
    assert (await world.get("/readyz", None)).status_code == 200
    assert later_steps == ["DeadlineMiddleware", "AuthMiddleware"]


async def test_the_webhook_answer_is_the_documented_one_with_its_id_and_line(
    world: World, access_lines: io.StringIO
) -> None:
    """The webhook is answered from the middleware chain (WebhookAcknowledger), not by
    Litestar's handler: the same bytes, X-Request-ID and access line as any route."""
    body = json.dumps({"type": "message.new", "message": {"id": "m-hot", "user": {"id": "x"}}})
    signature = hmac.new(WEBHOOK_SECRET.encode(), body.encode(), hashlib.sha256).hexdigest()
    response = await world.client.post(
        "/api/webhooks/stream",
        content=body,
        headers={"X-Signature": signature, "X-Webhook-Id": "hot-1", "X-Request-ID": "req-wh.1"},
    )
    assert response.status_code == 200
    assert response.content == b'{"ok":true}'
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"] == "req-wh.1"
    assert (await world.inbox.get("hot-1")) is not None
    (entry,) = _entries(access_lines)
    assert entry["request_id"] == "req-wh.1"
    assert (entry["method"], entry["path"], entry["status"]) == (
        "POST",
        "/api/webhooks/stream",
        200,
    )
    # The same line for a refusal, answered with the contract's body by Litestar's handlers.
    refused = await world.client.post(
        "/api/webhooks/stream", content=body, headers={"X-Signature": "0" * 64}
    )
    assert refused.status_code == 401
    assert refused.json()["code"] == "invalid_signature"
    assert [e["status"] for e in _entries(access_lines)] == [200, 401]


def test_a_line_whose_only_reader_is_the_json_handler_skips_the_log_record(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`log_info` writes the very line a LogRecord would give, without building one, only
    while `configure_logging`'s JSON handler is the line's one destination: a filter, a
    second handler or a level still see or stop every line as logging would."""
    use_structured_loggers()
    logger = logging.getLogger("yc_chat.test_direct_lines")
    sink, other = io.StringIO(), io.StringIO()
    handler = JsonLinesHandler(sink)
    handler.setFormatter(JsonFormatter())
    second = logging.StreamHandler(other)
    second.setFormatter(JsonFormatter())
    records: list[str] = []
    original = logging.LogRecord.__init__

    def counting(record: logging.LogRecord, name: str, *args: Any, **kwargs: Any) -> None:
        records.append(name)
        original(record, name, *args, **kwargs)

    monkeypatch.setattr(logging.LogRecord, "__init__", counting)
    monkeypatch.setattr(logger, "propagate", False)
    monkeypatch.setattr(logger, "handlers", [handler])
    logger.setLevel(logging.INFO)
    fields = {"status": 200, "path": "/x", "empty": None}
    try:
        log_info(logger, "request", fields)
        assert records == []
        handler.addFilter(lambda record: True)
        log_info(logger, "request", fields)
        assert records == [logger.name]
        handler.filters.clear()
        handler.addFilter(lambda record: False)
        log_info(logger, "request", fields)  # filtered out: not written
        handler.filters.clear()
        logger.addHandler(second)
        log_info(logger, "request", fields)  # both handlers see it
        logger.removeHandler(second)
        logger.setLevel(logging.WARNING)
        log_info(logger, "request", fields)  # below the level: nothing
        assert records == [logger.name, logger.name, logger.name]
    finally:
        logger.setLevel(logging.NOTSET)
    direct, through_record, both = (json.loads(line) for line in sink.getvalue().splitlines())
    assert [json.loads(line) for line in other.getvalue().splitlines()] == [both]
    for entry in (direct, through_record, both):
        del entry["time"]
    assert direct == through_record == both
    assert direct == {
        "level": "INFO",
        "logger": "yc_chat.test_direct_lines",
        "message": "request",
        "status": 200,
        "path": "/x",
    }


async def test_the_access_line_is_written_directly(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With `configure_logging`'s handler as its only destination (set up here, in the
    test's own phase, after pytest attached its capture handlers), a request's access line
    is written without a LogRecord: the same fields, still no bearer or minted token."""
    use_structured_loggers()
    access = logging.getLogger("yc_chat.access")
    sink = io.StringIO()
    handler = JsonLinesHandler(sink)
    handler.setFormatter(JsonFormatter())
    monkeypatch.setattr(access, "propagate", False)
    monkeypatch.setattr(access, "handlers", [handler])
    previous = access.level
    access.setLevel(logging.INFO)
    built: list[str] = []
    original = logging.LogRecord.__init__

    def counting(record: logging.LogRecord, name: str, *args: Any, **kwargs: Any) -> None:
        built.append(name)
        original(record, name, *args, **kwargs)

    monkeypatch.setattr(logging.LogRecord, "__init__", counting)
    try:
        response = await world.post(
            "/api/chat/token", "vet-1", {"userId": "vet-1"}, headers={"X-Request-ID": "req-d.1"}
        )
    finally:
        access.setLevel(previous)
    assert response.status_code == 200
    assert "yc_chat.access" not in built
    (entry,) = _entries(sink)
    assert entry["logger"] == "yc_chat.access"
    assert (entry["request_id"], entry["status"], entry["user_id"]) == ("req-d.1", 200, "vet-1")
    assert (entry["method"], entry["path"]) == ("POST", "/api/chat/token")
    assert "Bearer" not in sink.getvalue()
    assert response.json()["token"] not in sink.getvalue()
