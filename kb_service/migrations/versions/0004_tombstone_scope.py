"""vector tombstones name a document or a knowledge base

`vector_tombstones.document_id` becomes `target_id`, with a `scope` (`document` or
`knowledge_base`) saying which vectors it stands for: deleting a knowledge base
tombstones it whole, with the same filter its vector delete uses. Existing rows (the
documents migration 0002 merged away) keep scope `document`.

Downgrading drops knowledge-base tombstones, which the older schema cannot express:
their vectors stay in the index (never shown, since liveness admits only live
documents' chunks).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch: SQLite rebuilds the table (nothing references it); PostgreSQL alters it
    with op.batch_alter_table("vector_tombstones") as batch:
        batch.alter_column(
            "document_id",
            new_column_name="target_id",
            existing_type=sa.String(length=40),
            existing_nullable=False,
        )
        batch.add_column(
            sa.Column("scope", sa.String(length=20), nullable=False, server_default="document")
        )


def downgrade() -> None:
    op.execute("DELETE FROM vector_tombstones WHERE scope <> 'document'")
    with op.batch_alter_table("vector_tombstones") as batch:
        batch.drop_column("scope")
        batch.alter_column(
            "target_id",
            new_column_name="document_id",
            existing_type=sa.String(length=40),
            existing_nullable=False,
        )
