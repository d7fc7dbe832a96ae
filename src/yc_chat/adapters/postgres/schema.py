"""The tables, as SQLAlchemy Core metadata: what the migrations build and are checked against.

Every text the stores compare or sort (ids, folded search keys) is `COLLATE "C"`: byte order
of UTF-8, which is code-point order, the order Python's `<` and the in-memory adapters use;
and with it a plain btree answers a prefix as a range scan, whatever the database's locale.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# Named constraints and indexes: migrations and autogenerate compare them by name.
METADATA = sa.MetaData(
    naming_convention={
        "pk": "%(table_name)s_pkey",
        "uq": "%(table_name)s_%(column_0_name)s_key",
        "fk": "%(table_name)s_%(column_0_name)s_fkey",
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    }
)

# Alembic's bookkeeping table, named apart from a host platform's own `alembic_version`.
VERSION_TABLE = "yc_chat_schema_version"

C = "C"


def _key(name: str, *, nullable: bool = False, primary_key: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.Text(collation=C), nullable=nullable, primary_key=primary_key)


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


USERS = sa.Table(
    "chat_users",
    METADATA,
    _key("id", primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("email", sa.Text),
    sa.Column("image", sa.Text),
)

ORGS = sa.Table(
    "chat_orgs",
    METADATA,
    _key("id", primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
)

# The SQL function (migration 0002) writing a member as listed to other members: a JSON
# object of id, name, email, image and role, compact, keys in that order, null where absent,
# exactly as msgspec encodes the HTTP answer's MemberOut (`to_json` escapes strings as
# msgspec does). IMMUTABLE, so a generated column may use it.
MEMBER_JSON = "chat_member_json"

# Each membership carries its user's folded SearchKeys, so typeahead and member pages read
# this table alone: keyset pages on (org_id, sort_name, user_id), whole-name prefixes as
# ranges of that index (already in page order) and of (org_id, search_spelled), email
# prefixes likewise. search_spelled is NULL where it equals sort_name (most names), so
# its index holds only the names with punctuation and its range stays short.
# It carries its user's profile too (name, kind, email, image: copies of chat_users', kept
# by the same writes as the keys), so a page of 100 members is one index range without 100
# probes of chat_users: measured at 100k members, 70 µs of server CPU per page against 190.
# And the member as listed to other members, as JSON (`listed`, listing.py), which
# PostgreSQL computes on every write of the row: a page's answer is those joined.
MEMBERSHIPS = sa.Table(
    "chat_memberships",
    METADATA,
    sa.Column("org_id", sa.Text(collation=C), sa.ForeignKey("chat_orgs.id"), primary_key=True),
    sa.Column("user_id", sa.Text(collation=C), sa.ForeignKey("chat_users.id"), primary_key=True),
    sa.Column("role", sa.Text, nullable=False),
    _key("sort_name"),
    _key("search_spelled", nullable=True),
    _key("search_email"),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("email", sa.Text),
    sa.Column("image", sa.Text),
    sa.Column(
        "listed",
        sa.Text,
        sa.Computed(f"{MEMBER_JSON}(user_id, name, email, image, role)", persisted=True),
        nullable=False,
    ),
    sa.Index("ix_chat_memberships_user_id", "user_id"),
    sa.Index("ix_chat_memberships_org_id_sort_name", "org_id", "sort_name", "user_id"),
    sa.Index(
        "ix_chat_memberships_org_id_search_spelled",
        "org_id",
        "search_spelled",
        postgresql_where=sa.text("search_spelled IS NOT NULL"),
    ),
    sa.Index("ix_chat_memberships_org_id_search_email", "org_id", "search_email"),
)

# The words of each member's folded name, one row each: a prefix of any word is a range of
# the primary key. The membership's whole-name keys are repeated here, so the word query
# orders and excludes whole-name matches without visiting memberships. Deleted with their
# membership.
MEMBER_WORDS = sa.Table(
    "chat_member_words",
    METADATA,
    _key("org_id", primary_key=True),
    _key("word", primary_key=True),
    _key("user_id", primary_key=True),
    _key("sort_name"),
    _key("search_spelled", nullable=True),
    sa.ForeignKeyConstraint(
        ["org_id", "user_id"],
        ["chat_memberships.org_id", "chat_memberships.user_id"],
        ondelete="CASCADE",
        name="chat_member_words_membership_fkey",
    ),
    sa.Index("ix_chat_member_words_user_id", "user_id", "org_id"),
)

APPOINTMENTS = sa.Table(
    "chat_appointments",
    METADATA,
    _key("id", primary_key=True),
    _key("org_id"),
    _key("pet_owner_id"),
    _key("vet_id"),
    _time("starts_at"),
    sa.Column("pet_name", sa.Text, nullable=False),
    sa.Column("pet_owner_name", sa.Text, nullable=False),
    _key("chat_channel_id", nullable=True),
    sa.Column("chat_status", sa.Text),
    sa.Column("chat_activation_minutes", sa.Integer),
    # starts_at minus the activation minutes, stored so the due query is one index range.
    _time("chat_opens_at"),
    sa.Column("transition_owner", sa.Text),
    _time("transition_until", nullable=True),
    sa.Index("ix_chat_appointments_chat_channel_id", "chat_channel_id"),
    # The lifecycle's due queries: partial indexes holding only the chats still to move on.
    sa.Index(
        "ix_chat_appointments_due_activation",
        "chat_opens_at",
        "id",
        postgresql_where=sa.text("chat_status = 'pending' AND chat_channel_id IS NOT NULL"),
    ),
    sa.Index(
        "ix_chat_appointments_due_ending",
        "starts_at",
        "id",
        postgresql_where=sa.text(
            "chat_status IN ('pending', 'active') AND chat_channel_id IS NOT NULL"
        ),
    ),
)

DEVICES = sa.Table(
    "chat_devices",
    METADATA,
    _key("token", primary_key=True),
    _key("user_id"),
    sa.Column("platform", sa.Text, nullable=False),
    # Registration order from a sequence: the newest registration has the highest number.
    sa.Column("registered", sa.BigInteger, nullable=False),
    sa.Index("ix_chat_devices_user_id", "user_id", "registered"),
)
DEVICE_ORDER = sa.Sequence("chat_devices_registered_seq", metadata=METADATA)

FINGERPRINTS = sa.Table(
    "chat_profile_fingerprints",
    METADATA,
    _key("user_id", primary_key=True),
    sa.Column("fingerprint", sa.Text, nullable=False),
)

# Claims of once-only side effects, one row per key: who holds it until when, everyone who
# ever took it (a stale holder's confirmation still counts), and whether it is done.
EFFECT_CLAIMS = sa.Table(
    "chat_effect_claims",
    METADATA,
    _key("key", primary_key=True),
    sa.Column("owner", sa.Text, nullable=False),
    _time("until"),
    sa.Column("owners", postgresql.ARRAY(sa.Text), nullable=False),
    sa.Column("done", sa.Boolean, nullable=False),
    _time("claimed_at"),
    sa.Index("ix_chat_effect_claims_claimed_at", "claimed_at"),
)

INBOX = sa.Table(
    "chat_webhook_inbox",
    METADATA,
    _key("id", primary_key=True),
    # What the event is, whoever delivered it; NULL when the body tells nothing.
    _key("identity", nullable=True),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("payload", postgresql.BYTEA, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    _time("received_at"),
    _time("due_at"),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("lease_id", sa.Text),
    sa.Column("last_error", sa.Text),
    _time("finished_at", nullable=True),
    # Done events are deleted after this (kept until then to recognise redeliveries).
    _time("expire_at", nullable=True),
    sa.UniqueConstraint("identity", name="chat_webhook_inbox_identity_key"),
    sa.Index(
        "ix_chat_webhook_inbox_due",
        "due_at",
        "id",
        postgresql_where=sa.text("state IN ('pending', 'processing')"),
    ),
    sa.Index(
        "ix_chat_webhook_inbox_parked",
        "finished_at",
        "id",
        postgresql_where=sa.text("state = 'parked'"),
    ),
    sa.Index(
        "ix_chat_webhook_inbox_expire_at",
        "expire_at",
        postgresql_where=sa.text("expire_at IS NOT NULL"),
    ),
    sa.Index("ix_chat_webhook_inbox_state", "state"),
)

CHANNEL_LOCKS = sa.Table(
    "chat_channel_locks",
    METADATA,
    _key("key", primary_key=True),
    sa.Column("owner", sa.Text, nullable=False),
    _time("until"),
    sa.Index("ix_chat_channel_locks_until", "until"),
)
