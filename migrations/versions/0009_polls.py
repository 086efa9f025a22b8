"""polls: native Matrix polls and the responses seen to them

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "polls",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("room_id", sa.String(length=255), nullable=False),
        sa.Column("creator", sa.String(length=255), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("max_selections", sa.Integer(), nullable=False),
        sa.Column("disclosed", sa.Boolean(), nullable=False),
        sa.Column("role", sa.String(length=64), nullable=True),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("start_event_id", sa.String(length=255), nullable=True),
        sa.Column("text_event_id", sa.String(length=255), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_polls")),
    )
    op.create_index(op.f("ix_polls_room_id"), "polls", ["room_id"], unique=False)
    op.create_index(op.f("ix_polls_creator"), "polls", ["creator"], unique=False)
    op.create_index(op.f("ix_polls_closes_at"), "polls", ["closes_at"], unique=False)
    op.create_index(op.f("ix_polls_start_event_id"), "polls", ["start_event_id"], unique=False)
    op.create_index(op.f("ix_polls_text_event_id"), "polls", ["text_event_id"], unique=False)
    op.create_table(
        "poll_responses",
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("voter", sa.String(length=255), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=True),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("via", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["polls.id"], name=op.f("fk_poll_responses_poll_id_polls"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_poll_responses")),
    )
    op.create_index(op.f("ix_poll_responses_poll_id"), "poll_responses", ["poll_id"], unique=False)
    op.create_index(op.f("ix_poll_responses_voter"), "poll_responses", ["voter"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_poll_responses_voter"), table_name="poll_responses")
    op.drop_index(op.f("ix_poll_responses_poll_id"), table_name="poll_responses")
    op.drop_table("poll_responses")
    op.drop_index(op.f("ix_polls_text_event_id"), table_name="polls")
    op.drop_index(op.f("ix_polls_start_event_id"), table_name="polls")
    op.drop_index(op.f("ix_polls_closes_at"), table_name="polls")
    op.drop_index(op.f("ix_polls_creator"), table_name="polls")
    op.drop_index(op.f("ix_polls_room_id"), table_name="polls")
    op.drop_table("polls")
