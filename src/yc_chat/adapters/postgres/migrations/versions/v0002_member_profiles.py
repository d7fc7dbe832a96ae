"""Memberships carry their user's profile (name, kind, email, image) and their listing as
JSON (`listed`, computed by PostgreSQL): a member page is one index range, joined.

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

# `to_json` is STABLE only because some types' output depends on settings; for text it
# does not, so this function may be IMMUTABLE (which a generated column requires).
_MEMBER_JSON = """
CREATE FUNCTION chat_member_json(id text, name text, email text, image text, role text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT '{"id":' || to_json(id)::text || ',"name":' || to_json(name)::text
    || ',"email":' || coalesce(to_json(email)::text, 'null')
    || ',"image":' || coalesce(to_json(image)::text, 'null')
    || ',"role":' || to_json(role)::text || '}' $$
"""


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
    op.execute(_MEMBER_JSON)
    op.add_column(
        "chat_memberships",
        sa.Column(
            "listed",
            sa.Text(),
            sa.Computed("chat_member_json(user_id, name, email, image, role)", persisted=True),
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("chat_memberships", "listed")
    op.execute("DROP FUNCTION chat_member_json(text, text, text, text, text)")
    for column in reversed(_PROFILE):
        op.drop_column("chat_memberships", column)
