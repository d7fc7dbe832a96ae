"""The app's event hooks (UpdateApp's `event_hooks`, Stream's `EventHook`): more webhook
destinations beside `webhook_url`, each for all events or the `event_types` it lists.

A `webhook` hook is delivered to like `webhook_url` (signed, retried; see `webhooks`). A
`pending_message` hook is kept and listed (the emulator does not call pending-message
callbacks). SQS and SNS hooks are push-provider integrations, out of the emulator's scope:
refused as not supported. An update replaces the whole list, as Stream's does.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Final

import attrs

from stream_emulator.state import payloads
from stream_emulator.state.errors import input_error

ENDPOINT: Final = "UpdateApp"
WEBHOOK: Final = "webhook"
PENDING_MESSAGE: Final = "pending_message"
NOT_MODELLED: Final = frozenset({"sqs", "sns"})
CALLBACK_MODES: Final = frozenset(
    {"CALLBACK_MODE_NONE", "CALLBACK_MODE_REST", "CALLBACK_MODE_TWIRP"}
)
_FIELDS: Final = frozenset(
    {"id", "hook_type", "webhook_url", "event_types", "enabled", "timeout_ms", "callback"}
)
MAX_HOOKS: Final = 100


@attrs.frozen(kw_only=True)
class EventHook:
    """One hook: where to, for which events, and whether it is on."""

    id: str
    hook_type: str
    webhook_url: str
    event_types: tuple[str, ...] = ()
    enabled: bool = True
    timeout_ms: int | None = None
    callback_mode: str | None = None
    created_at: datetime
    updated_at: datetime

    def delivers(self, event_type: str) -> bool:
        """Whether this hook receives events of `event_type` (no types listed: all)."""
        return (
            self.enabled
            and self.hook_type == WEBHOOK
            and (not self.event_types or event_type in self.event_types)
        )

    def as_json(self) -> dict[str, object]:
        """The hook as GetApp lists it."""
        body: dict[str, object] = {
            "id": self.id,
            "hook_type": self.hook_type,
            "webhook_url": self.webhook_url,
            "event_types": list(self.event_types),
            "enabled": self.enabled,
            "product": "chat",
            "created_at": payloads.format_time(self.created_at),
            "updated_at": payloads.format_time(self.updated_at),
        }
        if self.timeout_ms is not None:
            body["timeout_ms"] = self.timeout_ms
        if self.callback_mode is not None:
            body["callback"] = {"mode": self.callback_mode}
        return body


def parse_hooks(value: object, now: datetime) -> tuple[EventHook, ...]:
    """UpdateApp's `event_hooks`: the new list, checked; 400 (code 4) for anything off."""
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise input_error(ENDPOINT, "event_hooks must be a list of objects")
    if len(value) > MAX_HOOKS:
        raise input_error(ENDPOINT, f"at most {MAX_HOOKS} event hooks")
    return tuple(_hook(item, now) for item in value)


def _hook(item: Mapping[str, object], now: datetime) -> EventHook:
    kind = item.get("hook_type", WEBHOOK)
    if kind in NOT_MODELLED:
        raise input_error(ENDPOINT, f"{kind} event hooks are not supported by the emulator")
    if kind not in (WEBHOOK, PENDING_MESSAGE):
        raise input_error(
            ENDPOINT, f"hook_type must be one of webhook, sqs, sns, {PENDING_MESSAGE}"
        )
    unknown = sorted(set(item) - _FIELDS)
    if unknown:
        raise input_error(ENDPOINT, f"event hook fields not modelled: {', '.join(unknown)}")
    url = item.get("webhook_url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise input_error(ENDPOINT, "an event hook's webhook_url must be an http(s) URL")
    return EventHook(
        id=_string(item.get("id"), "id") or str(uuid.uuid4()),
        hook_type=str(kind),
        webhook_url=url,
        event_types=_event_types(item.get("event_types")),
        enabled=_flag(item.get("enabled", True)),
        timeout_ms=_timeout(item.get("timeout_ms")),
        callback_mode=_callback(item.get("callback")),
        created_at=now,
        updated_at=now,
    )


def _string(value: object, what: str) -> str | None:
    if value is not None and (not isinstance(value, str) or not value):
        raise input_error(ENDPOINT, f"an event hook's {what} must be a non-empty string")
    return value


def _event_types(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(t, str) and t for t in value):
        raise input_error(ENDPOINT, "event_types must be a list of event types")
    return tuple(dict.fromkeys(value))


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise input_error(ENDPOINT, "an event hook's enabled must be a boolean")
    return value


def _timeout(value: object) -> int | None:
    if value is None:
        return None
    if type(value) is not int or not 1 <= value <= 60_000:
        raise input_error(ENDPOINT, "timeout_ms must be between 1 and 60000")
    return value


def _callback(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or set(value) - {"mode"}:
        raise input_error(ENDPOINT, "callback takes a mode only in the emulator")
    mode = value.get("mode", "CALLBACK_MODE_NONE")
    if mode not in CALLBACK_MODES:
        raise input_error(ENDPOINT, f"callback.mode must be one of {sorted(CALLBACK_MODES)}")
    return str(mode)


def webhook_targets(
    webhook_url: str | None, hooks: Sequence[EventHook], event_type: str
) -> list[str]:
    """Where an event of `event_type` is delivered: `webhook_url`, then the hooks for it."""
    urls = [webhook_url] if webhook_url else []
    urls.extend(hook.webhook_url for hook in hooks if hook.delivers(event_type))
    return list(dict.fromkeys(urls))
