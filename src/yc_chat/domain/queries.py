"""Query and page shapes the use cases exchange with the ports."""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Generic, TypeVar, overload

import attrs

from yc_chat.domain.model import Channel, ChatCategory, Member, Membership, OrgId, UserId


class ChannelOrder(enum.Enum):
    ACTIVITY = "activity"  # newest activity first: what people see
    # Oldest creation first: a fixed order that new channels only extend at the end, so a
    # walk over it by creation time always moves forward (offboarding).
    CREATION = "creation"


@attrs.frozen(kw_only=True)
class ChannelQuery:
    """Channels `member` belongs to, optionally narrowed; newest activity first unless
    `order` says otherwise. `created_from` keeps channels created at or after it."""

    member: UserId
    category: ChatCategory | None = None
    org_id: OrgId | None = None
    pet_owner_id: UserId | None = None
    vet_id: UserId | None = None
    created_from: datetime | None = None
    order: ChannelOrder = ChannelOrder.ACTIVITY


@attrs.frozen(kw_only=True)
class CreationCursor:
    """A place in a walk over channels oldest creation first: the channels created at or
    after `created_from`, past the first `passed` of them (those created exactly then and
    still in the query). Query with `created_from` and offset `passed`."""

    created_from: datetime | None = None
    passed: int = attrs.field(default=0, validator=attrs.validators.ge(0))

    def past(self, created_at: datetime | None, *, stays: bool) -> CreationCursor:
        """The place after the next channel, created at `created_at`; `stays` says whether
        it is still in the query (a channel the walk took the person out of is not)."""
        if created_at is None or (
            self.created_from is not None and created_at <= self.created_from
        ):
            # Created when the walk already is (a time unknown counts as that too).
            return attrs.evolve(self, passed=self.passed + int(stays))
        return CreationCursor(created_from=created_at, passed=int(stays))


@attrs.frozen(kw_only=True)
class ChannelPage:
    """One page of a channel query; `has_more` says whether a next offset exists."""

    channels: tuple[Channel, ...]
    has_more: bool


@attrs.frozen(kw_only=True, order=True)
class MemberKey:
    """A place in an org's member list, which is ordered by (folded name, user id)."""

    sort_name: str
    user_id: UserId


class ListedMembers(Sequence[Member]):
    """Members as a store listed them, with the listing already written by the store.

    `json` is the listing as other members see it: a compact JSON array with one object
    per member, in order, keyed "id", "name", "email", "image" and "role" (null where
    absent), which an answer may carry as it is instead of making a record per member (a
    page of 100 would make 200). The members are made by `load` when first read. Equal to
    any sequence of the same members, as a tuple of them is.
    """

    __slots__ = ("_load", "_members", "json")

    def __init__(self, json: bytes, load: Callable[[], tuple[Member, ...]]) -> None:
        self.json = json
        self._load = load
        self._members: tuple[Member, ...] | None = None

    @property
    def members(self) -> tuple[Member, ...]:
        if self._members is None:
            self._members = self._load()
        return self._members

    @overload
    def __getitem__(self, index: int) -> Member: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Member, ...]: ...

    def __getitem__(self, index: int | slice) -> Member | tuple[Member, ...]:
        return self.members[index]

    def __len__(self) -> int:
        return len(self.members)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return self.members == tuple(other)

    def __hash__(self) -> int:
        return hash(self.members)

    def __repr__(self) -> str:
        return f"ListedMembers({self.members!r})"


@attrs.frozen(kw_only=True)
class MemberPage:
    """Members ordered by MemberKey; `next_after` is the key to continue from."""

    members: Sequence[Member]
    next_after: MemberKey | None


_Answer = TypeVar("_Answer")


@attrs.frozen(kw_only=True)
class CallerView(Generic[_Answer]):
    """One read of an org as a caller sees it: whether the org exists, the caller's current
    membership, and the answer, which is there only when the caller holds a membership."""

    org_found: bool
    membership: Membership | None
    answer: _Answer | None
