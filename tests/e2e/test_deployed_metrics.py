"""`/metrics` of real deployments, scraped as Prometheus would.

The documented split (`serve --no-worker` twice, one `yc-chat worker --metrics-port`)
over FerretDB: the servers count the webhooks they recorded, the worker counts what it
handled and pushed, on its own port. `serve --workers 2`: whichever worker answers a
scrape, it shows what both counted (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import http.client
import json
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from tests.support import servers
from tests.support.demo import FIXTURE
from tests.support.processes import (
    Cluster,
    message_new,
    metric_samples,
    request,
    signed_webhook,
    staff_group,
)

_LISTENING = re.compile(r'"message":\s*"listening"')


def scrape(url: str) -> dict[str, float]:
    connection = http.client.HTTPConnection(url.removeprefix("http://"), timeout=10)
    try:
        connection.request("GET", "/metrics")
        response = connection.getresponse()
        assert response.status == 200
        assert response.getheader("Content-Type", "").startswith("text/plain; version=0.0.4")
        return metric_samples(response.read().decode())
    finally:
        connection.close()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    database = f"yc_metrics_{uuid.uuid4().hex[:10]}"
    started = Cluster(tmp_path, database, LOG_LEVEL="INFO")
    try:
        yield started
    finally:
        started.close()
        client: MongoClient[dict[str, Any]] = MongoClient(servers.mongodb_uri())
        client.drop_database(database)
        client.close()


def _message_new(channel_id: str, message_id: str) -> bytes:
    return message_new(channel_id, message_id, "Is Rex OK?", "2026-12-01T08:00:00.000000Z")


def test_a_split_deployment_shows_the_workers_work_on_its_metrics_port(
    cluster: Cluster, tmp_path: Path
) -> None:
    seed = tmp_path / "clinic.json"
    seed.write_text(json.dumps(FIXTURE), encoding="utf-8")
    _, first = cluster.serve("--no-worker", seed=seed)
    _, second = cluster.serve("--no-worker")
    port = servers.free_port()
    worker = cluster.start("worker", ["worker", "--metrics-port", str(port)])
    worker_url = f"http://127.0.0.1:{port}"
    worker.wait_answering(worker_url + "/healthz")

    channel_id = staff_group(first)
    body = _message_new(channel_id, "msg-split")
    status, answer = request(
        "POST", second + "/api/webhooks/stream", raw=body, headers=signed_webhook(body, "wh-1")
    )
    assert (status, answer) == (200, {"ok": True})

    deadline = time.monotonic() + 30
    seen = scrape(worker_url)
    while seen.get("yc_chat_pushes_sent_total", 0) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
        seen = scrape(worker_url)
    assert seen["yc_chat_pushes_sent_total"] == 2, cluster.logs()  # vet-2 and nurse-1
    assert seen['yc_chat_events_processed_total{kind="message_posted"}'] == 1
    assert seen['yc_chat_inbox_events{state="done"}'] == 1
    assert "push notification" in worker.log() and "Is Rex OK" not in worker.log()
    # The servers recorded the webhook and handled nothing themselves.
    servers_seen = [scrape(base) for base in (first, second)]
    assert [s["yc_chat_webhooks_received_total"] for s in servers_seen] == [0, 1]
    assert all(s["yc_chat_pushes_sent_total"] == 0 for s in servers_seen)
    assert all(not any(k.startswith("yc_chat_events_processed") for k in s) for s in servers_seen)
    status, _ = request("GET", worker_url + "/api/chat/channels")
    assert status == 404  # the worker's port serves metrics, not the API


def test_any_of_several_workers_shows_what_all_of_them_counted(
    cluster: Cluster, tmp_path: Path
) -> None:
    seed = tmp_path / "clinic.json"
    seed.write_text(json.dumps(FIXTURE), encoding="utf-8")
    serve, base = cluster.serve("--workers", "2", seed=seed)
    deadline = time.monotonic() + 60
    # Two "listening" log lines (compact JSON): the second worker starts after the first.
    while len(_LISTENING.findall(serve.log())) < 2:
        assert time.monotonic() < deadline, serve.log()
        time.sleep(0.1)
    # Kept-alive connections, each accepted by one of the two processes sharing the port.
    connections = [
        http.client.HTTPConnection(base.removeprefix("http://"), timeout=10) for _ in range(16)
    ]
    for connection in connections:
        connection.connect()
    try:
        for n, connection in enumerate(connections):
            body = json.dumps({"type": "custom.ping", "created_at": f"2026-12-01T08:00:0{n}Z"})
            connection.request(
                "POST", "/api/webhooks/stream", body=body.encode(),
                headers={"Content-Type": "application/json",
                         **signed_webhook(body.encode(), f"wh-{n}")},
            )  # fmt: skip
            response = connection.getresponse()
            assert response.status == 200, response.read()
            response.read()
        for connection in connections:
            connection.request("GET", "/metrics")
            response = connection.getresponse()
            seen = metric_samples(response.read().decode())
            assert seen["yc_chat_webhooks_received_total"] == len(connections), cluster.logs()
    finally:
        for connection in connections:
            connection.close()
