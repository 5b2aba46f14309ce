"""web sources, their sync jobs and the pages they keep in sync

`web_sources` are URLs or sitemaps of a knowledge base, with the next slot of their
schedule (`next_run_at`); `source_syncs` are their sync jobs (claimed under leases,
unique per schedule slot); `source_pages` hold each kept page's validators (ETag,
Last-Modified) and content hash for the next, conditional sync. All three go with
their knowledge base (ON DELETE CASCADE). New tables only: nothing existing changes.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 14:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sources",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("organization_id", sa.String(length=40), nullable=False),
        sa.Column("knowledge_base_id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("include", sa.JSON(), nullable=False),
        sa.Column("exclude", sa.JSON(), nullable=False),
        sa.Column("max_pages", sa.Integer(), nullable=False),
        sa.Column("interval_minutes", sa.Integer(), nullable=True),
        sa.Column("next_run_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["knowledge_base_id"],
            ["knowledge_bases.id"],
            name=op.f("fk_web_sources_knowledge_base_id_knowledge_bases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_web_sources_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sources")),
    )
    with op.batch_alter_table("web_sources") as batch:
        batch.create_index("ix_web_sources_due", ["next_run_at"], unique=False)
        batch.create_index(
            "ix_web_sources_kb_created", ["knowledge_base_id", "created_at", "id"], unique=False
        )
        batch.create_index(
            batch.f("ix_web_sources_organization_id"), ["organization_id"], unique=False
        )
    op.create_table(
        "source_syncs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("source_id", sa.String(length=40), nullable=False),
        sa.Column("organization_id", sa.String(length=40), nullable=False),
        sa.Column("knowledge_base_id", sa.String(length=40), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("scheduled_for", sa.DateTime(), nullable=True),
        sa.Column("allow_mass_delete", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("pages_fetched", sa.Integer(), nullable=False),
        sa.Column("pages_created", sa.Integer(), nullable=False),
        sa.Column("pages_unchanged", sa.Integer(), nullable=False),
        sa.Column("pages_updated", sa.Integer(), nullable=False),
        sa.Column("pages_deleted", sa.Integer(), nullable=False),
        sa.Column("pages_failed", sa.Integer(), nullable=False),
        sa.Column("pages_skipped", sa.Integer(), nullable=False),
        sa.Column("ingest_job_ids", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("failures", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["web_sources.id"],
            name=op.f("fk_source_syncs_source_id_web_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_syncs")),
        sa.UniqueConstraint("source_id", "scheduled_for", name=op.f("uq_source_syncs_source_id")),
    )
    with op.batch_alter_table("source_syncs") as batch:
        batch.create_index("ix_source_syncs_claim", ["status", "created_at"], unique=False)
        batch.create_index(
            "ix_source_syncs_source_created", ["source_id", "created_at", "id"], unique=False
        )
    op.create_table(
        "source_pages",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("source_id", sa.String(length=40), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("url_hash", sa.String(length=64), nullable=False),
        sa.Column("final_url", sa.String(length=2000), nullable=False),
        sa.Column("etag", sa.String(length=500), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["web_sources.id"],
            name=op.f("fk_source_pages_source_id_web_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_pages")),
        sa.UniqueConstraint("source_id", "url_hash", name=op.f("uq_source_pages_source_id")),
    )


def downgrade() -> None:
    op.drop_table("source_pages")
    op.drop_table("source_syncs")
    op.drop_table("web_sources")
