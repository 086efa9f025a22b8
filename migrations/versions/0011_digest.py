"""digest: each member's digest choice and due time, themed rooms' weekly digest

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digest_settings",
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("frequency", sa.String(length=8), nullable=False),
        sa.Column("chosen", sa.Boolean(), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("since_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_index("ix_digest_settings_next_at", "digest_settings", ["next_at"])
    op.create_table(
        "digest_rooms",
        sa.Column("room_id", sa.String(length=255), nullable=False),
        sa.Column("theme", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("since_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("room_id"),
    )


def downgrade() -> None:
    op.drop_table("digest_rooms")
    op.drop_index("ix_digest_settings_next_at", table_name="digest_settings")
    op.drop_table("digest_settings")
