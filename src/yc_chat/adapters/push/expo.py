"""ExpoNotifier: push through Expo's push service (the React Native app's tokens).

Expo's HTTP API takes up to 100 messages per `POST /--/api/v2/push/send` and answers one
ticket per message, in order: `{"status": "ok"}` or `{"status": "error", "details":
{"error": "DeviceNotRegistered" | "MessageRateExceeded" | ...}}`. Tokens reported as
`DeviceNotRegistered` are forgotten. Receipts (the second, asynchronous phase) are not
polled: a token that dies later is reported on a later send.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import httpx

from yc_chat.adapters.push._delivery import DeviceResult, deliver, push_data
from yc_chat.domain.model import Device, Notification, PushOutcome
from yc_chat.ports import DeviceRegistry

EXPO_BASE_URL = "https://exp.host"
SEND_PATH = "/--/api/v2/push/send"
BATCH_LIMIT = 100  # Expo's limit of messages per request
_RETRY_ERRORS = frozenset({"MessageRateExceeded"})

_logger = logging.getLogger("yc_chat.push.expo")


class ExpoNotifier:
    """A Notifier on Expo's push API; devices from the DeviceRegistry."""

    def __init__(
        self,
        devices: DeviceRegistry,
        *,
        base_url: str = EXPO_BASE_URL,
        access_token: str | None = None,
        timeout: float = 10.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if access_token:
            headers["Authorization"] = f"Bearer {access_token}"
        self._devices = devices
        self._url = base_url.rstrip("/") + SEND_PATH
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(timeout=timeout)
        self._headers = headers

    async def notify(self, notifications: Sequence[Notification]) -> Sequence[PushOutcome]:
        """Send each notification to every Expo token of its recipient."""

        async def send(pairs: list[tuple[Notification, Device]]) -> Sequence[DeviceResult]:
            return await self._send([_message(n, d) for n, d in pairs])

        return await deliver(self._devices, notifications, batch=BATCH_LIMIT, send=send)

    async def aclose(self) -> None:
        """Close the HTTP client if this notifier created it."""
        if self._owns_client:
            await self._client.aclose()

    async def _send(self, messages: list[dict[str, Any]]) -> list[DeviceResult]:
        try:
            response = await self._client.post(self._url, json=messages, headers=self._headers)
        except httpx.HTTPError as exc:
            _logger.warning("expo push unreachable", extra={"error_type": type(exc).__name__})
            return [DeviceResult.RETRY] * len(messages)
        if response.status_code == 429 or response.status_code >= 500:
            _logger.warning("expo push unavailable", extra={"status": response.status_code})
            return [DeviceResult.RETRY] * len(messages)
        if response.status_code != 200:
            _logger.error("expo push refused the request", extra={"status": response.status_code})
            return [DeviceResult.REJECTED] * len(messages)
        try:
            tickets = response.json()["data"]
        except (ValueError, KeyError, TypeError):
            tickets = None
        if not isinstance(tickets, list) or len(tickets) != len(messages):
            _logger.warning("expo push answered without one ticket per message")
            return [DeviceResult.RETRY] * len(messages)
        return [_ticket_result(ticket) for ticket in tickets]


def _message(notification: Notification, device: Device) -> dict[str, Any]:
    message: dict[str, Any] = {
        "to": device.token,
        "title": notification.title,
        "body": notification.body,
        "data": push_data(notification),
        "sound": "default",
    }
    if notification.collapse_id is not None:
        # A repeat of one push (a send in flight at a crash) shown once: Expo passes
        # `collapseId` on as FCM's collapse key and APNs' `apns-collapse-id`, and `tag`
        # as the Android notification tag that replaces one already shown.
        message["collapseId"] = notification.collapse_id
        message["tag"] = notification.collapse_id
    return message


def _ticket_result(ticket: Any) -> DeviceResult:
    if not isinstance(ticket, dict):
        return DeviceResult.RETRY
    if ticket.get("status") == "ok":
        return DeviceResult.DELIVERED
    details = ticket.get("details")
    error = details.get("error") if isinstance(details, dict) else None
    if error == "DeviceNotRegistered":
        return DeviceResult.UNREGISTERED
    # The ticket's message can quote the token: log the error code only.
    _logger.warning("expo push ticket error", extra={"error": str(error)})
    return DeviceResult.RETRY if error in _RETRY_ERRORS else DeviceResult.REJECTED
