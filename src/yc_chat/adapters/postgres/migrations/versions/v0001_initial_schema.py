"""The initial schema: directory, appointments, devices, fingerprints, claims, inbox, locks.

Revision ID: 0001
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Registration order of push devices (chat_devices.registered).
    op.execute(sa.schema.CreateSequence(sa.Sequence("chat_devices_registered_seq")))
    op.create_table(
        "chat_appointments",
        sa.Column("id", sa.Text(collation="C"), nullable=False),
        sa.Column("org_id", sa.Text(collation="C"), nullable=False),
        sa.Column("pet_owner_id", sa.Text(collation="C"), nullable=False),
        sa.Column("vet_id", sa.Text(collation="C"), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pet_name", sa.Text(), nullable=False),
        sa.Column("pet_owner_name", sa.Text(), nullable=False),
        sa.Column("chat_channel_id", sa.Text(collation="C"), nullable=True),
        sa.Column("chat_status", sa.Text(), nullable=True),
        sa.Column("chat_activation_minutes", sa.Integer(), nullable=True),
        sa.Column("chat_opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("transition_owner", sa.Text(), nullable=True),
        sa.Column("transition_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("chat_appointments_pkey")),
    )
    op.create_index(
        "ix_chat_appointments_chat_channel_id",
        "chat_appointments",
        ["chat_channel_id"],
        unique=False,
    )
    op.create_index(
        "ix_chat_appointments_due_activation",
        "chat_appointments",
        ["chat_opens_at", "id"],
        unique=False,
        postgresql_where=sa.text("chat_status = 'pending' AND chat_channel_id IS NOT NULL"),
    )
    op.create_index(
        "ix_chat_appointments_due_ending",
        "chat_appointments",
        ["starts_at", "id"],
        unique=False,
        postgresql_where=sa.text(
            "chat_status IN ('pending', 'active') AND chat_channel_id IS NOT NULL"
        ),
    )
    op.create_table(
        "chat_channel_locks",
        sa.Column("key", sa.Text(collation="C"), nullable=False),
        sa.Column("owner", sa.Text(), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("chat_channel_locks_pkey")),
    )
    op.create_index("ix_chat_channel_locks_until", "chat_channel_locks", ["until"], unique=False)
    op.create_table(
        "chat_devices",
        sa.Column("token", sa.Text(collation="C"), nullable=False),
        sa.Column("user_id", sa.Text(collation="C"), nullable=False),
        sa.Column("platform", sa.Text(), nullable=False),
        sa.Column("registered", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("token", name=op.f("chat_devices_pkey")),
    )
    op.create_index(
        "ix_chat_devices_user_id", "chat_devices", ["user_id", "registered"], unique=False
    )
    op.create_table(
        "chat_effect_claims",
        sa.Column("key", sa.Text(collation="C"), nullable=False),
        sa.Column("owner", sa.Text(), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owners", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("chat_effect_claims_pkey")),
    )
    op.create_index(
        "ix_chat_effect_claims_claimed_at", "chat_effect_claims", ["claimed_at"], unique=False
    )
    op.create_table(
        "chat_orgs",
        sa.Column("id", sa.Text(collation="C"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("chat_orgs_pkey")),
    )
    op.create_table(
        "chat_profile_fingerprints",
        sa.Column("user_id", sa.Text(collation="C"), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("chat_profile_fingerprints_pkey")),
    )
    op.create_table(
        "chat_users",
        sa.Column("id", sa.Text(collation="C"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("image", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("chat_users_pkey")),
    )
    op.create_table(
        "chat_webhook_inbox",
        sa.Column("id", sa.Text(collation="C"), nullable=False),
        sa.Column("identity", sa.Text(collation="C"), nullable=True),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("payload", postgresql.BYTEA(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_id", sa.Text(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expire_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("chat_webhook_inbox_pkey")),
        sa.UniqueConstraint("identity", name="chat_webhook_inbox_identity_key"),
    )
    op.create_index(
        "ix_chat_webhook_inbox_due",
        "chat_webhook_inbox",
        ["due_at", "id"],
        unique=False,
        postgresql_where=sa.text("state IN ('pending', 'processing')"),
    )
    op.create_index(
        "ix_chat_webhook_inbox_expire_at",
        "chat_webhook_inbox",
        ["expire_at"],
        unique=False,
        postgresql_where=sa.text("expire_at IS NOT NULL"),
    )
    op.create_index(
        "ix_chat_webhook_inbox_parked",
        "chat_webhook_inbox",
        ["finished_at", "id"],
        unique=False,
        postgresql_where=sa.text("state = 'parked'"),
    )
    op.create_index("ix_chat_webhook_inbox_state", "chat_webhook_inbox", ["state"], unique=False)
    op.create_table(
        "chat_memberships",
        sa.Column("org_id", sa.Text(collation="C"), nullable=False),
        sa.Column("user_id", sa.Text(collation="C"), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("sort_name", sa.Text(collation="C"), nullable=False),
        sa.Column("search_spelled", sa.Text(collation="C"), nullable=True),
        sa.Column("search_email", sa.Text(collation="C"), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["chat_orgs.id"], name=op.f("chat_memberships_org_id_fkey")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["chat_users.id"], name=op.f("chat_memberships_user_id_fkey")
        ),
        sa.PrimaryKeyConstraint("org_id", "user_id", name=op.f("chat_memberships_pkey")),
    )
    op.create_index(
        "ix_chat_memberships_org_id_search_email",
        "chat_memberships",
        ["org_id", "search_email"],
        unique=False,
    )
    op.create_index(
        "ix_chat_memberships_org_id_search_spelled",
        "chat_memberships",
        ["org_id", "search_spelled"],
        unique=False,
        postgresql_where=sa.text("search_spelled IS NOT NULL"),
    )
    op.create_index(
        "ix_chat_memberships_org_id_sort_name",
        "chat_memberships",
        ["org_id", "sort_name", "user_id"],
        unique=False,
    )
    op.create_index("ix_chat_memberships_user_id", "chat_memberships", ["user_id"], unique=False)
    op.create_table(
        "chat_member_words",
        sa.Column("org_id", sa.Text(collation="C"), nullable=False),
        sa.Column("word", sa.Text(collation="C"), nullable=False),
        sa.Column("user_id", sa.Text(collation="C"), nullable=False),
        sa.Column("sort_name", sa.Text(collation="C"), nullable=False),
        sa.Column("search_spelled", sa.Text(collation="C"), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id", "user_id"],
            ["chat_memberships.org_id", "chat_memberships.user_id"],
            name="chat_member_words_membership_fkey",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "word", "user_id", name=op.f("chat_member_words_pkey")),
    )
    op.create_index(
        "ix_chat_member_words_user_id", "chat_member_words", ["user_id", "org_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_chat_member_words_user_id", table_name="chat_member_words")
    op.drop_table("chat_member_words")
    op.drop_index("ix_chat_memberships_user_id", table_name="chat_memberships")
    op.drop_index("ix_chat_memberships_org_id_sort_name", table_name="chat_memberships")
    op.drop_index(
        "ix_chat_memberships_org_id_search_spelled",
        table_name="chat_memberships",
        postgresql_where=sa.text("search_spelled IS NOT NULL"),
    )
    op.drop_index("ix_chat_memberships_org_id_search_email", table_name="chat_memberships")
    op.drop_table("chat_memberships")
    op.drop_index("ix_chat_webhook_inbox_state", table_name="chat_webhook_inbox")
    op.drop_index(
        "ix_chat_webhook_inbox_parked",
        table_name="chat_webhook_inbox",
        postgresql_where=sa.text("state = 'parked'"),
    )
    op.drop_index(
        "ix_chat_webhook_inbox_expire_at",
        table_name="chat_webhook_inbox",
        postgresql_where=sa.text("expire_at IS NOT NULL"),
    )
    op.drop_index(
        "ix_chat_webhook_inbox_due",
        table_name="chat_webhook_inbox",
        postgresql_where=sa.text("state IN ('pending', 'processing')"),
    )
    op.drop_table("chat_webhook_inbox")
    op.drop_table("chat_users")
    op.drop_table("chat_profile_fingerprints")
    op.drop_table("chat_orgs")
    op.drop_index("ix_chat_effect_claims_claimed_at", table_name="chat_effect_claims")
    op.drop_table("chat_effect_claims")
    op.drop_index("ix_chat_devices_user_id", table_name="chat_devices")
    op.drop_table("chat_devices")
    op.drop_index("ix_chat_channel_locks_until", table_name="chat_channel_locks")
    op.drop_table("chat_channel_locks")
    op.drop_index(
        "ix_chat_appointments_due_ending",
        table_name="chat_appointments",
        postgresql_where=sa.text(
            "chat_status IN ('pending', 'active') AND chat_channel_id IS NOT NULL"
        ),
    )
    op.drop_index(
        "ix_chat_appointments_due_activation",
        table_name="chat_appointments",
        postgresql_where=sa.text("chat_status = 'pending' AND chat_channel_id IS NOT NULL"),
    )
    op.drop_index("ix_chat_appointments_chat_channel_id", table_name="chat_appointments")
    op.drop_table("chat_appointments")
    op.execute(sa.schema.DropSequence(sa.Sequence("chat_devices_registered_seq")))
