"""Crash and restart for real: `yc-chat` processes on the real MongoDB-wire server and on
PostgreSQL, SIGKILLed while they handle signed webhooks, then started again.

Every webhook the service acknowledged (200 `{"ok": true}`) must end up handled: its inbox
event done, and each recipient pushed at least once (pushes go to a local Expo mimic that
records each one). A push is repeated only when its send was in flight at a kill: the test
reads the claims left unconfirmed by each killed process from the database, and every
repeat must be one of them, carrying the same collapse id as its first send.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from tests.support import servers
from tests.support.demo import FIXTURE
from tests.support.processes import (
    DEVICES,
    STORES,
    Cluster,
    message_new,
    register_devices,
    request,
    signed_webhook,
    staff_group,
)
from tests.support.push_mimics import Mimic, running_mimic
from yc_chat.domain.events import push_collapse_id
from yc_chat.domain.model import UserId

RECIPIENT_OF = {token: UserId(user) for user, token in DEVICES.items()}
EVENTS = 120
# What one worker can have in flight when killed: a leased batch (its batch size, 16),
# each recipient.
BATCH = 16
IN_FLIGHT_AT_MOST = BATCH * len(DEVICES)


@pytest.fixture
def mimic() -> Iterator[Mimic]:
    with running_mimic() as running:
        yield running


@pytest.fixture(params=STORES)
def cluster(request: pytest.FixtureRequest, tmp_path: Path, mimic: Mimic) -> Iterator[Cluster]:
    database = f"yc_crash_{uuid.uuid4().hex[:10]}"
    started = Cluster(
        tmp_path,
        database,
        store=request.param,
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
        started.drop_database()


def _prepare(url: str) -> str:
    register_devices(url)
    return staff_group(url)


def _event(channel_id: str, n: int) -> bytes:
    created_at = f"2026-11-30T06:00:{n // 100:02d}.{n:06d}Z"
    return message_new(channel_id, f"msg-{n:04d}", f"note {n:04d}", created_at)


def _flood(
    url: str,
    channel_id: str,
    *,
    events: int = EVENTS,
    kill: Callable[[], None] | None = None,
    kill_after: int = 0,
) -> set[str]:
    """Send `events` webhooks from 8 threads; call `kill` once `kill_after` were
    acknowledged. Returns the webhook ids the service acknowledged."""
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
                due = kill is not None and len(acked) >= kill_after and not killed.is_set()
                if due:
                    killed.set()
            if due and kill is not None:
                kill()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(send, range(events)))
    return acked


def _claims_in_flight(cluster: Cluster) -> dict[str, str]:
    """One read of the push claims taken and neither confirmed nor given back."""
    released = datetime(1970, 1, 2, tzinfo=UTC)
    if cluster.store == "postgres":
        rows = cluster.query(
            "SELECT key, owner FROM chat_effect_claims WHERE NOT done AND until > $1", released
        )
        return {f"{row['owner']}|{row['key']}": row["key"] for row in rows}
    client: MongoClient[dict[str, Any]] = MongoClient(servers.mongodb_uri())
    try:
        found = client[cluster.database]["chat_webhook_events"].find(
            {"done": False, "until": {"$gt": released}}, {"key": 1, "owner": 1}
        )
        return {f"{doc['owner']}|{doc['key']}": doc["key"] for doc in found}
    finally:
        client.close()


def _unconfirmed_claims(cluster: Cluster) -> dict[str, str]:
    """Push claims taken and neither confirmed nor given back (`{owner}|{key}` -> key: one
    handling's claim of one push): read after a kill, the sends the dead process had in
    flight, or was about to make.

    Read until two reads agree: the server may still apply writes the process sent just
    before it died (its socket closes, the server finishes what it had received).
    """
    last: dict[str, str] | None = None
    for _ in range(40):
        now = _claims_in_flight(cluster)
        if now == last:
            return now
        last = now
        time.sleep(0.25)
    raise AssertionError("the claims kept changing after the kill")


def _wait_all_done(cluster: Cluster, acked: set[str], timeout: float = 120) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while True:
        states = cluster.inbox_states()
        if all(states.get(i) == "done" for i in acked) or time.monotonic() > deadline:
            return states
        time.sleep(0.3)


def _pushes(mimic: Mimic) -> list[dict[str, Any]]:
    """Every push message the mimic received, in order."""
    return [message for batch in list(mimic.expo_requests) for message in batch]


def _claim_key(message: dict[str, Any]) -> str:
    """The claim key of the push a message carries: its event (from the text's number: the
    webhook id) and its recipient (from the device)."""
    number = int(message["body"].removeprefix("note "))
    return f"push:wh-{number:04d}:{RECIPIENT_OF[message['to']]}"


def _check(
    cluster: Cluster,
    mimic: Mimic,
    acked: set[str],
    states: dict[str, str],
    in_flight_at_kills: list[dict[str, str]],
) -> int:
    """Check the run's pushes; how many repeats there were."""
    assert acked, "nothing was acknowledged"
    not_done = sorted(i for i in acked if states.get(i) != "done")
    assert not_done == [], f"acknowledged but not handled: {not_done}\n{cluster.logs()}"
    pushes = _pushes(mimic)
    # Nothing reaches anyone but the members other than the sender.
    assert {m["to"] for m in pushes} <= set(DEVICES.values())
    sent = Counter(_claim_key(m) for m in pushes)
    owed = {f"push:{i}:{user}" for i in acked for user in DEVICES}
    lost = sorted(owed - set(sent))
    assert lost == [], f"{len(lost)} acknowledged messages' pushes never sent: {lost[:10]}"
    # Every send of a push carries the collapse id of its (event, recipient).
    for message in pushes:
        _, event_id, user = _claim_key(message).split(":")
        assert message["collapseId"] == push_collapse_id(event_id, UserId(user))
    # A repeat only where a kill found that push claimed and unconfirmed (each kill's own
    # claims: those it took since the kill before), once per such kill.
    seen: set[str] = set()
    kills_in_flight: Counter[str] = Counter()
    per_kill: list[int] = []
    for unconfirmed in in_flight_at_kills:
        own = {claim: key for claim, key in unconfirmed.items() if claim not in seen}
        assert len(own) <= IN_FLIGHT_AT_MOST  # at most one leased batch
        kills_in_flight.update(own.values())
        per_kill.append(len(own))
        seen |= set(unconfirmed)
    repeats = {key: count - 1 for key, count in sent.items() if count > 1}
    unexplained = {key: n for key, n in repeats.items() if n > kills_in_flight[key]}
    assert unexplained == {}, f"repeats without a kill in flight: {unexplained}"
    print(
        f"crash figures: {len(acked)} acknowledged, kills with {per_kill} pushes claimed and "
        f"unconfirmed, {len(pushes)} pushes, {sum(repeats.values())} repeats, 0 lost"
    )
    return sum(repeats.values())


def _seeded(tmp_path: Path) -> Path:
    seed = tmp_path / "clinic.json"
    seed.write_text(json.dumps(FIXTURE), encoding="utf-8")
    return seed


def test_serve_killed_mid_flood_handles_every_acknowledged_event_after_restart(
    cluster: Cluster, mimic: Mimic, tmp_path: Path
) -> None:
    serve, url = cluster.serve(seed=_seeded(tmp_path))
    channel_id = _prepare(url)
    acked = _flood(url, channel_id, kill=serve.kill, kill_after=EVENTS // 3)
    assert serve.process.returncode == -9  # SIGKILL: no shutdown code ran
    assert len(acked) < EVENTS  # the kill came mid-flood
    in_flight = _unconfirmed_claims(cluster)
    pushed_before_restart = len(_pushes(mimic))

    cluster.serve()  # the same database: the inbox is where the first left it
    states = _wait_all_done(cluster, acked)
    _check(cluster, mimic, acked, states, [in_flight])
    assert len(_pushes(mimic)) > pushed_before_restart  # the restart did work


def test_a_separate_worker_killed_mid_flood_is_replaced_without_loss(
    cluster: Cluster, mimic: Mimic, tmp_path: Path
) -> None:
    _, url = cluster.serve("--no-worker", seed=_seeded(tmp_path))
    channel_id = _prepare(url)
    worker = cluster.start("worker", ["worker"])
    acked = _flood(url, channel_id, kill=worker.kill, kill_after=EVENTS // 3)
    assert worker.process.returncode == -9
    # serve stayed up: every event was acknowledged, most after the worker died.
    assert len(acked) == EVENTS
    in_flight = _unconfirmed_claims(cluster)

    cluster.start("worker-2", ["worker"])
    states = _wait_all_done(cluster, acked)
    _check(cluster, mimic, acked, states, [in_flight])


class _KillAtRequest:
    """The mimic's hook: kill the worker when the mimic holds its `at`-th push request, in
    the handler thread before the answer goes out, so that send is in flight."""

    def __init__(self, mimic: Mimic, at: int, kill: Callable[[], None]) -> None:
        self.mimic, self.at, self.kill = mimic, at, kill
        self.lock = threading.Lock()
        self.done = threading.Event()

    def __call__(self, _: list[dict[str, Any]]) -> None:
        with self.lock:
            if len(self.mimic.expo_requests) >= self.at and not self.done.is_set():
                self.kill()
                self.done.set()


BACKLOG = 100
# Kill the worker when the mimic holds the Nth push request in all (counting repeats):
# each time with that send in flight, and the rest of its leased batch around it.
KILL_AT_REQUEST = (4, 25, 45, 70)


def test_a_worker_killed_inside_batches_of_a_backlog_delivers_every_push(
    cluster: Cluster, mimic: Mimic, tmp_path: Path
) -> None:
    """Issue 25: 100 acknowledged webhooks, a worker SIGKILLed four times while a batch is
    being sent, restarted each time: no acknowledged message's push is lost, and the repeats
    are the sends each kill had in flight, with the same collapse id."""
    _, url = cluster.serve("--no-worker", seed=_seeded(tmp_path))
    channel_id = _prepare(url)
    acked = _flood(url, channel_id, events=BACKLOG)
    assert len(acked) == BACKLOG  # the backlog, all acknowledged, nothing handled yet

    in_flight_at_kills: list[dict[str, str]] = []
    for round_number, kill_at in enumerate(KILL_AT_REQUEST):
        worker = cluster.start(f"worker-{round_number}", ["worker"])
        killer = _KillAtRequest(mimic, kill_at, worker.kill)
        mimic.before_expo_reply = killer
        assert killer.done.wait(timeout=90), f"no push request #{kill_at}\n{cluster.logs()}"
        mimic.before_expo_reply = None
        assert worker.process.returncode == -9
        in_flight_at_kills.append(_unconfirmed_claims(cluster))
        assert in_flight_at_kills[-1], "the kill found no send in flight"

    cluster.start("worker-last", ["worker"])
    states = _wait_all_done(cluster, acked)
    repeats = _check(cluster, mimic, acked, states, in_flight_at_kills)
    # Each kill held one send unanswered: its push went out again after the restart.
    assert repeats >= len(KILL_AT_REQUEST)
