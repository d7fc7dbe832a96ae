"""The push provider chosen from the settings: the log (default), FCM or Expo.

Part of the composition root (`entrypoints.bootstrap`); FCM and Expo need optional extras,
so their adapters are imported where they are chosen.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from yc_chat.adapters.push import LogNotifier
from yc_chat.entrypoints.settings import Settings, SettingsError
from yc_chat.ports import DeviceRegistry, Notifier

logger = logging.getLogger("yc_chat.bootstrap")


@asynccontextmanager
async def open_notifier(settings: Settings, devices: DeviceRegistry) -> AsyncIterator[Notifier]:
    """The push provider PUSH_PROVIDER names: the log (default), FCM or Expo."""
    push = settings.push
    if push.provider == "fcm":
        if push.fcm_credentials_file is None:
            raise SettingsError("PUSH_PROVIDER=fcm needs FCM_CREDENTIALS_FILE")
        try:
            # Imported here: firebase-admin is the optional `push` extra, needed only for FCM.
            from yc_chat.adapters.push.fcm import FcmConfigError, FcmNotifier
        except ImportError as exc:
            raise SettingsError(
                "PUSH_PROVIDER=fcm needs firebase-admin: pip install 'yc-chat[push]'"
            ) from exc
        try:
            fcm = FcmNotifier.open(
                devices, credentials_file=push.fcm_credentials_file, base_url=push.fcm_base_url
            )
        except FcmConfigError as exc:
            raise SettingsError(str(exc)) from exc
        logger.info("push: FCM", extra={"base_url": push.fcm_base_url or "default"})
        try:
            yield fcm
        finally:
            await fcm.aclose()
        return
    if push.provider == "expo":
        # Imported here: the Expo adapter needs httpx, of the `http` extra.
        from yc_chat.adapters.push.expo import EXPO_BASE_URL, ExpoNotifier

        expo = ExpoNotifier(
            devices,
            base_url=push.expo_base_url or EXPO_BASE_URL,
            access_token=push.expo_access_token,
        )
        logger.info("push: Expo", extra={"base_url": push.expo_base_url or EXPO_BASE_URL})
        try:
            yield expo
        finally:
            await expo.aclose()
        return
    logger.info("push: log only (set PUSH_PROVIDER=fcm or expo to reach devices)")
    yield LogNotifier()
