"""Nothing is dropped silently: a webhook event the worker cannot act on (a channel Stream
does not have, a channel yc-chat did not create, a payload lacking what acting needs) is
done, counted by reason, and logged once at WARNING with its id, never its content."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from yc_chat.domain.inbox import InboxState
from yc_chat.domain.metrics import Counted
from yc_chat.entrypoints import bootstrap
from yc_chat.entrypoints.runtime import Runtime
from yc_chat.entrypoints.settings import Settings

SECRET_TEXT = "the pet's diagnosis, never logged"


def _message(channel_id: str, sender: str | None = "vet-1") -> bytes:
    message: dict[str, object] = {"id": f"m-{channel_id}", "text": SECRET_TEXT, "type": "regular"}
    if sender is not None:
        message["user"] = {"id": sender}
    return json.dumps(
        {"type": "message.new", "cid": f"messaging:{channel_id}", "channel_id": channel_id,
         "message": message}
    ).encode()  # fmt: skip


async def _handle(runtime: Runtime, events: dict[str, bytes]) -> None:
    stop = asyncio.Event()
    worker = asyncio.create_task(bootstrap.run_worker(runtime, stop))
    for event_id, payload in events.items():
        await runtime.ports.inbox.record(
            event_id, event_type="message.new", payload=payload,
            received_at=runtime.ports.clock.now(),
        )  # fmt: skip
    for _ in range(250):
        states = [await runtime.ports.inbox.get(event_id) for event_id in events]
        if all(e is not None and e.state is InboxState.DONE for e in states):
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(worker, timeout=10)


async def test_events_that_cannot_be_acted_on_are_counted_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = Settings.from_env({"WORKER_POLL_SECONDS": "0.02"})
    async with bootstrap.open_runtime(settings) as runtime:
        assert runtime.emulator is not None
        # A channel in Stream that yc-chat did not create (no org): someone else's.
        runtime.emulator.control.state.upsert_users([{"id": "vet-1"}])
        runtime.emulator.control.state.get_or_create_channel(
            "messaging", "someone-elses", created_by_id="vet-1", members=["vet-1"]
        )
        events = {
            "evt-unknown": _message("no-such-channel"),
            "evt-foreign": _message("someone-elses"),
            "evt-malformed": _message("no-sender", sender=None),
        }
        with caplog.at_level(logging.INFO):
            await _handle(runtime, events)

        for event_id in events:
            event = await runtime.ports.inbox.get(event_id)
            assert event is not None and event.state is InboxState.DONE
        metrics = runtime.ports.metrics
        for reason in ("channel_unknown", "not_ours", "malformed"):
            assert (
                metrics.value(Counted.EVENTS_IGNORED, kind="message_posted", reason=reason)
                + (  # type: ignore[attr-defined]
                    metrics.value(Counted.EVENTS_IGNORED, kind="other", reason=reason)  # type: ignore[attr-defined]
                )
                == 1
            ), reason
    warnings = [r for r in caplog.records if r.getMessage() == "webhook event not acted on"]
    assert sorted(getattr(r, "event_id", None) for r in warnings) == sorted(events)
    assert all(r.levelno == logging.WARNING for r in warnings)
    assert {getattr(r, "reason", None) for r in warnings} == {
        "channel_unknown", "not_ours", "malformed"
    }  # fmt: skip
    assert SECRET_TEXT not in caplog.text
