"""The Python handle on an emulator: its Stream state, fault switches and webhook target."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime

import attrs

from stream_emulator.auth import Authenticator
from stream_emulator.event_hooks import EventHook, webhook_targets
from stream_emulator.state import StreamAPIError, StreamState, system_clock
from stream_emulator.state.events import EventBus
from stream_emulator.state.realtime import Realtime
from stream_emulator.state.uploads import Uploads
from stream_emulator.webhooks import (
    DeliveryStats,
    WebhookDispatcher,
    WebhookSettings,
)


@attrs.frozen(kw_only=True)
class Faults:
    """What the emulator does wrong on purpose: fail with a status, answer late, or both."""

    fail_status: int | None = None
    # How many more requests fail; None while `fail_status` is set means "until healed".
    fail_remaining: int | None = None
    # Only requests whose "METHOD /path" is this fail; None: every request.
    fail_only: str | None = None
    delay: float = 0.0


class EmulatorControl:
    """Thread-safe switches for tests and tools; the app reads them on every request."""

    def __init__(
        self,
        state: StreamState,
        *,
        api_key: str,
        api_secret: str,
        webhook_url: str | None = None,
        webhook: WebhookSettings | None = None,
        clock: Callable[[], datetime] = system_clock,
    ) -> None:
        # Reentrant: an event emitted while a switch is held must still reach the webhook.
        self._lock = threading.RLock()
        self._state = state
        self._faults = Faults()
        self._webhook_url = webhook_url
        self._event_hooks: tuple[EventHook, ...] = ()
        self._requests: Counter[str] = Counter()
        self.authenticator = Authenticator(api_key=api_key, api_secret=api_secret, clock=clock)
        self.clock = clock
        self.dispatcher = WebhookDispatcher(
            api_key=api_key,
            api_secret=api_secret,
            targets=self.webhook_targets,
            settings=webhook or WebhookSettings(),
        )
        # Consumers of the simulation's events (webhook delivery; any realtime layer)
        # subscribe here, not to the state, so that `reset` does not cut them off.
        self.events = EventBus()
        self.events.subscribe(self.dispatcher.submit)
        self._unsubscribe = state.subscribe(self.events.emit)
        self.realtime = Realtime(state)
        self.uploads = Uploads()
        self.events.subscribe(self.realtime.publish)

    def __repr__(self) -> str:
        return f"EmulatorControl(api_key={self.api_key!r}, webhook_url={self.webhook_url!r})"

    @property
    def api_key(self) -> str:
        """The app's API key (public, as Stream's is)."""
        return self.authenticator.api_key

    @property
    def state(self) -> StreamState:
        """The Stream app the emulator serves."""
        with self._lock:
            return self._state

    def reset(self, state: StreamState | None = None) -> StreamState:
        """Serve `state` (a fresh empty app by default) from now on; returns it."""
        fresh = state if state is not None else StreamState(clock=self.clock)
        with self._lock:
            self._unsubscribe()
            self._state = fresh
            self._unsubscribe = fresh.subscribe(self.events.emit)
            self._faults = Faults()
            # Set through the API like the rest of the app: a fresh app has none.
            self._event_hooks = ()
            self._requests.clear()
            self.realtime.reset(fresh)
            self.uploads.clear()
        return fresh

    @property
    def webhook_url(self) -> str | None:
        """Where events are POSTed; None turns delivery off."""
        with self._lock:
            return self._webhook_url

    @webhook_url.setter
    def webhook_url(self, url: str | None) -> None:
        with self._lock:
            self._webhook_url = url or None

    @property
    def event_hooks(self) -> tuple[EventHook, ...]:
        """The app's event hooks (more webhook destinations, per event type)."""
        with self._lock:
            return self._event_hooks

    @event_hooks.setter
    def event_hooks(self, hooks: tuple[EventHook, ...]) -> None:
        with self._lock:
            self._event_hooks = hooks

    def webhook_targets(self, event_type: str) -> list[str]:
        """The URLs an event of `event_type` is POSTed to."""
        with self._lock:
            return webhook_targets(self._webhook_url, self._event_hooks, event_type)

    @property
    def webhook_stats(self) -> DeliveryStats:
        """Delivery counters."""
        return self.dispatcher.stats

    # -- faults ---------------------------------------------------------------------------

    def fail(
        self, status_code: int = 503, *, count: int | None = None, only: str | None = None
    ) -> None:
        """Answer every request (or the next `count`) with `status_code` in Stream's shape.

        `only` ("POST /channels/messaging/x") limits the failure to that one endpoint.
        """
        if not 400 <= status_code <= 599:
            raise ValueError("status_code must be an HTTP error status")
        if count is not None and count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._faults = attrs.evolve(
                self._faults, fail_status=status_code, fail_remaining=count, fail_only=only
            )

    def slow(self, seconds: float) -> None:
        """Answer every request `seconds` late (0 for on time)."""
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        with self._lock:
            self._faults = attrs.evolve(self._faults, delay=seconds)

    def heal(self) -> None:
        """Switch every fault off."""
        with self._lock:
            self._faults = Faults()

    @property
    def faults(self) -> Faults:
        """The faults now in force."""
        with self._lock:
            return self._faults

    def take_failure(self, request_line: str) -> StreamAPIError | None:
        """The error this request ("METHOD /path") must fail with, counted down; None if none."""
        with self._lock:
            faults = self._faults
            if faults.fail_status is None:
                return None
            if faults.fail_only is not None and faults.fail_only != request_line:
                return None
            remaining = faults.fail_remaining
            if remaining is not None:
                left = remaining - 1
                self._faults = attrs.evolve(
                    faults,
                    fail_status=faults.fail_status if left > 0 else None,
                    fail_remaining=left if left > 0 else None,
                    fail_only=faults.fail_only if left > 0 else None,
                )
            return StreamAPIError.for_status(
                faults.fail_status, f"injected failure with status {faults.fail_status}"
            )

    # -- traffic --------------------------------------------------------------------------

    def count_request(self, request_line: str) -> None:
        """Note one request ("METHOD /path")."""
        with self._lock:
            self._requests[request_line] += 1

    def requests(self) -> Counter[str]:
        """How many requests each "METHOD /path" got since the last reset."""
        with self._lock:
            return Counter(self._requests)

    # -- lifespan -------------------------------------------------------------------------

    async def start(self) -> None:
        """Start webhook delivery and live events (the app's startup hook)."""
        self.realtime.bind(asyncio.get_running_loop())
        await self.dispatcher.start()

    async def stop(self) -> None:
        """Stop webhook delivery (the app's shutdown hook)."""
        await self.dispatcher.stop()
