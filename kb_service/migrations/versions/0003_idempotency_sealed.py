"""idempotency records sealed: key_hash instead of key, sealed_response instead of headers and body

Idempotency records are a 24 h cache of first responses, and the rows written before
this revision hold their Idempotency-Key and response (which may contain a new API
key's, webhook's or meeting source's secret) in plaintext. They cannot be sealed
afterwards, since sealing needs the Idempotency-Key itself, which the server never
had to keep; so upgrading (and downgrading) simply deletes every idempotency record
by recreating the table. A client retrying within 24 h of the upgrade has its request
run again instead of replayed.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 12:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _create(sealed: bool) -> None:
    if sealed:
        key = [sa.Column("key_hash", sa.String(length=64), nullable=False)]
        response = [sa.Column("sealed_response", sa.LargeBinary(), nullable=True)]
    else:
        key = [sa.Column("key", sa.String(length=255), nullable=False)]
        response = [
            sa.Column("response_headers", sa.JSON(), nullable=True),
            sa.Column("response_body", sa.LargeBinary(), nullable=True),
        ]
    op.create_table(
        "idempotency_records",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("organization_id", sa.String(length=40), nullable=False),
        *key,
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("path", sa.String(length=2000), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        *response,
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_records")),
        sa.UniqueConstraint(
            "organization_id",
            "key_hash" if sealed else "key",
            name=op.f("uq_idempotency_records_organization_id"),
        ),
    )
    with op.batch_alter_table("idempotency_records", schema=None) as batch_op:
        batch_op.create_index("ix_idempotency_expires", ["expires_at"], unique=False)


def _drop() -> None:
    with op.batch_alter_table("idempotency_records", schema=None) as batch_op:
        batch_op.drop_index("ix_idempotency_expires")
    op.drop_table("idempotency_records")


def upgrade() -> None:
    _drop()
    _create(sealed=True)


def downgrade() -> None:
    _drop()
    _create(sealed=False)
