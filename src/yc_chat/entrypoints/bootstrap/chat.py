"""The chat provider chosen from the settings: real Stream, or the built-in emulator.

Part of the composition root (`entrypoints.bootstrap`): the Stream SDK adapter and the
emulator need the `stream` and `http` extras, so they are imported where they are chosen.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from yc_chat.adapters.clock import SystemClock
from yc_chat.adapters.fake_stream import StreamState, set_up_app
from yc_chat.domain.limits import STREAM_USER_ID_PATTERN
from yc_chat.domain.model import SYSTEM_USER_ID
from yc_chat.entrypoints.settings import Settings, SettingsError
from yc_chat.ports import ChatProvider, Clock

if TYPE_CHECKING:
    from stream_emulator.server import RunningEmulator

logger = logging.getLogger("yc_chat.bootstrap")


def system_user_of(settings: Settings) -> str:
    """STREAM_SYSTEM_USER_ID, or `system`; a SettingsError for an id Stream would refuse."""
    user = settings.stream_system_user_id or SYSTEM_USER_ID
    if not STREAM_USER_ID_PATTERN.fullmatch(user):
        raise SettingsError("STREAM_SYSTEM_USER_ID must be a Stream user id (A-Z a-z 0-9 @ _ -)")
    return user


@asynccontextmanager
async def open_chat(
    settings: Settings, clock: Clock | None = None
) -> AsyncIterator[tuple[ChatProvider, str, RunningEmulator | None]]:
    """The Stream adapter, on real Stream or on the built-in emulator; with its secret."""
    clock = clock or SystemClock()
    # The SDK-backed adapter and the emulator need the `stream` and `http` extras.
    from stream_emulator.server import new_credentials, start_in_background
    from yc_chat.adapters.stream import StreamChatProvider, StreamConfig

    emulator: RunningEmulator | None = None
    user = system_user_of(settings)
    if settings.stream_api_key is not None:
        if settings.stream_api_secret is None:
            raise SettingsError("STREAM_API_KEY is set without STREAM_API_SECRET")
        key, secret = settings.stream_api_key, settings.stream_api_secret
        base_url = settings.stream_base_url
        logger.info("chat provider: Stream", extra={"base_url": base_url or "default"})
    else:
        # Settings refuse half a Stream configuration, so here neither key nor secret is set.
        key, secret = new_credentials()
        emulator = start_in_background(
            set_up_app(StreamState(clock=clock.now)),
            api_key=key,
            api_secret=secret,
            clock=clock.now,
        )
        base_url = emulator.base_url
        logger.info("chat provider: built-in Stream emulator", extra={"base_url": base_url})
    try:
        provider = await StreamChatProvider.open(
            StreamConfig(api_key=key, api_secret=secret, base_url=base_url, system_user_id=user)
        )
        try:
            yield provider, secret, emulator
        finally:
            await provider.aclose()
    finally:
        if emulator is not None:
            await asyncio.to_thread(emulator.stop)


async def check_chat_provider(settings: Settings, *, wait_seconds: float) -> str | None:
    """None when the configured Stream app answers and accepts its credentials, else why.

    The built-in emulator needs no check: this process starts it with its own credentials.
    """
    if settings.stream_api_key is None or settings.stream_api_secret is None:
        return None
    from yc_chat.adapters.stream import StreamConfig
    from yc_chat.adapters.stream.check import check_stream

    config = StreamConfig(
        api_key=settings.stream_api_key,
        api_secret=settings.stream_api_secret,
        base_url=settings.stream_base_url,
    )
    return await check_stream(config, wait_seconds=wait_seconds)
