"""Memberships carry their user's profile (name, kind, email, image) for one-range pages.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PROFILE = ("name", "kind", "email", "image")


def upgrade() -> None:
    for column in _PROFILE:
        op.add_column("chat_memberships", sa.Column(column, sa.Text(), nullable=True))
    op.execute(
        "UPDATE chat_memberships AS m"
        " SET name = u.name, kind = u.kind, email = u.email, image = u.image"
        " FROM chat_users AS u WHERE u.id = m.user_id"
    )
    op.alter_column("chat_memberships", "name", nullable=False)
    op.alter_column("chat_memberships", "kind", nullable=False)


def downgrade() -> None:
    for column in reversed(_PROFILE):
        op.drop_column("chat_memberships", column)
