"""FcmNotifier: push through Firebase Cloud Messaging with the official `firebase-admin` SDK.

Messages go out with `messaging.send_each_async` (FCM HTTP v1, one request per device,
concurrently). The SDK answers per message; `UNREGISTERED` (HTTP 404) means the token is
dead, and it is forgotten.

Two things the SDK does not offer are added here:

- A base URL for the FCM endpoint, so tests and emulators can stand in for Google. The SDK
  hard-codes `https://fcm.googleapis.com` in a private attribute of its messaging service;
  `_point_at` replaces it and refuses to start if that attribute is ever missing, rather
  than silently sending to Google. (The OAuth token endpoint needs no override: it is the
  `token_uri` of the credentials file.)
- Token refreshes off the event loop. The SDK's async client refreshes the OAuth token
  with a blocking `requests` call inside the request; refreshing first in a thread, when
  the token is missing or expiring, keeps the loop free.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import warnings
from collections.abc import Sequence
from typing import Any

import firebase_admin
from firebase_admin import credentials, exceptions, messaging
from google.auth.transport.requests import Request as GoogleAuthRequest

from yc_chat.adapters.push._delivery import DeviceResult, deliver, push_data
from yc_chat.domain.model import Device, Notification, PushOutcome
from yc_chat.ports import DeviceRegistry

SEND_LIMIT = 500  # the SDK's limit of messages per send_each call
_RETRY = (
    exceptions.UnavailableError,
    exceptions.InternalError,
    exceptions.DeadlineExceededError,
    exceptions.ResourceExhaustedError,
    exceptions.UnknownError,
)

_logger = logging.getLogger("yc_chat.push.fcm")


class FcmConfigError(ValueError):
    """The FCM credentials or endpoint cannot be used."""


def _point_at(app: firebase_admin.App, base_url: str) -> None:
    """Send this app's FCM requests to `base_url` instead of Google (tests, emulators)."""
    # Private SDK attributes, on purpose: see the module docstring.
    service = messaging._get_messaging_service(app)
    if not isinstance(getattr(service, "_fcm_url", None), str):
        raise FcmConfigError(
            "this firebase-admin version keeps its FCM endpoint elsewhere: FCM_BASE_URL "
            "cannot be honoured"
        )
    service._fcm_url = f"{base_url.rstrip('/')}/v1/projects/{app.project_id}/messages:send"


class FcmNotifier:
    """A Notifier on FCM; devices from the DeviceRegistry."""

    def __init__(self, devices: DeviceRegistry, app: firebase_admin.App) -> None:
        self._devices = devices
        self._app = app
        self._credential: Any = app.credential.get_credential()
        self._refreshing = asyncio.Lock()

    @classmethod
    def open(
        cls,
        devices: DeviceRegistry,
        *,
        credentials_file: str,
        base_url: str | None = None,
        timeout_seconds: int = 10,
    ) -> FcmNotifier:
        """A notifier on its own Firebase app, from a service-account JSON file."""
        try:
            certificate = credentials.Certificate(credentials_file)
        except (OSError, ValueError) as exc:
            # The message names the file, never its contents (a private key).
            raise FcmConfigError(
                f"FCM_CREDENTIALS_FILE {credentials_file!r} is not a readable service-account "
                f"key: {type(exc).__name__}"
            ) from None
        app = firebase_admin.initialize_app(
            certificate,
            options={"httpTimeout": timeout_seconds},
            name=f"yc-chat-{uuid.uuid4().hex}",
        )
        try:
            if base_url is not None:
                _point_at(app, base_url)
        except BaseException:
            firebase_admin.delete_app(app)
            raise
        return cls(devices, app)

    async def notify(self, notifications: Sequence[Notification]) -> Sequence[PushOutcome]:
        """Send each notification to every FCM token of its recipient."""

        async def send(pairs: list[tuple[Notification, Device]]) -> Sequence[DeviceResult]:
            return await self._send([_message(n, d.token) for n, d in pairs])

        return await deliver(
            self._devices,
            notifications,
            batch=SEND_LIMIT,
            send=send,
            before_first_send=self._fresh_token,
        )

    async def aclose(self) -> None:
        """Close the SDK's HTTP client and delete this notifier's Firebase app."""
        # The SDK closes its async HTTP client in `delete_app` with `asyncio.run`, which
        # cannot run inside this loop: close it here first (private, like the endpoint),
        # then let `delete_app` run in a thread, where its second close is a no-op.
        service = messaging._get_messaging_service(self._app)
        client = getattr(service, "_async_client", None)
        if client is not None:
            await client.aclose()
        await asyncio.to_thread(firebase_admin.delete_app, self._app)

    async def _fresh_token(self) -> None:
        async with self._refreshing:
            if not self._credential.valid:
                await asyncio.to_thread(self._credential.refresh, GoogleAuthRequest())

    async def _send(self, messages: list[messaging.Message]) -> list[DeviceResult]:
        try:
            batch = await messaging.send_each_async(messages, app=self._app)
        except exceptions.FirebaseError as exc:
            _logger.warning("fcm send failed", extra={"error_type": type(exc).__name__})
            return [DeviceResult.RETRY] * len(messages)
        return [_result(response) for response in batch.responses]


def _message(notification: Notification, token: str) -> messaging.Message:
    # Devices register FCM registration tokens, which HTTP v1 takes as `message.token`;
    # firebase-admin 7.7 flags that field in favour of installation ids (`fid`), which the
    # apps do not send.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return messaging.Message(
            token=token,
            notification=messaging.Notification(title=notification.title, body=notification.body),
            data=push_data(notification),
            **_collapsing(notification.collapse_id),
        )


def _collapsing(collapse_id: str | None) -> dict[str, Any]:
    """A repeat of one push (a send in flight at a crash) shown once: on Android FCM keeps
    one of a collapse key's undelivered messages, and the notification tag replaces one
    already shown; on iOS `apns-collapse-id` does both."""
    if collapse_id is None:
        return {}
    return {
        "android": messaging.AndroidConfig(
            collapse_key=collapse_id, notification=messaging.AndroidNotification(tag=collapse_id)
        ),
        "apns": messaging.APNSConfig(headers={"apns-collapse-id": collapse_id}),
    }


def _result(response: messaging.SendResponse) -> DeviceResult:
    if response.success:
        return DeviceResult.DELIVERED
    error = response.exception
    if isinstance(error, messaging.UnregisteredError | exceptions.NotFoundError):
        return DeviceResult.UNREGISTERED
    # The error text can quote the token: log the type only.
    _logger.warning("fcm message failed", extra={"error_type": type(error).__name__})
    return DeviceResult.RETRY if isinstance(error, _RETRY) else DeviceResult.REJECTED
