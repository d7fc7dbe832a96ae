"""StreamChatProvider: the ChatProvider port on Stream's official async SDK (`stream-chat`).

Every call goes through `_call`, which translates Stream's answers into the domain's error
catalog and retries what may be retried: reads and idempotent writes (user upserts,
get-or-create, membership changes and updates without a message) with capped exponential
backoff and jitter; calls that post a message only when Stream certainly did not act on
them (no connection, or rate limited), never after a timeout or a 5xx.
"""

from __future__ import annotations

import copy
import functools
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from yc_chat.adapters.stream import grants, mapping, reading, recent, requests
from yc_chat.adapters.stream.client import open_client
from yc_chat.adapters.stream.config import StreamConfig
from yc_chat.adapters.stream.session import StreamSession, channel_not_found
from yc_chat.adapters.stream.tokens import sign_user_token
from yc_chat.domain import errors
from yc_chat.domain.channel_ids import is_valid_channel_id
from yc_chat.domain.model import (
    Channel,
    ChannelId,
    ChannelSpec,
    ChatStatus,
    ClientAccess,
    OpenedChannel,
    UserId,
    UserProfile,
)
from yc_chat.domain.queries import ChannelPage, ChannelQuery

LOG = logging.getLogger(__name__)
T = TypeVar("T")


