"""Crash and restart for real: `yc-chat` processes on the real MongoDB-wire server, SIGKILLed
while they handle a flood of signed webhooks, then started again.

Every webhook the service acknowledged (200 `{"ok": true}`) must end up handled, once: its
inbox event done, and each recipient pushed at most once (pushes go to a local Expo mimic
that records each one). A push claimed by the killed process but not yet sent is lost, by
design (claim, then send: never a duplicate); the test counts those and bounds them by what
one worker holds at a time.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from tests.support import servers
from tests.support.demo import FIXTURE
from tests.support.processes import DEVICES, Cluster, bearer, request, signed_webhook
from tests.support.push_mimics import Mimic, running_mimic

EVENTS = 120
# What one worker can hold claimed but unsent when killed: a leased batch (the worker's
# batch size, 16), each recipient.
BATCH = 16
LOST_AT_MOST = BATCH * len(DEVICES)


@pytest.fixture
def mimic() -> Iterator[Mimic]:
    with running_mimic() as running:
        yield running


@pytest.fixture
def cluster(tmp_path: Path, mimic: Mimic) -> Iterator[Cluster]:
    database = f"yc_crash_{uuid.uuid4().hex[:10]}"
    started = Cluster(
        tmp_path,
        database,
        PUSH_PROVIDER="expo",
        EXPO_BASE_URL=mimic.base_url,
        # A killed worker's leases lapse quickly, so the restarted one takes them over.
        WORKER_LEASE_SECONDS="2",
        WORKER_POLL_SECONDS="0.2",
    )
    try:
        yield started
    finally:
        started.close()
        client: MongoClient[dict[str, Any]] = MongoClient(servers.mongodb_uri())
        client.drop_database(database)
        client.close()


def _prepare(url: str) -> str:
    for user, token in DEVICES.items():
        status, _ = request(
            "POST", url + "/api/devices", body={"token": token, "platform": "ios"},
            headers=bearer(user),
        )  # fmt: skip
        assert status == 200
    status, group = request(
        "POST", url + "/api/chat/channels/group",
        body={"orgId": "org-1", "name": "Ward", "memberIds": ["vet-2", "nurse-1"],
              "createdBy": "vet-1"},
        headers=bearer("vet-1"),
    )  # fmt: skip
    assert status == 200, group
    return str(group["channelId"])


def _event(channel_id: str, n: int) -> bytes:
    return json.dumps(
        {"type": "message.new", "cid": f"messaging:{channel_id}", "channel_id": channel_id,
         "channel_type": "messaging", "created_at": f"2026-11-30T06:00:{n // 100:02d}.{n:06d}Z",
         "message": {"id": f"msg-{n:04d}", "text": f"note {n:04d}", "type": "regular",
                     "user": {"id": "vet-1"}}}
    ).encode()  # fmt: skip


def _flood(url: str, channel_id: str, kill: Any, kill_after: int) -> set[str]:
    """Send every event from 8 threads; call `kill` once `kill_after` were acknowledged.
    Returns the webhook ids the service acknowledged."""
    acked: set[str] = set()
    lock = threading.Lock()
    killed = threading.Event()

    def send(n: int) -> None:
        webhook_id = f"wh-{n:04d}"
        body = _event(channel_id, n)
        try:
            status, answer = request(
                "POST", url + "/api/webhooks/stream", raw=body,
                headers=signed_webhook(body, webhook_id), timeout=10,
            )  # fmt: skip
        except OSError:
            return  # the process is gone: not acknowledged
        if status == 200 and answer == {"ok": True}:
            with lock:
                acked.add(webhook_id)
                due = len(acked) >= kill_after and not killed.is_set()
                if due:
                    killed.set()
            if due:
                kill()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(send, range(EVENTS)))
    return acked


def _wait_all_done(database: str, acked: set[str], timeout: float = 90) -> dict[str, str]:
    client: MongoClient[dict[str, Any]] = MongoClient(servers.mongodb_uri())
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


def _pushes(mimic: Mimic) -> Counter[tuple[str, str]]:
    """(message text's number, device token) of every push the mimic received."""
    return Counter((m["body"], m["to"]) for batch in list(mimic.expo_requests) for m in batch)


def _check(mimic: Mimic, acked: set[str], states: dict[str, str]) -> None:
    assert acked, "nothing was acknowledged before the kill"
    not_done = sorted(i for i in acked if states.get(i) != "done")
    assert not_done == [], f"acknowledged but not handled: {not_done}"
    pushes = _pushes(mimic)
    doubled = {key: count for key, count in pushes.items() if count > 1}
    assert doubled == {}, f"pushed more than once: {doubled}"
    owed = {(f"note {int(i[3:]):04d}", token) for i in acked for token in DEVICES.values()}
    lost = owed - set(pushes)
    assert len(lost) <= LOST_AT_MOST, f"{len(lost)} pushes lost: {sorted(lost)[:10]}"
    print(
        f"crash figures: {len(acked)} acknowledged, {sum(pushes.values())} pushes, {len(lost)} lost"
    )
    # Nothing reaches anyone but the members other than the sender.
    assert {token for _, token in pushes} <= set(DEVICES.values())


def test_serve_killed_mid_flood_handles_every_acknowledged_event_once_after_restart(
    cluster: Cluster, mimic: Mimic, tmp_path: Path
) -> None:
    seed = tmp_path / "clinic.json"
    seed.write_text(json.dumps(FIXTURE), encoding="utf-8")
    serve, url = cluster.serve(seed=seed)
    channel_id = _prepare(url)
    acked = _flood(url, channel_id, serve.kill, kill_after=EVENTS // 3)
    assert serve.process.returncode == -9  # SIGKILL: no shutdown code ran
    assert len(acked) < EVENTS  # the kill came mid-flood
    pushed_before_restart = sum(_pushes(mimic).values())

    cluster.serve()  # the same database: the inbox is where the first left it
    states = _wait_all_done(cluster.env["DATABASE_NAME"], acked)
    _check(mimic, acked, states)
    assert sum(_pushes(mimic).values()) > pushed_before_restart  # the restart did work


def test_a_separate_worker_killed_mid_flood_is_replaced_without_loss_or_doubles(
    cluster: Cluster, mimic: Mimic, tmp_path: Path
) -> None:
    seed = tmp_path / "clinic.json"
    seed.write_text(json.dumps(FIXTURE), encoding="utf-8")
    _, url = cluster.serve("--no-worker", seed=seed)
    channel_id = _prepare(url)
    worker = cluster.start("worker", ["worker"])
    acked = _flood(url, channel_id, worker.kill, kill_after=EVENTS // 3)
    assert worker.process.returncode == -9
    # serve stayed up: every event was acknowledged, most after the worker died.
    assert len(acked) == EVENTS

    cluster.start("worker-2", ["worker"])
    states = _wait_all_done(cluster.env["DATABASE_NAME"], acked)
    _check(mimic, acked, states)
