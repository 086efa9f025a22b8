"""platform: deferred events, the sent-events ledger, room intents

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 19:55:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deferred_events",
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("room_id", sa.String(length=255), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_deferred_events")),
    )
    op.create_index(op.f("ix_deferred_events_next_at"), "deferred_events", ["next_at"], unique=False)
    op.create_table(
        "sent_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.String(length=255), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=True),
        sa.Column("user_id", sa.String(length=255), nullable=True),
        sa.Column("detail", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sent_events")),
    )
    op.create_index(op.f("ix_sent_events_outbox_id"), "sent_events", ["outbox_id"], unique=False)
    op.create_index(op.f("ix_sent_events_subject"), "sent_events", ["subject"], unique=False)
    op.create_index(op.f("ix_sent_events_user_id"), "sent_events", ["user_id"], unique=False)
    op.create_table(
        "room_intents",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("room_id", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_room_intents")),
    )


def downgrade() -> None:
    op.drop_table("room_intents")
    op.drop_index(op.f("ix_sent_events_user_id"), table_name="sent_events")
    op.drop_index(op.f("ix_sent_events_subject"), table_name="sent_events")
    op.drop_index(op.f("ix_sent_events_outbox_id"), table_name="sent_events")
    op.drop_table("sent_events")
    op.drop_index(op.f("ix_deferred_events_next_at"), table_name="deferred_events")
    op.drop_table("deferred_events")
