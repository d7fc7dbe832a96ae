"""FakeStreamChatProvider: the ChatProvider port on the Stream emulator's state, in process.

A thin adapter: it talks to the simulation as the real adapter talks to Stream, Stream-shaped
data in, Stream's JSON shapes out, both through the real adapter's `stream.mapping`, so the
mapping the real adapter relies on is exercised by every test that uses the fake.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

import attrs

from stream_emulator.state import StreamAPIError, StreamChannel, StreamState
from yc_chat.adapters.stream import grants, mapping, reading
from yc_chat.adapters.stream.tokens import TOKEN_IAT_BACKDATE, sign_user_token
from yc_chat.domain import errors
from yc_chat.domain.model import (
    SYSTEM_PROFILE,
    SYSTEM_USER_ID,
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

DEFAULT_API_KEY = "fake-stream-key"


@contextmanager
def _translated_errors() -> Iterator[None]:
    """Stream's error answers as domain errors, the way the real adapter translates them."""
    try:
        yield
    except StreamAPIError as exc:
        raise mapping.domain_error(exc.status_code, exc.message) from exc
    except mapping.StreamDataError as exc:
        raise errors.ProviderFailed("The chat provider sent unreadable data") from exc


def set_up_app(state: StreamState) -> StreamState:
    """`state` with the grants `yc-chat stream setup` applies to a Stream app: the
    simulation (and the emulator `serve` starts) stands for an app set up for yc-chat."""
    current = state.get_channel_type(mapping.CHANNEL_TYPE)
    if grants.missing_grants(current):
        state.update_channel_type(mapping.CHANNEL_TYPE, grants.update_request(current))
    return state


