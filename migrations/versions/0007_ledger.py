"""the ledger replaces translation links and profile echoes; no "reads both languages"

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 20:40:00

The rows of translation_links and profile_echoes become sent_events rows, so
that redactions, edits and erasure keep finding what the bot sent before the
upgrade: a translation link is "translate.translation" (an edit link, whose
target was "edit:<lang>", is "translate.edit") about the source message,
naming its author, with the target language as detail; a profile echo is
"members.profile" naming the member (its room is the outbox row's). The
downgrade recreates both tables empty: the ledger keeps what it has.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_COPY_TRANSLATIONS = """
INSERT INTO sent_events (outbox_id, room_id, purpose, subject, user_id, detail, created_at)
SELECT outbox_id, room_id,
       CASE WHEN target_lang LIKE 'edit:%' THEN 'translate.edit' ELSE 'translate.translation' END,
       source_event_id, author,
       CASE WHEN target_lang LIKE 'edit:%' THEN substr(target_lang, 6) ELSE target_lang END,
       CURRENT_TIMESTAMP
FROM translation_links ORDER BY id
"""
# An echo whose outbox row is gone has nothing left to redact.
_COPY_ECHOES = """
INSERT INTO sent_events (outbox_id, room_id, purpose, subject, user_id, detail, created_at)
SELECT profile_echoes.outbox_id, outbox.room_id, 'members.profile', NULL, profile_echoes.user_id, NULL,
       CURRENT_TIMESTAMP
FROM profile_echoes JOIN outbox ON outbox.id = profile_echoes.outbox_id
ORDER BY profile_echoes.id
"""


def upgrade() -> None:
    op.execute(_COPY_TRANSLATIONS)
    op.execute(_COPY_ECHOES)
    op.drop_index(op.f("ix_translation_links_source_event_id"), table_name="translation_links")
    op.drop_table("translation_links")
    op.drop_index(op.f("ix_profile_echoes_user_id"), table_name="profile_echoes")
    op.drop_table("profile_echoes")
    with op.batch_alter_table("translate_users") as batch:
        batch.drop_column("reads_both")


def downgrade() -> None:
    with op.batch_alter_table("translate_users") as batch:
        batch.add_column(sa.Column("reads_both", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "profile_echoes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profile_echoes")),
    )
    op.create_index(op.f("ix_profile_echoes_user_id"), "profile_echoes", ["user_id"], unique=False)
    op.create_table(
        "translation_links",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("room_id", sa.String(length=255), nullable=False),
        sa.Column("source_event_id", sa.String(length=255), nullable=False),
        sa.Column("target_lang", sa.String(length=8), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_translation_links")),
    )
    op.create_index(
        op.f("ix_translation_links_source_event_id"), "translation_links", ["source_event_id"], unique=False
    )