class StreamChatProvider(StreamSession):
    """ChatProvider on Stream; build with `open()` inside the running loop, end with `aclose()`."""

    @classmethod
    async def open(cls, config: StreamConfig) -> StreamChatProvider:
        """A provider with its own client, created on the running event loop."""
        return cls(await open_client(config), config)

    async def __aenter__(self) -> StreamChatProvider:
        return self

    # -- the port -------------------------------------------------------------------------

    async def upsert_profiles(self, profiles: Sequence[UserProfile]) -> None:
        """Create or update users, up to 100 per call (Stream's batch limit)."""
        # One entry per id (the SDK keys the batch by id anyway); the last profile wins.
        latest = {profile.id: mapping.user_data(profile) for profile in profiles}
        users = list(latest.values())
        for start in range(0, len(users), mapping.UPSERT_USERS_BATCH):
            batch = users[start : start + mapping.UPSERT_USERS_BATCH]
            await self._call(
                "UpdateUsers", functools.partial(self._upsert_batch, batch), idempotent=True
            )
        if self._system_user in latest:
            self._system_ready = True

    async def issue_user_token(
        self, user_id: UserId, *, issued_at: datetime, expires_at: datetime
    ) -> str:
        """A client token for `user_id` whose `exp` is `expires_at` (`iat` a little earlier)."""
        return sign_user_token(
            self._config.api_secret,
            user_id,
            issued_at=issued_at,
            expires_at=expires_at,
            iat_backdate=self._config.token_iat_backdate,
        )

    async def revoke_tokens(self, user_id: UserId, *, issued_before: datetime) -> None:
        """Revoke by issued-at: Stream refuses this user's tokens whose `iat` is earlier.

        Tokens are signed with `iat` backdated (see `issue_user_token`), so the cut-off is
        backdated the same: a token issued after `issued_before` keeps working.
        """
        before = issued_before - self._config.token_iat_backdate
        try:
            await self._call(
                "UpdateUsersPartial",
                lambda: self._client.revoke_user_token(user_id, before.astimezone(UTC)),
                idempotent=True,  # the same cut-off twice is the same state
            )
        except errors.NotFound:
            return  # a user Stream does not know has no token it accepts

    async def client_access(self) -> ClientAccess:
        """The app's API key and the configured base URL (None: Stream's default)."""
        return ClientAccess(api_key=self._config.api_key, base_url=self._config.base_url)

    async def open_channel(self, spec: ChannelSpec) -> OpenedChannel:
        """Get the channel with `spec.id`, creating it from `spec` if it does not exist."""
        mapping.check_channel_id(spec.id)
        nonce = secrets.token_hex(8)
        data = requests.creation_data(spec, nonce, self._system_user)

        async def create(_: object) -> Any:
            await self._ensure_system_user()  # the creator must exist first
            return await self._call(
                "GetOrCreateChannel",
                # A fresh copy per attempt: the SDK's channel objects keep (and `create()`
                # mutates) the data dict they are given.
                lambda: self._client.channel(
                    mapping.CHANNEL_TYPE, spec.id, copy.deepcopy(data)
                ).query(**requests.state_options()),
                idempotent=True,
            )

        response = await self._as_system(create)
        channel_json = response.get("channel")
        created = (
            isinstance(channel_json, Mapping) and channel_json.get(requests.CREATION_NONCE) == nonce
        )
        return OpenedChannel(channel=await self._complete(response), created=created)

    async def get_channel(self, channel_id: ChannelId) -> Channel | None:
        """The channel, or None when it does not exist (one query, no get-or-create)."""
        if not is_valid_channel_id(channel_id):
            return None
        state = recent.remember(self, channel_id, await self._find(channel_id))
        if state is None:
            return None
        channel = reading.read_channel(state, self._untrusted)
        return await self._with_all_members(channel, state) if channel is not None else None

    async def set_status(
        self,
        channel_id: ChannelId,
        status: ChatStatus,
        *,
        notice: str | None = None,
    ) -> Channel:
        """Set status and frozen in one full update that also posts `notice` as `system`."""
        valid = is_valid_channel_id(channel_id)  # its data: the task's own read (`recent`)
        state = await recent.take_or(self, channel_id, self._find) if valid else None
        current = state.get("channel") if state is not None else None
        if not isinstance(current, Mapping):
            raise channel_not_found()
        # Only the full update carries a message, so the notice lands in the same call; a
        # full update replaces custom data, so all of it is sent back, and the read-only
        # grant modifiers with it in case Stream resets overrides on a full update.
        data = mapping.status_update_data(current, status)
        if current.get(reading.READ_ONLY) is True:
            data["config_overrides"] = mapping.read_only_overrides()

        async def update(message: dict[str, object] | None) -> object:
            return await self._call(
                "UpdateChannel",
                lambda: self._client.channel(mapping.CHANNEL_TYPE, channel_id).update(
                    copy.deepcopy(data), _copied(message)
                ),
                idempotent=message is None,
            )

        response = await self._noticed(notice, update)
        return await self._updated(channel_id, response)

    async def update_details(self, channel_id: ChannelId, spec: ChannelSpec) -> Channel:
        """Rewrite the descriptive custom data from `spec` in one partial update."""
        if not is_valid_channel_id(channel_id):
            raise channel_not_found()
        details = mapping.details_data(spec)
        recent.forget(self, channel_id)
        await self._call(
            "UpdateChannelPartial",
            lambda: self._client.channel(mapping.CHANNEL_TYPE, channel_id).update_partial(
                copy.deepcopy(details)
            ),
            idempotent=True,  # setting the same fields twice is harmless
        )
        return await self._require(channel_id)

    async def change_members(
        self,
        channel_id: ChannelId,
        *,
        add: frozenset[UserId] = frozenset(),
        remove: frozenset[UserId] = frozenset(),
        notice: str | None = None,
        posters: frozenset[UserId] = frozenset(),
    ) -> Channel:
        """Add, then remove members; the notice rides on the last of those calls.

        Adding and removing are set operations, so a repeat of either is harmless and a
        change interrupted between them is completed by running it again.
        """
        if not is_valid_channel_id(channel_id):
            raise channel_not_found()
        recent.forget(self, channel_id)
        channel = self._client.channel(mapping.CHANNEL_TYPE, channel_id)
        # Posters only exist in read-only rooms, where the domain names them.
        to_add = requests.member_entries(add, mapping.poster_roles(bool(posters), posters, add))
        to_remove = sorted(remove)

        async def change(message: dict[str, object] | None) -> object:
            response: object = None
            if to_add:
                add_message = None if to_remove else message
                response = await self._call(
                    "UpdateChannel",
                    lambda: channel.add_members(copy.deepcopy(to_add), _copied(add_message)),
                    idempotent=add_message is None,
                )
            if to_remove:
                response = await self._call(
                    "UpdateChannel",
                    lambda: channel.remove_members(list(to_remove), _copied(message)),
                    idempotent=message is None,
                )
            if not to_add and not to_remove and message is not None:
                await self._call(
                    "SendMessage",
                    lambda: channel.send_message(dict(message), self._system_user),
                    idempotent=False,
                )
            return response

        response = await self._noticed(notice, change)
        return await self._updated(channel_id, response)

    async def query_channels(self, query: ChannelQuery, *, limit: int, offset: int) -> ChannelPage:
        """One page of the member's channels, in the query's order.

        Stream answers at most 30 channels per call, so a larger page is read in chunks
        (one call per 30 channels, never one per channel); one more than `limit` is read
        to learn whether a next page exists.
        """
        conditions = mapping.channel_filter(query)
        sort = mapping.channel_sort(query)

        async def fetch(size: int, at: int) -> list[Mapping[str, object]]:
            return await self._query(conditions, sort, size, at)

        found, has_more = await mapping.read_page(fetch, limit=limit, offset=offset)
        # Members come with each channel (up to 100); odd data never fails the page.
        channels = reading.read_channels(found, self._untrusted)
        return ChannelPage(channels=tuple(channels), has_more=has_more)

    async def ping(self) -> None:
        """Raise ProviderUnavailable when Stream cannot be reached (one try, no retries)."""
        await self._call("GetApp", self._client.get_app_settings, idempotent=True, attempts=1)

    # -- the setup (ChatProviderSetup) -----------------------------------------------------

    async def setup_missing(self) -> list[str]:
        """The roles of the channel type whose grants are not the setup's (empty: applied)."""
        return grants.missing_grants(await self._channel_type())

    async def apply_setup(self) -> list[str]:
        """Set the channel type's grants (UpdateChannelType) unless they already are."""
        current = await self._channel_type()
        missing = grants.missing_grants(current)
        if missing:
            body = grants.update_request(current)
            await self._call(
                "UpdateChannelType",
                lambda: self._client.update_channel_type(mapping.CHANNEL_TYPE, **body),
                idempotent=True,
            )
        await self._ensure_system_user()
        return missing

    async def _channel_type(self) -> Mapping[str, object]:
        return await self._call(
            "GetChannelType",
            lambda: self._client.get_channel_type(mapping.CHANNEL_TYPE),
            idempotent=True,
        )

    # -- helpers --------------------------------------------------------------------------

    async def _upsert_batch(self, users: list[dict[str, object]]) -> object:
        return await self._client.upsert_users(copy.deepcopy(users))

    async def _ensure_system_user(self) -> None:
        if not self._system_ready:
            # The system user must exist before it creates or speaks; once per process.
            await self.upsert_profiles([self._system_profile])

    async def _notice(self, notice: str | None) -> dict[str, object] | None:
        if notice is None:
            return None
        await self._ensure_system_user()
        return mapping.notice_message(notice, self._system_user)

    async def _noticed(
        self, notice: str | None, write: Callable[[dict[str, object] | None], Awaitable[T]]
    ) -> T:
        """Run `write` with the notice message (None: no notice); if Stream no longer knows
        the system user (an emptied account, a new app), create it again and write once more."""
        message = await self._notice(notice)
        try:
            return await write(message)
        except errors.ProviderUsersMissing as exc:
            if message is None or self._system_user not in exc.user_ids:
                raise
            LOG.warning("stream lost the system user: creating it again")
            self._system_ready = False
            return await write(await self._notice(notice))

    async def _as_system(self, write: Callable[[object], Awaitable[T]]) -> T:
        """Run `write`, which names the system user (the creator); if Stream no longer knows
        it, create it again and write once more."""
        try:
            return await write(None)
        except errors.ProviderUsersMissing as exc:
            if self._system_user not in exc.user_ids:
                raise
            LOG.warning("stream lost the system user: creating it again")
            self._system_ready = False
            return await write(None)


def _copied(message: dict[str, object] | None) -> Any:
    # The SDK annotates optional messages as plain `Dict`; None is what it expects for none.
    return copy.deepcopy(message)
