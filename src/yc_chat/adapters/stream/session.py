"""The session under StreamChatProvider: its SDK client and configuration, the one way
calls go out (`_call`: errors translated, retries, rate-limit headers noted), and the reads
that turn Stream's channel state into domain channels with all their members."""

from __future__ import annotations

import asyncio
import copy
import functools
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import TypeVar

import attrs
from stream_chat.async_chat.client import StreamChatAsync

from yc_chat.adapters.stream import failures, mapping, reading, requests, retries
from yc_chat.adapters.stream.client import last_headers
from yc_chat.adapters.stream.config import StreamConfig
from yc_chat.domain import errors
from yc_chat.domain.model import SYSTEM_PROFILE, Channel, ChannelId, UserId

# The provider's logger name, which operators and retries.py already use.
LOG = logging.getLogger("yc_chat.adapters.stream.provider")
T = TypeVar("T")


class StreamSession:
    """The client, the call path and the channel reads; StreamChatProvider adds the port."""

    def __init__(
        self,
        client: StreamChatAsync,
        config: StreamConfig,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self._client = client
        self._config = config
        self._sleep = sleep
        # Jitter only spreads retries out; it needs no cryptographic randomness.
        self._rng = rng if rng is not None else random.Random()  # noqa: S311
        self._now = now or functools.partial(datetime.now, UTC)
        self._system_user = UserId(config.system_user_id)
        self._system_profile = attrs.evolve(SYSTEM_PROFILE, id=self._system_user)
        self._system_ready = False
        self._closed = False
        self._rate_limit: failures.RateLimit | None = None
        self._untrusted = reading.UntrustedLog()

    async def aclose(self) -> None:
        """Close the HTTP session (the SDK leaks it otherwise); safe to call twice."""
        if not self._closed:
            self._closed = True
            await self._client.close()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        # The secret signs every token: it stays out of logs and tracebacks.
        return (
            f"StreamChatProvider(api_key={self._config.api_key!r}, "
            f"base_url={self._config.effective_base_url!r})"
        )

    @property
    def last_rate_limit(self) -> failures.RateLimit | None:
        """Stream's rate-limit headers of the last successful call, when it sent them."""
        return self._rate_limit

    # -- reads ------------------------------------------------------------------------------

    async def _query(
        self, conditions: dict[str, object], sort: list[dict[str, object]], limit: int, offset: int
    ) -> list[Mapping[str, object]]:
        response = await self._call(
            "QueryChannels",
            lambda: self._client.query_channels(
                copy.deepcopy(conditions),
                copy.deepcopy(sort),
                limit=limit,
                offset=offset,
                **requests.list_options(),
            ),
            idempotent=True,
        )
        channels = response.get("channels")
        if not isinstance(channels, list) or not all(isinstance(c, Mapping) for c in channels):
            raise errors.ProviderFailed("The chat provider sent an unreadable channel list")
        return channels

    async def _find(self, channel_id: ChannelId) -> Mapping[str, object] | None:
        found = await self._query(mapping.channel_id_filter(channel_id), [], 1, 0)
        return found[0] if found else None

    async def _updated(self, channel_id: ChannelId, response: object) -> Channel:
        """The channel as the UpdateChannel response that posted a notice returns it.

        That response carries the channel, its members and the posted message, which is
        now the last one: the write needs no read after it. A response without them (no
        notice: the last message is unknown) falls back to one read.
        """
        if isinstance(response, Mapping):
            channel, message = response.get("channel"), response.get("message")
            if isinstance(channel, Mapping) and isinstance(message, Mapping):
                return await self._complete({**response, "messages": [message]})
        return await self._require(channel_id)

    async def _require(self, channel_id: ChannelId) -> Channel:
        state = await self._find(channel_id)
        if state is None:
            raise channel_not_found()
        return await self._complete(state)

    async def _complete(self, state: Mapping[str, object]) -> Channel:
        """The domain channel, with every member even beyond the 100 Stream sends along."""
        return await self._with_all_members(_to_domain(state), state)

    async def _with_all_members(self, channel: Channel, state: Mapping[str, object]) -> Channel:
        channel_json = state.get("channel")
        count = channel_json.get("member_count") if isinstance(channel_json, Mapping) else None
        if isinstance(count, int) and count > len(channel.members):
            members = await self._all_members(channel.id)
            channel = attrs.evolve(channel, members=frozenset(members))
        return channel

    async def _all_members(self, channel_id: ChannelId) -> list[UserId]:
        channel = self._client.channel(mapping.CHANNEL_TYPE, channel_id)
        members: list[UserId] = []
        offset = 0
        while True:
            page = await self._call(
                "QueryMembers",
                functools.partial(
                    channel.query_members,
                    {},
                    copy.deepcopy(list(requests.MEMBER_SORT)),
                    limit=requests.QUERY_MEMBERS_LIMIT,
                    offset=offset,
                ),
                idempotent=True,
            )
            members.extend(reading.member_ids(page))
            if len(page) < requests.QUERY_MEMBERS_LIMIT:
                return members
            offset += len(page)

    async def _call(
        self,
        operation: str,
        send: Callable[[], Awaitable[T]],
        *,
        idempotent: bool,
        attempts: int | None = None,
    ) -> T:
        result = await retries.call(
            operation,
            send,
            config=self._config,
            idempotent=idempotent,
            attempts=attempts,
            sleep=self._sleep,
            rng=self._rng,
            now=self._now,
        )
        self._note_rate_limit(last_headers())
        return result

    def _note_rate_limit(self, headers: Mapping[str, str] | None) -> None:
        info = failures.RateLimit.from_headers(headers)
        if info.limit is None:
            return
        self._rate_limit = info
        if info.remaining is not None and info.remaining * 10 < info.limit:
            LOG.warning(
                "stream rate limit nearly used up: remaining=%s limit=%s",
                info.remaining,
                info.limit,
            )


def _to_domain(state: Mapping[str, object]) -> Channel:
    try:
        return mapping.channel_from_state(state)
    except mapping.StreamDataError as exc:
        raise errors.ProviderFailed("The chat provider sent unreadable data") from exc


def channel_not_found() -> errors.NotFound:
    return errors.NotFound("Channel not found", code=errors.CODE_CHANNEL_NOT_FOUND)
