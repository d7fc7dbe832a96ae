"""Several instances: two `yc-chat serve` processes on different ports, sharing one database
(the real MongoDB-wire server, or PostgreSQL), one Redis and one Stream (a `yc-chat
emulator` process)."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from stream_chat import StreamChat
from stream_chat.base.exceptions import StreamAPIException

from tests.support import processes, servers
from tests.support.demo import FIXTURE
from tests.support.processes import (
    DEVICES,
    STORES,
    STREAM_KEY,
    STREAM_SECRET,
    Cluster,
    bearer,
    message_new,
    request,
    signed_webhook,
    staff_group,
)
from tests.support.push_mimics import Mimic, running_mimic

TOKEN_BUDGET = 3


@pytest.fixture(scope="module")
def mimic() -> Iterator[Mimic]:
    with running_mimic() as running:
        yield running


@pytest.fixture(scope="module", params=STORES)
def two(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, mimic: Mimic
) -> Iterator[tuple[Cluster, str, str]]:
    tmp = tmp_path_factory.mktemp("instances")
    database = f"yc_two_{uuid.uuid4().hex[:10]}"
    cluster = Cluster(
        tmp,
        database,
        store=request.param,
        # A Redis database per store: the token budgets counted for one cluster's callers
        # must not be spent for the other's.
        REDIS_URL=servers.redis_url().rsplit("/", 1)[0] + f"/{STORES.index(request.param)}",
        TOKEN_RATE_LIMIT=f"{TOKEN_BUDGET}/minute",
        PUSH_PROVIDER="expo",
        EXPO_BASE_URL=mimic.base_url,
    )
    seed = tmp / "clinic.json"
    seed.write_text(json.dumps(FIXTURE), encoding="utf-8")
    try:
        _, first = cluster.serve(seed=seed)  # creates the indexes, loads the clinic
        _, second = cluster.serve()
        processes.register_devices(first)
        yield cluster, first, second
    finally:
        cluster.close()
        cluster.drop_database()


def _both(calls: list[tuple[str, str, str, Any, dict[str, str]]]) -> list[tuple[int, Any]]:
    """Every (method, base, path, body, headers) call at once, from as many threads."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda c: request(c[0], c[1] + c[2], body=c[3], headers=c[4]), calls))


def test_concurrent_dm_creation_through_both_gives_one_channel(
    two: tuple[Cluster, str, str],
) -> None:
    cluster, first, second = two
    body = {"orgId": "org-1", "memberIds": ["vet-2", "nurse-1"], "createdBy": "vet-2"}
    answers = _both(
        [("POST", base, "/api/chat/channels/internal", body, bearer("vet-2"))
         for base in (first, second) * 5]
    )  # fmt: skip
    assert {status for status, _ in answers} == {200}, cluster.logs()
    assert len({answer["channelId"] for _, answer in answers}) == 1
    for base in (first, second):
        status, listed = request(
            "GET", base + "/api/chat/channels?category=colleague", headers=bearer("nurse-1")
        )
        assert status == 200
        assert [c["id"] for c in listed["channels"]] == [answers[0][1]["channelId"]]


def test_the_same_webhook_delivered_to_both_is_handled_once(
    two: tuple[Cluster, str, str], mimic: Mimic
) -> None:
    cluster, first, second = two
    channel_id = staff_group(first, "Night shift")
    event = message_new(
        channel_id, "msg-twice", f"only once {cluster.store}", "2026-11-30T07:00:00.000000Z"
    )

    def deliver(base_and_id: tuple[str, str]) -> tuple[int, Any]:
        base, webhook_id = base_and_id
        headers = signed_webhook(event, webhook_id)
        return request("POST", base + "/api/webhooks/stream", raw=event, headers=headers)

    # Stream's retries (one webhook id) and a replay under new ids, to both instances.
    deliveries = [(base, wid) for wid in ("wh-a", "wh-a", "wh-b") for base in (first, second)]
    with ThreadPoolExecutor(max_workers=len(deliveries)) as pool:
        answers = list(pool.map(deliver, deliveries))
    assert all(answer == (200, {"ok": True}) for answer in answers)

    def pushed() -> Counter[str]:
        return Counter(
            m["to"]
            for b in list(mimic.expo_requests)
            for m in b
            if m["body"] == f"only once {cluster.store}"
        )

    deadline = __import__("time").monotonic() + 30
    while sum(pushed().values()) < len(DEVICES) and __import__("time").monotonic() < deadline:
        __import__("time").sleep(0.2)
    __import__("time").sleep(2)  # long enough for any second handling to show
    assert pushed() == Counter(DEVICES.values())


def test_the_token_budget_is_shared(two: tuple[Cluster, str, str]) -> None:
    _, first, second = two
    statuses = [
        request(
            "POST", base + "/api/chat/token", body={"userId": "vet-2"}, headers=bearer("vet-2")
        )[0]
        for base in (first, second, first, second, first)
    ]
    assert statuses == [200] * TOKEN_BUDGET + [429] * (5 - TOKEN_BUDGET)


def test_concurrent_ends_through_both_post_one_system_message(
    two: tuple[Cluster, str, str],
) -> None:
    cluster, first, second = two
    channel_id = staff_group(second, "Day shift")
    answers = _both(
        [("POST", base, f"/api/chat/channels/{channel_id}/end", None, bearer("vet-1"))
         for base in (first, second) * 4]
    )  # fmt: skip
    assert {status for status, _ in answers} == {200}
    stream = StreamChat(STREAM_KEY, STREAM_SECRET, base_url=cluster.emulator_url)
    state = stream.channel("messaging", channel_id).query(messages={"limit": 100})
    system = [m for m in state["messages"] if m["user"]["id"] == "system"]
    assert len(system) == 1, [m.get("text") for m in system]
    assert state["channel"]["frozen"] is True


def _token(base: str, user: str) -> dict[str, Any]:
    status, answer = request(
        "POST", base + "/api/chat/token", body={"userId": user}, headers=bearer(user)
    )
    assert status == 200, answer
    return dict(answer)


def _works_at_stream(cluster: Cluster, token: str) -> bool:
    as_user = StreamChat(STREAM_KEY, STREAM_SECRET, base_url=cluster.emulator_url)
    as_user.auth_token = token
    try:
        as_user.query_channels({"members": {"$in": ["vet-x"]}})
    except StreamAPIException as refused:
        assert refused.status_code == 401, refused
        return False
    return True


def test_a_kept_token_is_shared_and_an_offboarding_revokes_it_on_both(
    two: tuple[Cluster, str, str],
) -> None:
    """Token reuse (issue 22) through Redis: one instance hands out the token the other
    signed; after an offboarding through one, neither hands the old token back."""
    cluster, first, second = two
    shared = _token(first, "admin-x")
    assert _token(second, "admin-x") == shared  # kept in Redis, reused by the other
    before = _token(first, "vet-x")
    assert _works_at_stream(cluster, before["token"])
    time.sleep(1.1)  # a token signed from now on has another `iat`, so other bytes
    status, _ = request(
        "DELETE", first + "/api/orgs/org-2/members/vet-x", headers=bearer("admin-x")
    )
    assert status == 200, cluster.logs()
    assert not _works_at_stream(cluster, before["token"])
    # The token budget (3 a minute) allows these two: one through each instance.
    for base in (second, first):
        again = _token(base, "vet-x")
        assert again["token"] != before["token"], base
