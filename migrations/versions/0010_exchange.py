"""exchange: requests and knowledge, matches, pending questions; full-text search; profiles' offers/seeks

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 12:00:00
"""

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

RESOURCES = (
    "knowledge",
    "experience",
    "people",
    "facilities",
    "networks",
    "processes",
    "data",
    "reputation",
    "finance",
    "training",
)


def upgrade() -> None:
    items = op.create_table(
        "exchange_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("author", sa.String(length=255), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("resource", sa.String(length=32), nullable=True),
        sa.Column("theme", sa.String(length=64), nullable=True),
        sa.Column("room_id", sa.String(length=255), nullable=True),
        sa.Column("lang", sa.String(length=8), nullable=True),
        sa.Column("side", sa.String(length=2), nullable=True),
        sa.Column("town", sa.String(length=100), nullable=True),
        sa.Column("concepts", sa.JSON(), nullable=False),
        sa.Column("search", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("pinned_by", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_items")),
    )
    for column in ("kind", "status", "author", "resource", "theme", "pinned_by", "created_at", "expires_at"):
        op.create_index(op.f(f"ix_exchange_items_{column}"), "exchange_items", [column], unique=False)
    op.create_table(
        "exchange_matches",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("seek_id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("suggested_to", sa.String(length=255), nullable=False),
        sa.Column("other", sa.String(length=255), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("shared", sa.JSON(), nullable=False),
        sa.Column("km", sa.Float(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("room_id", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["seek_id"],
            ["exchange_items.id"],
            name=op.f("fk_exchange_matches_seek_id_exchange_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["exchange_items.id"],
            name=op.f("fk_exchange_matches_offer_id_exchange_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_matches")),
    )
    for column in ("seek_id", "offer_id", "suggested_to", "other", "state"):
        op.create_index(op.f(f"ix_exchange_matches_{column}"), "exchange_matches", [column], unique=False)
    op.create_table(
        "exchange_prompts",
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("room_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("refs", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_exchange_prompts")),
    )

    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # An external-content FTS5 table over `search`, kept in step by triggers: every insert,
        # update and delete of an item changes the index in the same transaction.
        op.execute(
            "CREATE VIRTUAL TABLE exchange_fts USING fts5(search, content='exchange_items', "
            "content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
        )
        op.execute(
            "CREATE TRIGGER exchange_fts_ai AFTER INSERT ON exchange_items BEGIN "
            "INSERT INTO exchange_fts(rowid, search) VALUES (new.id, new.search); END"
        )
        op.execute(
            "CREATE TRIGGER exchange_fts_ad AFTER DELETE ON exchange_items BEGIN "
            "INSERT INTO exchange_fts(exchange_fts, rowid, search) VALUES ('delete', old.id, old.search); END"
        )
        op.execute(
            "CREATE TRIGGER exchange_fts_au AFTER UPDATE OF search ON exchange_items BEGIN "
            "INSERT INTO exchange_fts(exchange_fts, rowid, search) VALUES ('delete', old.id, old.search); "
            "INSERT INTO exchange_fts(rowid, search) VALUES (new.id, new.search); END"
        )
    elif bind.dialect.name == "postgresql":
        # The 'simple' configuration: the tokens are stemmed already (all three languages).
        op.execute(
            "CREATE INDEX ix_exchange_items_search_fts ON exchange_items USING gin (to_tsvector('simple', search))"
        )

    _profiles_to_rows(bind, items)


def _profiles_to_rows(bind: sa.engine.Connection, items: sa.Table) -> None:
    """Onboarding's offers/seeks (JSON lists of resource keys) become rows of exchange_items
    (origin "profile", text = the profile's sector). Plain SELECT and INSERT, JSON decoded here:
    the same on SQLite and PostgreSQL. Their `search` and `concepts` are filled in by the plugin
    at its start (the stemmer and the taxonomy are the plugin's, not the migration's)."""
    profiles = sa.table(
        "profiles",
        sa.column("user_id", sa.String),
        sa.column("sector", sa.String),
        sa.column("town", sa.String),
        sa.column("side", sa.String),
        sa.column("offers", sa.Text),
        sa.column("seeks", sa.Text),
    )
    now = datetime.now(UTC)
    rows = []
    for user_id, sector, town, side, offers, seeks in bind.execute(
        sa.select(
            profiles.c.user_id,
            profiles.c.sector,
            profiles.c.town,
            profiles.c.side,
            profiles.c.offers,
            profiles.c.seeks,
        )
    ):
        for kind, raw in (("offer", offers), ("seek", seeks)):
            keys = json.loads(raw) if isinstance(raw, str) else raw
            for key in keys or []:
                if key not in RESOURCES:
                    continue
                rows.append(
                    {
                        "kind": kind,
                        "status": "open",
                        "author": user_id,
                        "text": sector or "",
                        "resource": key,
                        "side": side if side in ("nl", "de") else None,
                        "town": town,
                        "concepts": [],
                        "search": "",
                        "origin": "profile",
                        "created_at": now,
                    }
                )
    if rows:
        op.bulk_insert(items, rows)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for trigger in ("exchange_fts_ai", "exchange_fts_ad", "exchange_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS exchange_fts")
    elif bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_exchange_items_search_fts")
    op.drop_table("exchange_prompts")
    for column in ("seek_id", "offer_id", "suggested_to", "other", "state"):
        op.drop_index(op.f(f"ix_exchange_matches_{column}"), table_name="exchange_matches")
    op.drop_table("exchange_matches")
    for column in ("kind", "status", "author", "resource", "theme", "pinned_by", "created_at", "expires_at"):
        op.drop_index(op.f(f"ix_exchange_items_{column}"), table_name="exchange_items")
    op.drop_table("exchange_items")
