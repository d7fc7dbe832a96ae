"""The MongoDB documents of every store, with the indexes their queries and idempotency need.

Stored field names are camelCase (`orgId`, `chatOpensAt`), like the contract's JSON; the
Python attributes are snake_case. Natural keys are the `_id` where one exists (user, org,
appointment, device token, webhook event id, user of a fingerprint, lock key), so uniqueness there
is MongoDB's own. Collection names are set by `open_mongo_stores` from `CollectionNames`.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from beanie import Document
from pydantic import ConfigDict
from pymongo import ASCENDING, DESCENDING, IndexModel

from yc_chat.domain.model import UserKind

# Stream retries a webhook for minutes, not days: claimed keys and finished inbox events
# expire after this (TTL indexes; MongoDB removes them in the background), so the
# collections stay small while redeliveries are still recognised.
WEBHOOK_EVENT_RETENTION_SECONDS = 7 * 24 * 3600
# Lapsed channel locks are removed this long after their `until` (by MongoDB's clock; lock
# decisions use the caller's clock). Any lapsed lock may be taken over anyway: this only
# keeps crashed holders' locks from piling up, with a margin for clocks that disagree.
CHANNEL_LOCK_RETENTION_SECONDS = 3600


def _mongo_alias(name: str) -> str:
    if name == "id":
        return "_id"
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


_CONFIG = ConfigDict(populate_by_name=True, alias_generator=_mongo_alias)


class UserDocument(Document):
    """A directory user; `_id` is the user id."""

    model_config = _CONFIG

    id: str  # type: ignore[assignment]  # a natural key instead of Beanie's ObjectId
    name: str
    kind: str = UserKind.STAFF.value
    email: str | None = None
    image: str | None = None

    class Settings:
        name: ClassVar[str] = "chat_users"


class OrgDocument(Document):
    """An org; `_id` is the org id."""

    model_config = _CONFIG

    id: str  # type: ignore[assignment]
    name: str

    class Settings:
        name: ClassVar[str] = "chat_orgs"


class MembershipDocument(Document):
    """A user's membership of an org, carrying the user's folded search keys.

    `sort_name` is `SearchKeys.joined` (the folded name, words joined by one space): the
    member-list order and the whole-name prefix field. `search_spelled`, `search_words`
    and `search_email` are the other `SearchKeys` fields. They are copies of the user's
    name and email, rewritten by `put_user` whenever the user is written.
    """

    model_config = _CONFIG

    org_id: str
    user_id: str
    role: str
    sort_name: str
    search_spelled: str
    search_words: list[str]
    search_email: str

    class Settings:
        name: ClassVar[str] = "chat_memberships"
        indexes: ClassVar[list[IndexModel]] = [
            # One membership per (org, user): upserts from concurrent syncs meet here.
            IndexModel([("orgId", ASCENDING), ("userId", ASCENDING)], unique=True, name="org_user"),
            # Rewriting a renamed user's search keys in every org.
            IndexModel([("userId", ASCENDING)], name="user"),
            # Member list keyset (orgId, sortName, userId), and whole-name prefix search.
            IndexModel(
                [("orgId", ASCENDING), ("sortName", ASCENDING), ("userId", ASCENDING)],
                name="org_sort_name",
            ),
            IndexModel([("orgId", ASCENDING), ("searchSpelled", ASCENDING)], name="org_spelled"),
            # Multikey: a prefix on any word of the name.
            IndexModel([("orgId", ASCENDING), ("searchWords", ASCENDING)], name="org_words"),
            IndexModel([("orgId", ASCENDING), ("searchEmail", ASCENDING)], name="org_email"),
        ]


class AppointmentDocument(Document):
    """An appointment with its chat fields; `_id` is the appointment id.

    `chat_opens_at` (start minus activation minutes) is stored so that the due-activation
    query is one index range scan. Times are BSON dates: UTC, to the millisecond.
    """

    model_config = _CONFIG

    id: str  # type: ignore[assignment]
    org_id: str
    pet_owner_id: str
    vet_id: str
    starts_at: datetime
    pet_name: str = ""
    pet_owner_name: str = ""
    chat_channel_id: str | None = None
    chat_status: str | None = None
    chat_activation_minutes: int | None = None
    chat_opens_at: datetime
    # A lifecycle transition in progress: who claimed it and until when (compare-and-set).
    transition_owner: str | None = None
    transition_until: datetime | None = None

    class Settings:
        name: ClassVar[str] = "chat_appointments"
        indexes: ClassVar[list[IndexModel]] = [
            IndexModel(
                [("chatStatus", ASCENDING), ("chatOpensAt", ASCENDING)], name="due_activation"
            ),
            IndexModel([("chatStatus", ASCENDING), ("startsAt", ASCENDING)], name="due_ending"),
            IndexModel([("chatChannelId", ASCENDING)], name="chat_channel"),
        ]


class DeviceDocument(Document):
    """A push token; `_id` is the token itself, so a token has exactly one owner."""

    model_config = _CONFIG

    id: str  # type: ignore[assignment]
    user_id: str
    platform: str
    registered_at: int = 0  # time.time_ns() of the latest registration

    class Settings:
        name: ClassVar[str] = "chat_devices"
        indexes: ClassVar[list[IndexModel]] = [
            IndexModel([("userId", ASCENDING)], name="user"),
            # Finding a user's oldest tokens beyond the cap.
            IndexModel([("userId", ASCENDING), ("registeredAt", DESCENDING)], name="user_newest"),
        ]


class WebhookEventDocument(Document):
    """One claim of an effect key (`push:{event}:{user}`) by one owner, under a lease.

    A key's claims are numbered: the first has the key itself as `_id`, the next ones
    `{key}#{generation}`. Taking a key is inserting its next generation, which succeeds
    once on any server (a unique `_id`); a holder that dies leaves its generation to
    lapse at `until`, and the next claim inserts the one after. `done` marks a confirmed
    claim. (A claim written before leases existed has no `until`: confirmed, for good.)
    """

    model_config = _CONFIG

    id: str  # type: ignore[assignment]
    key: str | None = None
    generation: int = 0
    owner: str | None = None
    until: datetime | None = None
    done: bool = False
    claimed_at: datetime

    class Settings:
        name: ClassVar[str] = "chat_webhook_events"
        indexes: ClassVar[list[IndexModel]] = [
            IndexModel([("key", ASCENDING), ("generation", ASCENDING)], name="claims_by_key"),
            IndexModel(
                [("claimedAt", ASCENDING)],
                name="expire_claims",
                expireAfterSeconds=WEBHOOK_EVENT_RETENTION_SECONDS,
            ),
        ]


class ChannelLockDocument(Document):
    """A short-lived lock (`end:{channel}`, `members:{channel}`); `_id` is the key, so at most
    one owner holds it. It lapses at `until`; the TTL index later removes it."""

    model_config = _CONFIG

    id: str  # type: ignore[assignment]
    owner: str
    until: datetime

    class Settings:
        name: ClassVar[str] = "chat_locks"
        indexes: ClassVar[list[IndexModel]] = [
            IndexModel(
                [("until", ASCENDING)],
                name="expire_locks",
                expireAfterSeconds=CHANNEL_LOCK_RETENTION_SECONDS,
            )
        ]


class InboxEventDocument(Document):
    """A received webhook event; `_id` is Stream's webhook id, so recording is one insert.

    `due_at` is when a pending event is next tried, or when a processing event's lease
    runs out; `(state, dueAt)` is the worker's lease query. `expire_at` is set once the
    event is done, for the TTL index; parked events never expire.
    """

    model_config = _CONFIG

    id: str  # type: ignore[assignment]
    identity: str | None = None
    type: str
    payload: bytes
    state: str
    received_at: datetime
    due_at: datetime
    attempts: int = 0
    lease_id: str | None = None
    last_error: str | None = None
    finished_at: datetime | None = None
    expire_at: datetime | None = None

    class Settings:
        name: ClassVar[str] = "chat_webhook_inbox"
        indexes: ClassVar[list[IndexModel]] = [
            IndexModel([("state", ASCENDING), ("dueAt", ASCENDING)], name="due"),
            # Sparse: events recorded before identities existed have none.
            IndexModel([("identity", ASCENDING)], name="identity", unique=True, sparse=True),
            IndexModel([("state", ASCENDING), ("finishedAt", ASCENDING)], name="finished"),
            IndexModel([("expireAt", ASCENDING)], name="expire_done", expireAfterSeconds=0),
        ]


class FingerprintDocument(Document):
    """The profile last upserted to the chat provider for a user; `_id` is the user id."""

    model_config = _CONFIG

    id: str  # type: ignore[assignment]
    fingerprint: str

    class Settings:
        name: ClassVar[str] = "chat_profile_fingerprints"


ALL_DOCUMENTS: tuple[type[Document], ...] = (
    UserDocument,
    OrgDocument,
    MembershipDocument,
    AppointmentDocument,
    DeviceDocument,
    WebhookEventDocument,
    InboxEventDocument,
    FingerprintDocument,
    ChannelLockDocument,
)
