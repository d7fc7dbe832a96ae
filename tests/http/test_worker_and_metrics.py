"""Worker, push and lifecycle settings; the `worker` and `events` commands; the Prometheus
text format."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest

from tests.support.mongo_double import DoubleClient
from yc_chat.adapters.beanie import MongoClient, MongoStores, open_mongo_stores
from yc_chat.adapters.metrics import Gauge, PrometheusMetrics
from yc_chat.domain.inbox import InboxState
from yc_chat.domain.metrics import Counted, Timed
from yc_chat.entrypoints import bootstrap, cli
from yc_chat.entrypoints.settings import Settings, SettingsError

# -- settings ------------------------------------------------------------------------------


def test_worker_push_and_lifecycle_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.worker.enabled
    assert (settings.worker.max_attempts, settings.worker.lease_seconds) == (8, 60.0)
    assert (settings.worker.retry_base_seconds, settings.worker.retry_max_seconds) == (2.0, 300.0)
    assert settings.push.provider == "log"
    assert settings.chat_auto_end is None


def test_worker_push_and_lifecycle_variables_are_parsed() -> None:
    settings = Settings.from_env(
        {
            "WEBHOOK_MAX_ATTEMPTS": "5",
            "WEBHOOK_RETRY_BASE_SECONDS": "0.5",
            "WEBHOOK_RETRY_MAX_SECONDS": "60",
            "WORKER_LEASE_SECONDS": "30",
            "WORKER_POLL_SECONDS": "0.2",
            "CHAT_AUTO_END_MINUTES": "90",
            "PUSH_PROVIDER": "expo",
            "EXPO_ACCESS_TOKEN": "expo-secret-token",
        }
    )
    assert settings.worker.max_attempts == 5
    assert settings.worker.retry_base_seconds == 0.5
    assert settings.worker.lease_seconds == 30.0
    assert settings.chat_auto_end == timedelta(minutes=90)
    assert settings.push.provider == "expo"
    assert "expo-secret-token" not in repr(settings)
    assert Settings.from_env({"CHAT_AUTO_END_MINUTES": "off"}).chat_auto_end is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WEBHOOK_MAX_ATTEMPTS", "0"),
        ("WEBHOOK_MAX_ATTEMPTS", "many"),
        ("WORKER_LEASE_SECONDS", "0"),
        ("CHAT_AUTO_END_MINUTES", "-5"),
        ("PUSH_PROVIDER", "carrier-pigeon"),
        ("EXPO_BASE_URL", "http://exp.example"),
        ("FCM_BASE_URL", "ftp://127.0.0.1"),
        ("WEBHOOK_RETRY_MAX_SECONDS", "0.1"),
    ],
)
def test_bad_worker_values_are_refused(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_serve_takes_no_worker_and_the_new_commands_parse() -> None:
    parser = cli.build_parser()
    assert parser.parse_args(["serve", "--no-worker"]).no_worker
    assert not parser.parse_args(["serve"]).no_worker
    assert parser.parse_args(["worker"]).command == "worker"
    assert parser.parse_args(["events"]).events_command is None
    retry = parser.parse_args(["events", "retry", "evt-1"])
    assert (retry.events_command, retry.event_id) == ("retry", "evt-1")


# -- the worker command's loop ---------------------------------------------------------------


async def test_run_worker_handles_recorded_events_until_stopped() -> None:
    settings = Settings.from_env({"WORKER_POLL_SECONDS": "0.02"})
    async with bootstrap.open_runtime(settings) as runtime:
        stop = asyncio.Event()
        worker = asyncio.create_task(bootstrap.run_worker(runtime, stop))
        await runtime.ports.inbox.record(
            "w-1", event_type="health.check", payload=b'{"type": "health.check"}',
            received_at=runtime.ports.clock.now(),
        )  # fmt: skip
        for _ in range(250):
            event = await runtime.ports.inbox.get("w-1")
            if event is not None and event.state is InboxState.DONE:
                break
            await asyncio.sleep(0.02)
        stop.set()
        await asyncio.wait_for(worker, timeout=10)
        assert (await runtime.ports.inbox.get("w-1")).state is InboxState.DONE  # type: ignore[union-attr]
        assert runtime.ports.metrics.value(Counted.EVENTS_PROCESSED, kind="other") == 1


# -- the events command ----------------------------------------------------------------------


# The CLI needs a MONGODB_URI to look at the inbox; the double answers in its place.
NEVER_USED = "mongodb://127.0.0.1:1/never-used"


@pytest.fixture
def double_mongo(monkeypatch: pytest.MonkeyPatch) -> DoubleClient:
    """`open_mongo` on one in-process MongoDB double shared by every command run."""
    double = DoubleClient()

    async def open_on_double(uri: str, database: str) -> MongoStores:
        return await open_mongo_stores(cast(MongoClient, double), "yc_chat_cli")

    monkeypatch.setattr(bootstrap, "open_mongo_stores", open_on_double)
    return double


def test_events_lists_parked_events_and_retries_one(
    double_mongo: DoubleClient, capsys: pytest.CaptureFixture[str]
) -> None:
    async def park_one() -> None:
        async with bootstrap.open_mongo(Settings(mongodb_uri=NEVER_USED)) as stores:
            now = datetime.now(UTC)
            await stores.inbox.record(
                "evt-bad", event_type="message.new", payload=b"{}", received_at=now
            )
            [leased] = await stores.inbox.lease(now=now, until=now, limit=1, lease_id="w")
            await stores.inbox.park(leased, reason="ProviderFailed: Stream said no", now=now)

    asyncio.run(park_one())
    env = {"MONGODB_URI": NEVER_USED}
    assert cli.main(["events"], env=env) == 0
    listed = capsys.readouterr().out
    assert "parked 1" in listed
    assert re.search(r"evt-bad\s+message.new\s+1\s+.*ProviderFailed: Stream said no", listed)
    assert cli.main(["events", "retry", "evt-bad"], env=env) == 0
    assert "queued again" in capsys.readouterr().out
    assert cli.main(["events", "retry", "evt-bad"], env=env) == 1
    assert "no parked event" in capsys.readouterr().err
    assert cli.main(["events"], env=env) == 0
    assert "no parked events" in capsys.readouterr().out


def test_events_without_mongodb_explains_where_the_inbox_is(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Without MongoDB there is no inbox this process can see: a mistake, not an empty list.
    assert cli.main(["events"], env={}) == 2
    assert "MONGODB_URI is not set" in capsys.readouterr().err
    assert cli.main(["events", "retry", "abc"], env={}) == 2
    assert "MONGODB_URI is not set" in capsys.readouterr().err


# -- the Prometheus text format ------------------------------------------------------------


def _samples(text: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            found[key] = float(value.replace("+Inf", "inf"))
    return found


def test_the_text_format_has_help_types_escapes_and_cumulative_buckets() -> None:
    metrics = PrometheusMetrics(buckets=(0.1, 1.0))
    metrics.count(Counted.PUSHES_FAILED, reason="retry")
    metrics.count(Counted.PUSHES_FAILED, 2, reason='we"ird\\\nlabel')
    for seconds in (0.05, 0.5, 5.0):
        metrics.observe(Timed.EVENT_HANDLING, seconds, kind="message_posted")
    with metrics.time(Timed.PUSH_SEND):
        pass
    text = metrics.render(
        [Gauge(name="inbox_events", help="By state.", samples={(("state", "parked"),): 3})]
    )
    assert text.endswith("\n")
    assert "# TYPE yc_chat_pushes_failed_total counter" in text
    assert "# HELP yc_chat_event_handling_seconds Time to handle one inbox event, by kind." in text
    assert "# TYPE yc_chat_event_handling_seconds histogram" in text
    assert "# TYPE yc_chat_inbox_events gauge" in text
    samples = _samples(text)
    assert samples['yc_chat_pushes_failed_total{reason="retry"}'] == 1
    assert samples['yc_chat_pushes_failed_total{reason="we\\"ird\\\\\\nlabel"}'] == 2
    assert samples["yc_chat_webhooks_received_total"] == 0  # exported before it ever moves
    bucket = 'yc_chat_event_handling_seconds_bucket{kind="message_posted",le="%s"}'
    # prometheus-client writes bounds as Go does (1.0); Prometheus reads both alike.
    assert [samples[bucket % le] for le in ("0.1", "1.0", "+Inf")] == [1, 2, 3]
    assert samples['yc_chat_event_handling_seconds_count{kind="message_posted"}'] == 3
    assert samples['yc_chat_event_handling_seconds_sum{kind="message_posted"}'] == 5.55
    assert samples["yc_chat_push_send_seconds_count"] == 1
    assert samples['yc_chat_inbox_events{state="parked"}'] == 3
    with pytest.raises(ValueError, match="label"):
        metrics.count(Counted.PUSHES_SENT, **{"bad-name": "x"})
    with pytest.raises(ValueError, match="up"):
        metrics.count(Counted.PUSHES_SENT, -1)
