"""Webhook delivery as Stream does it: signed POSTs of each event, retried with backoff.

Every event is one POST of its JSON to each configured URL (the app's `webhook_url` and the
event hooks for its type, see `event_hooks`) with
`X-Signature` (lowercase hex HMAC-SHA256 of the exact body bytes under the app secret),
`X-Webhook-Id` (one id per event, the same on every attempt, so receivers can deduplicate),
`X-Webhook-Attempt` (1, 2, ...) and `X-Api-Key`. A timeout, a connection failure, 408, 429
or a 5xx is retried after a capped exponential backoff with jitter, a bounded number of
times; any other answer ends the delivery. Events go out one at a time, in order, from one
background task that the app's lifespan starts and stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Final

import attrs
import httpx

from stream_emulator.state.parsing import clean_json

LOG = logging.getLogger(__name__)
RETRY_STATUSES: Final = frozenset({408, 429})
USER_AGENT: Final = "yc-chat-stream-emulator-webhook"


def sign(body: bytes, secret: str) -> str:
    """Stream's webhook signature: lowercase hex HMAC-SHA256 of the body under the secret."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@attrs.frozen(kw_only=True)
class WebhookSettings:
    """Delivery timing: per-attempt timeout and the bounded retry schedule."""

    timeout: float = attrs.field(default=5.0, validator=attrs.validators.gt(0))
    max_attempts: int = attrs.field(default=5, validator=attrs.validators.ge(1))
    backoff_base: float = attrs.field(default=0.5, validator=attrs.validators.ge(0))
    backoff_max: float = attrs.field(default=10.0, validator=attrs.validators.ge(0))

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """The pause after failed attempt number `attempt`: half fixed, half jitter."""
        ceiling = min(self.backoff_max, self.backoff_base * (2.0 ** (attempt - 1)))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


@attrs.frozen(kw_only=True)
class _Delivery:
    webhook_id: str
    event_type: str
    body: bytes
    url: str


@attrs.define
class DeliveryStats:
    """Counts for tests and logs: events delivered, given up on, and attempts made."""

    delivered: int = 0
    failed: int = 0
    attempts: int = 0


class WebhookDispatcher:
    """Queues events (from any thread) and POSTs them from one task on the app's loop."""

    def __init__(
        self,
        *,
        api_key: str,
        api_secret: str,
        targets: Callable[[str], Sequence[str]],
        settings: WebhookSettings,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._api_key = api_key
        self._api_secret = api_secret
        self._targets = targets
        self._settings = settings
        self._sleep = sleep
        # Jitter spreads retries out; no cryptographic randomness needed.
        self._rng = random.Random()  # noqa: S311
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[_Delivery] | None = None
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None
        self.stats = DeliveryStats()

    def __repr__(self) -> str:
        return f"WebhookDispatcher(api_key={self._api_key!r})"

    def submit(self, event: Mapping[str, object]) -> None:
        """Queue one event for delivery to each URL it goes to; dropped when there is none
        or the task is stopped."""
        loop, queue = self._loop, self._queue
        event_type = str(event.get("type", ""))
        urls = self._targets(event_type)
        if loop is None or queue is None or not urls:
            return
        body = json.dumps(clean_json(event), separators=(",", ":"), ensure_ascii=False).encode()
        for url in urls:
            delivery = _Delivery(
                webhook_id=str(uuid.uuid4()), event_type=event_type, body=body, url=url
            )
            # The simulation emits events on whichever thread changed it; hand over.
            loop.call_soon_threadsafe(queue.put_nowait, delivery)

    async def start(self) -> None:
        """Start the delivery task on the running loop."""
        if self._task is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        self._client = httpx.AsyncClient(timeout=self._settings.timeout)
        self._task = asyncio.create_task(self._run(), name="stream-emulator-webhooks")

    async def stop(self) -> None:
        """Stop delivering (undelivered events are dropped) and close the HTTP client."""
        task, client = self._task, self._client
        self._task, self._client, self._loop, self._queue = None, None, None, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if client is not None:
            await client.aclose()

    async def _run(self) -> None:
        queue, client = self._queue, self._client
        assert queue is not None
        assert client is not None
        while True:
            delivery = await queue.get()
            try:
                await self._deliver(client, delivery)
            except Exception:
                # One broken delivery must not stop the ones behind it.
                LOG.exception("webhook delivery crashed: id=%s", delivery.webhook_id)

    async def _deliver(self, client: httpx.AsyncClient, delivery: _Delivery) -> None:
        settings = self._settings
        signature = sign(delivery.body, self._api_secret)
        for attempt in range(1, settings.max_attempts + 1):
            url = delivery.url
            if url not in self._targets(delivery.event_type):
                return  # no longer a destination of these events: stop retrying
            self.stats.attempts += 1
            headers = {
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "X-Signature": signature,
                "X-Webhook-Id": delivery.webhook_id,
                "X-Webhook-Attempt": str(attempt),
                "X-Api-Key": self._api_key,
            }
            outcome: str
            try:
                response = await client.post(url, content=delivery.body, headers=headers)
            except httpx.TimeoutException:
                outcome = "timeout"
            except httpx.TransportError as exc:
                outcome = f"transport error {type(exc).__name__}"
            else:
                if response.is_success:
                    self.stats.delivered += 1
                    return
                if response.status_code not in RETRY_STATUSES and response.status_code < 500:
                    LOG.warning(
                        "webhook refused, not retried: id=%s type=%s status=%d",
                        delivery.webhook_id,
                        delivery.event_type,
                        response.status_code,
                    )
                    self.stats.failed += 1
                    return
                outcome = f"status {response.status_code}"
            if attempt < settings.max_attempts:
                LOG.info(
                    "webhook attempt failed, retrying: id=%s attempt=%d outcome=%s",
                    delivery.webhook_id,
                    attempt,
                    outcome,
                )
                await self._sleep(settings.backoff(attempt, self._rng))
        LOG.warning(
            "webhook given up: id=%s type=%s attempts=%d",
            delivery.webhook_id,
            delivery.event_type,
            settings.max_attempts,
        )
        self.stats.failed += 1
