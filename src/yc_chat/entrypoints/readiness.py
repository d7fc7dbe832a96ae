"""Readiness: every required part answers; a part with a working fallback only degrades it.

`/readyz` answers 503 when a store or the chat provider does not answer (a load balancer
should send nothing here), and 200 `degraded` when only a part with a fallback is down:
Redis, whose rate-limit counters then live in each process. Draining every instance for
that would turn a Redis outage into a chat outage. Entering and leaving the degraded state
is logged once each, and `yc_chat_degraded{part=...}` says it on every scrape.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Literal

import attrs

from yc_chat.domain import errors
from yc_chat.domain.metrics import Gauge
from yc_chat.ports import ChatProvider, ChatProviderSetup

logger = logging.getLogger("yc_chat.health")

Status = Literal["ready", "degraded", "unready"]
# A readiness check: returns when the dependency answers, raises otherwise.
Probe = Callable[[], Awaitable[None]]


@attrs.frozen(kw_only=True)
class Fallback:
    """A part the service can run without: how to ask it, and what works instead."""

    probe: Probe
    # Said in the log when the part goes down, e.g. "rate limits are counted per process".
    meaning: str


@attrs.frozen(kw_only=True)
class ReadinessReport:
    """The outcome of one readiness check."""

    status: Status
    # Per part: "ok", "degraded" (its fallback is working) or "failed".
    checks: Mapping[str, str]

    @property
    def failed(self) -> list[str]:
        return [name for name, state in self.checks.items() if state == "failed"]

    @property
    def degraded(self) -> list[str]:
        return [name for name, state in self.checks.items() if state == "degraded"]


async def _answers(name: str, probe: Probe, limit: float) -> bool:
    try:
        await asyncio.wait_for(probe(), timeout=limit)
    except Exception as exc:
        # The exception text may carry a connection URL with credentials: log its type only.
        logger.debug("probe failed", extra={"probe": name, "error_type": type(exc).__name__})
        return False
    return True


async def check_degradable(
    degradable: Mapping[str, Fallback], readiness: Readiness, limit: float
) -> dict[str, bool]:
    """Ask each part that has a fallback; True where it answered. Remembers the outcome."""
    names = list(degradable)
    answers = await asyncio.gather(
        *(_answers(name, degradable[name].probe, limit) for name in names)
    )
    outcome = dict(zip(names, answers, strict=True))
    for name, ok in outcome.items():
        readiness.note(name, degraded=not ok, fallback=degradable[name])
    return outcome


async def check_readiness(
    probes: Mapping[str, Probe],
    degradable: Mapping[str, Fallback],
    readiness: Readiness,
    limit: float,
) -> ReadinessReport:
    """Ping every required part and every part with a fallback, concurrently."""
    names = list(probes)
    required, optional = await asyncio.gather(
        asyncio.gather(*(_answers(name, probes[name], limit) for name in names)),
        check_degradable(degradable, readiness, limit),
    )
    checks = {name: "ok" if ok else "failed" for name, ok in zip(names, required, strict=True)}
    for name in names:
        if checks[name] == "failed":
            logger.warning("readiness probe failed", extra={"probe": name})
    checks.update({name: "ok" if ok else "degraded" for name, ok in optional.items()})
    status: Status = "ready"
    if "failed" in checks.values():
        status = "unready"
    elif "degraded" in checks.values():
        status = "degraded"
    return ReadinessReport(status=status, checks=checks)


@attrs.define
class Readiness:
    """Which parts with a fallback are down now; says so once per change."""

    _degraded: dict[str, bool] = attrs.field(factory=dict)

    def note(self, part: str, *, degraded: bool, fallback: Fallback) -> None:
        """Record the latest answer of `part`; log only when its state changes."""
        before = self._degraded.get(part, False)
        self._degraded[part] = degraded
        if degraded and not before:
            logger.warning(
                "degraded: %s is unreachable; %s", part, fallback.meaning, extra={"part": part}
            )
        elif before and not degraded:
            logger.info("recovered: %s answers again", part, extra={"part": part})

    def gauges(self, parts: Mapping[str, Fallback]) -> list[Gauge]:
        """`degraded{part=...}`: 1 while a part runs on its fallback, else 0."""
        if not parts:
            return []
        return [
            Gauge(
                name="degraded",
                help="1 while a part is unreachable and its fallback is in use, by part.",
                samples={
                    (("part", part),): 1.0 if self._degraded.get(part, False) else 0.0
                    for part in parts
                },
            )
        ]


def setup_of(chat: ChatProvider) -> ChatProviderSetup | None:
    """The provider's setup side, when the adapter has one (both Stream adapters do)."""
    if callable(getattr(chat, "setup_missing", None)) and callable(
        getattr(chat, "apply_setup", None)
    ):
        return chat  # type: ignore[return-value]
    return None


async def require_setup(setup: ChatProviderSetup) -> None:
    """The readiness probe of `yc-chat stream setup`: fails while any part is missing."""
    missing = await setup.setup_missing()
    if missing:
        raise errors.ProviderFailed(
            "The chat provider's setup is not applied: run `yc-chat stream setup`"
        )


def with_setup_probe(probes: Mapping[str, Probe], chat: ChatProvider) -> dict[str, Probe]:
    """`probes` and, for a provider with a setup side, the `setup` probe (`/readyz`)."""
    found = dict(probes)
    setup = setup_of(chat)
    if setup is not None:
        found["setup"] = functools.partial(require_setup, setup)
    return found
