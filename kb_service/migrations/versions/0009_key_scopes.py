"""API keys limited to some knowledge bases and projects

`api_keys.scopes` holds `{"knowledge_base_ids": [...], "project_ids": [...]}` for a
scoped key (see `kb_service.services.scopes`); NULL, as for every existing key, is
the whole organization.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 17:20:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scopes", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("scopes")
