"""parse attempts per ingest item; last claim time and per-tenant indexes for fair claims

`ingest_items.parse_attempts` counts the times a worker started parsing the item; a
document that kills its worker is failed after `MAX_PARSE_ATTEMPTS` instead of being
claimed again forever. `ingest_jobs.claimed_at` is the last time a worker took the
job, and the indexes serve the claim's per-organization and per-knowledge-base counts
of running jobs and latest claims (`kb_service/workers/ingest/queue.py`). Existing rows start at
zero attempts and never claimed.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 03:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ingest_items", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("parse_attempts", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("ingest_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(), nullable=True))
        batch_op.create_index("ix_jobs_org_status", ["organization_id", "status"], unique=False)
        batch_op.create_index("ix_jobs_kb_status", ["knowledge_base_id", "status"], unique=False)
        batch_op.create_index(
            "ix_jobs_org_claimed", ["organization_id", "claimed_at"], unique=False
        )
        batch_op.create_index(
            "ix_jobs_kb_claimed", ["knowledge_base_id", "claimed_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("ingest_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_kb_claimed")
        batch_op.drop_index("ix_jobs_org_claimed")
        batch_op.drop_index("ix_jobs_kb_status")
        batch_op.drop_index("ix_jobs_org_status")
        batch_op.drop_column("claimed_at")
    with op.batch_alter_table("ingest_items", schema=None) as batch_op:
        batch_op.drop_column("parse_attempts")