class FakeStreamChatProvider:
    """ChatProvider backed by a `StreamState`; fault injection goes through `state`."""

    def __init__(
        self,
        state: StreamState | None = None,
        *,
        api_key: str = DEFAULT_API_KEY,
        api_secret: str | None = None,
        base_url: str | None = None,
        system_user_id: str = SYSTEM_USER_ID,
        set_up: bool = True,
    ) -> None:
        self._state = state if state is not None else StreamState()
        # Creates every channel and posts the notices, as the real adapter's does.
        self._system_user = UserId(system_user_id)
        if set_up:
            set_up_app(self._state)
        self._api_key = api_key
        # Where clients reach this state over Stream's API (an emulator serving it), if anywhere.
        self._base_url = base_url
        self._api_secret = api_secret if api_secret is not None else secrets.token_urlsafe(32)
        self._untrusted = reading.UntrustedLog()

    def __repr__(self) -> str:
        # The secret signs user tokens: keep it out of logs and tracebacks.
        return f"FakeStreamChatProvider(api_key={self._api_key!r})"

    @property
    def state(self) -> StreamState:
        """The Stream app this provider talks to (inspect it, or make it fail)."""
        return self._state

    @property
    def api_key(self) -> str:
        """The fake app's API key (public, as Stream's is)."""
        return self._api_key

    @property
    def api_secret(self) -> str:
        """The secret user tokens are signed with (an emulator verifies them with it)."""
        return self._api_secret

    async def upsert_profiles(self, profiles: Sequence[UserProfile]) -> None:
        """Create or update users so they can be members and senders."""
        users = [mapping.user_data(profile) for profile in profiles]
        with _translated_errors():
            for start in range(0, len(users), mapping.UPSERT_USERS_BATCH):
                self._state.upsert_users(users[start : start + mapping.UPSERT_USERS_BATCH])

    async def issue_user_token(
        self, user_id: UserId, *, issued_at: datetime, expires_at: datetime
    ) -> str:
        """A client token for `user_id`, signed as the real adapter signs it."""
        return sign_user_token(
            self._api_secret, user_id, issued_at=issued_at, expires_at=expires_at
        )

    async def revoke_tokens(self, user_id: UserId, *, issued_before: datetime) -> None:
        """Revoke by issued-at, as the official SDK does it: a partial update of the user.

        The cut-off is backdated as the tokens' `iat` is, as the real adapter does: a token
        issued after `issued_before` keeps working.
        """
        if self._state.user(user_id) is None:
            return  # a user Stream does not know has no token it accepts
        before = (issued_before - TOKEN_IAT_BACKDATE).astimezone(UTC)
        with _translated_errors():
            self._state.partial_update_user(
                user_id, set_fields={mapping.REVOKE_TOKENS_FIELD: before.isoformat()}
            )

    async def client_access(self) -> ClientAccess:
        """The fake app's key and the address of an emulator serving it (None: none)."""
        return ClientAccess(api_key=self._api_key, base_url=self._base_url)

    async def open_channel(self, spec: ChannelSpec) -> OpenedChannel:
        """Get the channel with `spec.id`, creating it from `spec` if it does not exist."""
        mapping.check_channel_id(spec.id)
        with _translated_errors():
            self._ensure_system_user()
            channel, created = self._state.get_or_create_channel(
                mapping.CHANNEL_TYPE,
                spec.id,
                created_by_id=self._system_user,
                data=mapping.creation_data(spec),
                members=sorted(spec.members),
                member_roles=mapping.creation_roles(spec),
            )
            return OpenedChannel(channel=self._to_domain(channel), created=created)

    async def get_channel(self, channel_id: ChannelId) -> Channel | None:
        """The channel, or None when it does not exist."""
        with _translated_errors():
            state = self._find(channel_id)
            # A state with no channel in it is none: a push or a lifecycle pass skips it.
            return reading.read_channel(state, self._untrusted) if state is not None else None

    async def set_status(
        self,
        channel_id: ChannelId,
        status: ChatStatus,
        *,
        notice: str | None = None,
    ) -> Channel:
        """Set status and frozen in one full update that also posts `notice` as `system`."""
        with _translated_errors():
            state = self._find(channel_id)
            current = state.get("channel") if state is not None else None
            if not isinstance(current, Mapping):
                raise errors.NotFound("Channel not found", code=errors.CODE_CHANNEL_NOT_FOUND)
            # Stream's partial update cannot carry a message; the full update can, so the
            # notice lands in the same call. Full update replaces custom data: send it all.
            updated = self._state.update_channel(
                mapping.CHANNEL_TYPE,
                channel_id,
                mapping.status_update_data(current, status),
                message=self._notice(notice),
            )
            return self._to_domain(updated)

    async def update_details(self, channel_id: ChannelId, spec: ChannelSpec) -> Channel:
        """Rewrite the descriptive custom data from `spec` in one partial update."""
        with _translated_errors():
            updated = self._state.update_channel_partial(
                mapping.CHANNEL_TYPE, channel_id, set_fields=mapping.details_data(spec)
            )
            return self._to_domain(updated)

    async def change_members(
        self,
        channel_id: ChannelId,
        *,
        add: frozenset[UserId] = frozenset(),
        remove: frozenset[UserId] = frozenset(),
        notice: str | None = None,
        posters: frozenset[UserId] = frozenset(),
    ) -> Channel:
        """Add and remove members in one update, posting `notice` as `system`."""
        with _translated_errors():
            updated = self._state.update_members(
                mapping.CHANNEL_TYPE,
                channel_id,
                add=sorted(add),
                remove=sorted(remove),
                message=self._notice(notice),
                add_roles=mapping.poster_roles(bool(posters), posters, add),
            )
            return self._to_domain(updated)

    async def query_channels(self, query: ChannelQuery, *, limit: int, offset: int) -> ChannelPage:
        """One page of the member's channels, in the query's order.

        Stream answers at most 30 channels per call, so a larger page is read in chunks;
        one more than `limit` is read to learn whether a next page exists.
        """
        conditions = mapping.channel_filter(query)
        sort = mapping.channel_sort(query)

        async def fetch(size: int, at: int) -> Sequence[StreamChannel]:
            return self._state.query_channels(conditions, sort, limit=size, offset=at)

        with _translated_errors():
            found, has_more = await mapping.read_page(fetch, limit=limit, offset=offset)
            states = (self._state_of(channel) for channel in found)
            channels = tuple(reading.read_channels(states, self._untrusted))
        return ChannelPage(channels=channels, has_more=has_more)

    async def ping(self) -> None:
        """Raise ProviderUnavailable when the (fake) provider is switched off."""
        with _translated_errors():
            self._state.app_settings()

    # -- the setup (ChatProviderSetup), as the real adapter applies it --------------------

    async def setup_missing(self) -> list[str]:
        """The roles of the channel type whose grants are not the setup's (empty: applied)."""
        with _translated_errors():
            return grants.missing_grants(self._state.get_channel_type(mapping.CHANNEL_TYPE))

    async def apply_setup(self) -> list[str]:
        """Set the channel type's grants unless they already are."""
        with _translated_errors():
            return self.apply_setup_now()

    def apply_setup_now(self) -> list[str]:
        """`apply_setup` for a caller outside the event loop (the in-memory composition)."""
        current = self._state.get_channel_type(mapping.CHANNEL_TYPE)
        missing = grants.missing_grants(current)
        if missing:
            self._state.update_channel_type(mapping.CHANNEL_TYPE, grants.update_request(current))
        self._ensure_system_user()
        return missing

    def _notice(self, notice: str | None) -> dict[str, object] | None:
        """The notice as a message from `system`, who must exist before speaking (as on Stream)."""
        if notice is None:
            return None
        self._ensure_system_user()
        return mapping.notice_message(notice, self._system_user)

    def _ensure_system_user(self) -> None:
        if self._state.user(self._system_user) is None:
            profile = attrs.evolve(SYSTEM_PROFILE, id=self._system_user)
            self._state.upsert_users([mapping.user_data(profile)])

    def _find(self, channel_id: ChannelId) -> Mapping[str, object] | None:
        # The real adapter can only look a channel up by querying for it; so does the fake.
        found = self._state.query_channels(mapping.channel_id_filter(channel_id), limit=1)
        return self._state_of(found[0]) if found else None

    def _state_of(self, channel: StreamChannel) -> Mapping[str, object]:
        # One message is enough for the last-message preview; members must be complete.
        return self._state.channel_state(channel, message_limit=1, member_limit=None)

    def _to_domain(self, channel: StreamChannel) -> Channel:
        return mapping.channel_from_state(self._state_of(channel))
