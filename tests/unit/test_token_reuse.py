"""Stream token reuse (issue 22): a token is handed out again while more than half of its
lifetime remains, with its own exact expiry, and never once an offboarding revoked it.

The rule (`policies.reusable_token`) clause by clause, then a stateful property: two
ConnectUser "instances" sharing one token store, a clock that jumps, offboardings through
the real OffboardMember and Stream's own revocation rule (the emulator's) as the judge.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import jwt
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from stream_emulator.state.users import revoked
from yc_chat.adapters.clock import FixedClock
from yc_chat.adapters.fake_stream import FakeStreamChatProvider, StreamState
from yc_chat.adapters.memory import (
    InMemoryChannelLocks,
    InMemoryDirectory,
    InMemoryFingerprints,
    InMemoryIssuedTokens,
)
from yc_chat.domain import policies
from yc_chat.domain.model import (
    IssuedToken,
    Membership,
    Org,
    OrgId,
    TokenRecord,
    User,
    UserId,
    UserToken,
)
from yc_chat.domain.usecases.offboarding import OffboardMember, revocation_cutoff
from yc_chat.domain.usecases.profile_sync import ProfileSync
from yc_chat.domain.usecases.tokens import ConnectUser

T = TypeVar("T")
SECRET = "token-reuse-secret-0123456789abcdef"
TTL = timedelta(hours=24)
ISSUED = datetime(2026, 12, 7, 3, 0, 0, tzinfo=UTC)
ANA, BEN = UserId("ana"), UserId("ben")
ORG = OrgId("org-1")


def _kept(user: UserId = ANA, issued: datetime = ISSUED, ttl: timedelta = TTL) -> IssuedToken:
    return IssuedToken(user_id=user, token="t", issued_at=issued, expires_at=issued + ttl)


def _reusable(record: TokenRecord, now: datetime, user: UserId = ANA) -> IssuedToken | None:
    return policies.reusable_token(record, user_id=user, now=now, ttl=TTL)


def test_a_token_is_reused_while_more_than_half_its_lifetime_remains() -> None:
    record = TokenRecord(token=_kept())
    assert _reusable(record, ISSUED) == _kept()
    assert _reusable(record, ISSUED + TTL / 2 - timedelta(microseconds=1)) == _kept()
    assert _reusable(record, ISSUED + TTL / 2) is None
    assert _reusable(record, ISSUED + TTL) is None


def test_no_token_from_before_its_issue_time_nor_of_another_user_or_lifetime() -> None:
    assert _reusable(TokenRecord(token=_kept()), ISSUED - timedelta(seconds=1)) is None
    assert _reusable(TokenRecord(token=_kept(BEN)), ISSUED, user=ANA) is None
    assert _reusable(TokenRecord(token=_kept(ttl=TTL * 2)), ISSUED) is None
    assert _reusable(TokenRecord(), ISSUED) is None


def test_a_token_issued_before_the_revocation_cut_off_is_never_reused() -> None:
    token = _kept()
    assert _reusable(TokenRecord(token=token, revoked_before=ISSUED + timedelta(seconds=1)),
                     ISSUED) is None  # fmt: skip
    # Issued in the cut-off's own second or later: a token the provider still accepts.
    assert _reusable(TokenRecord(token=token, revoked_before=ISSUED), ISSUED) == token


class TokenReuse(RuleBasedStateMachine):
    """Two instances, one shared store; the model is the last token each user was handed."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.clock = FixedClock(ISSUED + timedelta(microseconds=250_000))
        self.state = StreamState(clock=self.clock.now)
        chat = FakeStreamChatProvider(self.state, api_secret=SECRET)
        self.directory = InMemoryDirectory()
        self.issued = InMemoryIssuedTokens(keep_for=TTL)
        profiles = ProfileSync(chat=chat, fingerprints=InMemoryFingerprints())
        self.instances = [
            ConnectUser(directory=self.directory, chat=chat, profiles=profiles, clock=self.clock,
                        token_ttl=TTL, issued=self.issued)
            for _ in range(2)
        ]  # fmt: skip
        self.offboard = OffboardMember(
            directory=self.directory, chat=chat, locks=InMemoryChannelLocks(), clock=self.clock,
            issued=self.issued,
        )  # fmt: skip
        self.run(self._seed())
        self.handed: dict[UserId, IssuedToken] = {}
        self.cut_offs: dict[UserId, datetime] = {}
        self.reuses = 0

    async def _seed(self) -> None:
        await self.directory.put_org(Org(id=ORG, name="Clinic"))
        for user in (ANA, BEN):
            await self.directory.put_user(User(id=user, name=user.title()))
            await self.directory.put_membership(Membership(org_id=ORG, user_id=user, role="vet"))

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.loop.close()

    @rule(seconds=st.sampled_from([0, 1, 2, 59, 3600, 43_199, 43_200, 43_201, 86_400]))
    def wait(self, seconds: int) -> None:
        self.clock.advance(timedelta(seconds=seconds))

    @rule(user=st.sampled_from([ANA, BEN]), instance=st.sampled_from([0, 1]))
    def request(self, user: UserId, instance: int) -> None:
        now = self.clock.now()
        answer: UserToken = self.run(self.instances[instance](caller=user, user_id=user))
        claims = jwt.decode(answer.token, SECRET, algorithms=["HS256"],
                            options={"verify_exp": False, "verify_iat": False})  # fmt: skip
        # Always the caller's own token, and expiresAt is exactly its `exp`.
        assert claims["user_id"] == user
        assert claims["exp"] == answer.expires_at.timestamp()
        issued_at = datetime.fromtimestamp(claims["iat"] + 5, tz=UTC)
        assert answer.expires_at - issued_at == TTL
        last = self.handed.get(user)
        cut_off = self.cut_offs.get(user)
        may_reuse = (
            last is not None
            and last.issued_at <= now < last.issued_at + TTL / 2
            and (cut_off is None or last.issued_at >= cut_off)
        )
        if may_reuse:
            assert last is not None
            assert answer.token == last.token  # shared by both instances
            assert answer.expires_at == last.expires_at
            self.reuses += 1
        else:
            assert issued_at == now.replace(microsecond=0)  # a new one, signed now
        if issued_at < now.replace(microsecond=0):
            # A reused token: never one Stream refuses (the emulator's own rule).
            assert not revoked(claims["iat"], self.state.tokens_revoked_before(user))
        self.handed[user] = IssuedToken(user_id=user, token=answer.token, issued_at=issued_at,
                                        expires_at=answer.expires_at)  # fmt: skip

    @rule(user=st.sampled_from([ANA, BEN]))
    def offboard_and_rejoin(self, user: UserId) -> None:
        removed_at = self.clock.now()
        self.run(self.directory.remove_membership(ORG, user))
        self.run(self.offboard(org_id=ORG, user_id=user, removed_at=removed_at))
        self.run(self.directory.put_membership(Membership(org_id=ORG, user_id=user, role="vet")))
        self.cut_offs[user] = revocation_cutoff(removed_at)

    @rule(user=st.sampled_from([ANA, BEN]))
    def a_request_signed_before_the_offboarding_lands_after_it(self, user: UserId) -> None:
        # The race of two instances: one signs, the other offboards, then the first keeps
        # its token. The cut-off in the shared store must still stop its reuse.
        now = self.clock.now().replace(microsecond=0)
        late = IssuedToken(user_id=user, token=f"late-{user}", issued_at=now,
                           expires_at=now + TTL)  # fmt: skip
        self.offboard_and_rejoin(user)
        self.run(self.issued.remember(late))

    @invariant()
    def the_store_never_offers_a_revoked_token(self) -> None:
        for user in (ANA, BEN):
            record = self.run(self.issued.latest(user))
            offered = policies.reusable_token(record, user_id=user, now=self.clock.now(), ttl=TTL)
            cut_off = self.cut_offs.get(user)
            if offered is not None and cut_off is not None:
                assert offered.issued_at >= cut_off


TestTokenReuse = TokenReuse.TestCase
TestTokenReuse.settings = settings(settings(), stateful_step_count=30)
