"""erasure log: why (request | inactivity | declined)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 20:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Erasures before this revision were all requests (!forget) or inactivity;
    # which one is not recorded, so they are marked "request".
    with op.batch_alter_table("erasure_log") as batch:
        batch.add_column(sa.Column("reason", sa.String(length=16), nullable=False, server_default="request"))


def downgrade() -> None:
    with op.batch_alter_table("erasure_log") as batch:
        batch.drop_column("reason")
