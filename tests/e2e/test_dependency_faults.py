"""When a dependency fails: real `yc-chat` processes while Stream (the emulator process),
FerretDB and Redis hang, fail or restart under them.

What must hold, each a correctness property of the deadline, not a performance figure:
- every answer during a fault arrives within REQUEST_DEADLINE plus a small slack, and a 503
  carries Retry-After and the contract's body;
- the service recovers without a restart (the same processes answer afterwards);
- every acknowledged webhook is handled exactly once, and no device is pushed twice;
- a Stream that comes back empty is healed by the next creations, with nobody's help.
"""

from __future__ import annotations

import json
import signal
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jwt
import pytest
from pymongo import MongoClient

from tests.support import servers
from tests.support.demo import FIXTURE
from tests.support.processes import (
    DEVICES,
    STREAM_KEY,
    STREAM_SECRET,
    Cluster,
    bearer,
    message_new,
    register_devices,
    request,
    signed_webhook,
)
from tests.support.push_mimics import Mimic, running_mimic

DEADLINE = 2.0
# Scheduling on a busy 2-core machine, the HTTP round trip, the backstop's own slack.
SLACK = 2.5
BOUND = DEADLINE + SLACK


def _timed(
    method: str,
    url: str,
    *,
    body: Any = None,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any, dict[str, str], float]:
    """(status, JSON body, headers, seconds taken) of one call (no client-side retry)."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    call = urllib.request.Request(  # noqa: S310 - 127.0.0.1 only
        url, data=data, method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )  # fmt: skip
    started = time.monotonic()
    try:
        with urllib.request.urlopen(call, timeout=60) as response:  # noqa: S310
            status, payload, raw_headers = response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        status, payload, raw_headers = error.code, error.read(), error.headers
    found = {name.lower(): value for name, value in raw_headers.items()}
    taken = time.monotonic() - started
    return status, json.loads(payload or b"null"), found, taken


def _check_in_time(answer: tuple[int, Any, dict[str, str], float], what: str) -> None:
    status, body, headers, taken = answer
    assert taken <= BOUND, f"{what}: answered after {taken:.1f} s (deadline {DEADLINE} s)"
    if status == 503:
        assert set(body) <= {"error", "code", "details"} and body["code"], body
        assert int(headers["retry-after"]) >= 1, headers


def _database() -> str:
    return f"yc_faults_{uuid.uuid4().hex[:10]}"


def _seed(tmp_path: Path) -> Path:
    seed = tmp_path / "clinic.json"
    seed.write_text(json.dumps(FIXTURE), encoding="utf-8")
    return seed


def _dm(url: str) -> tuple[int, Any, dict[str, str], float]:
    return _timed(
        "POST", url + "/api/chat/channels/internal",
        body={"orgId": "org-1", "memberIds": ["vet-1", "nurse-1"], "createdBy": "vet-1"},
        headers=bearer("vet-1"),
    )  # fmt: skip


def _group(url: str, name: str = "Ward") -> tuple[int, Any, dict[str, str], float]:
    return _timed(
        "POST", url + "/api/chat/channels/group",
        body={"orgId": "org-1", "name": name, "memberIds": ["vet-2", "nurse-1"],
              "createdBy": "vet-1"},
        headers=bearer("vet-1"),
    )  # fmt: skip


def _appointment(url: str) -> tuple[int, Any, dict[str, str], float]:
    return _timed(
        "POST", url + "/api/chat/channels", body={"appointmentId": "apt-2"},
        headers=bearer("owner-2"),
    )  # fmt: skip


def _token(url: str, user: str = "vet-1") -> tuple[int, Any, dict[str, str], float]:
    return _timed("POST", url + "/api/chat/token", body={"userId": user}, headers=bearer(user))


def _end(url: str, channel_id: str) -> tuple[int, Any, dict[str, str], float]:
    return _timed(
        "POST", url + f"/api/chat/channels/{channel_id}/end", body={}, headers=bearer("vet-1")
    )


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    database = _database()
    started = Cluster(tmp_path, database, REQUEST_DEADLINE=str(DEADLINE))
    try:
        yield started
    finally:
        started.close()
        _drop(servers.mongodb_uri(), database)


def _drop(uri: str, database: str) -> None:
    client: MongoClient[dict[str, Any]] = MongoClient(uri, serverSelectionTimeoutMS=5000)
    client.drop_database(database)
    client.close()


# -- Stream ----------------------------------------------------------------------------------


def test_a_hung_or_failing_stream_answers_within_the_deadline_and_recovers(
    cluster: Cluster, tmp_path: Path
) -> None:
    serve, url = cluster.serve(seed=_seed(tmp_path))
    assert _token(url)[0] == 200
    faults = cluster.emulator_url + f"/_emulator/faults?api_key={STREAM_KEY}"
    server = {"Authorization": jwt.encode({"server": True}, STREAM_SECRET, algorithm="HS256"),
              "Stream-Auth-Type": "jwt"}  # fmt: skip

    # Stream answers nothing for 30 s: before the deadline, opening a chat took 21 s.
    assert request("POST", faults, body={"delay": 30}, headers=server)[0] == 200
    for name, call in (("appointment", _appointment), ("dm", _dm), ("group", _group)):
        answer = call(url)
        _check_in_time(answer, f"{name} while Stream hangs")
        assert answer[0] == 503, answer
    # Stream fails every call: retries stop at the deadline too.
    assert request("POST", faults, body={"delay": 0, "fail_status": 503}, headers=server)[0] == 200
    for name, call in (("appointment", _appointment), ("dm", _dm)):
        answer = call(url)
        _check_in_time(answer, f"{name} while Stream fails")
        assert answer[0] == 503, answer

    assert request("DELETE", faults, headers=server)[0] == 200
    for name, call in (("appointment", _appointment), ("dm", _dm), ("group", _group)):
        answer = call(url)
        assert answer[0] == 200, (name, answer, cluster.logs())
    assert serve.process.poll() is None  # recovered without a restart


def test_stream_restarted_empty_is_healed_by_the_next_creations(
    cluster: Cluster, tmp_path: Path
) -> None:
    serve, url = cluster.serve(seed=_seed(tmp_path))
    status, dm, _, _ = _dm(url)
    assert status == 200, dm
    status, lost_group, _, _ = _group(url, "Lost")
    assert status == 200, lost_group
    assert _appointment(url)[0] == 200

    emulator = cluster.processes[0]
    emulator.kill()  # Stream away: calls fail at once, answers stay within the deadline
    for name, call in (("appointment", _appointment), ("dm", _dm)):
        answer = call(url)
        _check_in_time(answer, f"{name} while Stream is down")
        assert answer[0] == 503, answer

    # Back, empty: no users, no channels; yc-chat still remembers the profiles it sent.
    port = str(cluster.emulator_port)
    restarted = cluster.start("emulator-2", ["emulator", "--host", "127.0.0.1", "--port", port])
    restarted.wait_answering(cluster.emulator_url + "/")
    status, again, _, _ = _dm(url)
    assert status == 200, (again, cluster.logs())
    assert again["channelId"] == dm["channelId"]  # recreated under its own id
    status, chat, _, _ = _appointment(url)
    assert status == 200, chat
    assert _group(url, "New")[0] == 200
    # Ending one it lost says so plainly; ending a recreated one works (system user too).
    status, body, _, _ = _end(url, lost_group["channelId"])
    assert (status, body["code"]) == (404, "channel_not_found"), body
    status, body, _, _ = _timed(
        "POST", url + f"/api/chat/channels/{chat['channelId']}/end", body={},
        headers=bearer("vet-2"),
    )  # fmt: skip
    assert status == 200, body
    assert serve.process.poll() is None


# -- FerretDB under a serve and a worker -----------------------------------------------------


@pytest.fixture
def mimic() -> Iterator[Mimic]:
    with running_mimic() as running:
        yield running


@contextmanager
def _own_server(
    start: Callable[[], servers.RunningServer], label: str
) -> Iterator[servers.RunningServer]:
    """A server of the test's own, to pause and resume: skipped where none can be had (a
    failure under CI=true); resumed if paused, then stopped, after the test."""
    try:
        server = start()
    except servers.ServerUnavailable as exc:
        if servers.in_ci():
            pytest.fail(f"CI=true and no {label}: {exc}", pytrace=False)
        pytest.skip(f"{label}: {exc}")
    try:
        yield server
    finally:
        if server.process.poll() is None:
            server.process.send_signal(signal.SIGCONT)
        server.stop()


@pytest.fixture
def own_ferretdb() -> Iterator[servers.RunningServer]:
    with _own_server(servers.start_ferretdb, "FerretDB") as server:
        yield server


def _message(channel_id: str, n: int) -> bytes:
    created_at = f"2026-11-30T06:00:00.{n:06d}Z"
    return message_new(channel_id, f"fault-{n:04d}", f"note {n:04d}", created_at)


def _send(url: str, channel_id: str, numbers: range) -> tuple[set[str], list[str]]:
    """Send these events from 4 threads: (ids acknowledged, answers that came too late)."""
    acked: set[str] = set()
    late: list[str] = []
    lock = threading.Lock()

    def send(n: int) -> None:
        webhook_id = f"wh-{n:04d}"
        body = _message(channel_id, n)
        answer = _timed(
            "POST", url + "/api/webhooks/stream", raw=body,
            headers=signed_webhook(body, webhook_id),
        )  # fmt: skip
        with lock:
            if answer[3] > BOUND:
                late.append(f"{webhook_id}: {answer[3]:.1f} s")
            if answer[0] == 200 and answer[1] == {"ok": True}:
                acked.add(webhook_id)
            else:
                _check_in_time(answer, webhook_id)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(send, numbers))
    return acked, late


def _wait_done(uri: str, database: str, acked: set[str], timeout: float = 90) -> dict[str, str]:
    client: MongoClient[dict[str, Any]] = MongoClient(uri)
    inbox = client[database]["chat_webhook_inbox"]
    deadline = time.monotonic() + timeout
    try:
        while True:
            states = {d["_id"]: d["state"] for d in inbox.find({}, {"state": 1})}
            if all(states.get(i) == "done" for i in acked) or time.monotonic() > deadline:
                return states
            time.sleep(0.3)
    finally:
        client.close()


def test_ferretdb_stalled_under_a_serve_and_a_worker(
    tmp_path: Path, mimic: Mimic, own_ferretdb: servers.RunningServer
) -> None:
    database = _database()
    cluster = Cluster(
        tmp_path, database, MONGODB_URI=own_ferretdb.url, REQUEST_DEADLINE=str(DEADLINE),
        EVENT_DEADLINE="3", PUSH_PROVIDER="expo", EXPO_BASE_URL=mimic.base_url,
        WORKER_POLL_SECONDS="0.2", WEBHOOK_RETRY_BASE_SECONDS="0.2",
        WEBHOOK_RETRY_MAX_SECONDS="1",
    )  # fmt: skip
    try:
        serve, url = cluster.serve("--no-worker", seed=_seed(tmp_path))
        worker = cluster.start("worker", ["worker"])
        register_devices(url)
        status, group, _, _ = _group(url)
        assert status == 200, group
        channel_id = group["channelId"]
        acked, late = _send(url, channel_id, range(10))
        # The worker is up and working before the database hangs under it.
        states = _wait_done(own_ferretdb.url, database, acked)
        assert all(states.get(i) == "done" for i in acked), cluster.logs()

        own_ferretdb.process.send_signal(signal.SIGSTOP)  # the database hangs
        try:
            stalled, stalled_late = _send(url, channel_id, range(10, 20))
            for name, answer in (("token", _token(url)), ("group", _group(url, "Stalled"))):
                _check_in_time(answer, f"{name} while the database hangs")
        finally:
            own_ferretdb.process.send_signal(signal.SIGCONT)
        late += stalled_late
        acked |= stalled
        after, after_late = _send(url, channel_id, range(20, 30))
        late += after_late
        acked |= after
        assert late == [], late

        states = _wait_done(own_ferretdb.url, database, acked)
        assert sorted(i for i in acked if states.get(i) != "done") == [], cluster.logs()
        assert len(after) == 10  # recovered without a restart: every event accepted again
        assert serve.process.poll() is None and worker.process.poll() is None
        pushes = Counter((m["body"], m["to"]) for batch in list(mimic.expo_requests)
                         for m in batch)  # fmt: skip
        doubled = {key: count for key, count in pushes.items() if count > 1}
        assert doubled == {}, f"pushed more than once: {doubled}"
        owed = {(f"note {int(i[3:]):04d}", token) for i in acked for token in DEVICES.values()}
        assert owed <= set(pushes), sorted(owed - set(pushes))[:10]
    finally:
        cluster.close()


# -- Redis -----------------------------------------------------------------------------------


@pytest.fixture
def own_redis() -> Iterator[servers.RunningServer]:
    with _own_server(servers.start_redis, "Redis") as server:
        yield server


def test_redis_stalled_token_calls_stay_answered_and_the_breaker_closes_after(
    tmp_path: Path, own_redis: servers.RunningServer
) -> None:
    database = _database()
    cluster = Cluster(
        tmp_path, database, REDIS_URL=own_redis.url, REDIS_COOL_DOWN="1",
        REQUEST_DEADLINE=str(DEADLINE), TOKEN_RATE_LIMIT="1000/minute", LOG_LEVEL="INFO",
    )  # fmt: skip
    try:
        serve, url = cluster.serve(seed=_seed(tmp_path))
        assert _token(url)[0] == 200

        own_redis.process.send_signal(signal.SIGSTOP)  # Redis hangs
        try:
            answers = [_token(url) for _ in range(20)]
        finally:
            own_redis.process.send_signal(signal.SIGCONT)
        for n, answer in enumerate(answers):
            _check_in_time(answer, f"token call {n} while Redis hangs")
            assert answer[0] == 200, answer
        # Only the first call waited for Redis: all twenty together fit in one deadline.
        assert sum(answer[3] for answer in answers) <= BOUND, [a[3] for a in answers]
        time.sleep(1.5)  # the cool-down passes; the next call probes Redis
        assert _token(url)[0] == 200
        # One line when Redis is given up on, one when it is back (readiness says both).
        log = serve.log()
        assert log.count("degraded: redis is unreachable") == 1, log
        assert log.count("recovered: redis answers again") == 1, log
        assert serve.process.poll() is None
    finally:
        cluster.close()
        _drop(servers.mongodb_uri(), database)
