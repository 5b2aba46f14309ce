"""document identity: one document per (knowledge base, identity), reserved versions

Adds `documents.identity_key` (unique per knowledge base), `latest_version` and
`pending_versions`, an index on `chunks.point_id` (liveness) and `vector_tombstones`.

Databases written before this revision may hold several documents for one identity
(concurrent uploads raced). They are merged to the newest: the most recently updated
document of each identity is kept, with `latest_version` raised to the highest version
any of them reached so later versions keep counting up; the others and their chunks
are deleted, and their ids are written to `vector_tombstones` so the runtime deletes
their vectors at its next start (a migration cannot reach the vector index).

An identity is taken from the newest ingest item that wrote the document (its
`external_id`, else source URL or filename, the same rule ingestion applies), else
from the document's own `external_id` or `source_url`, else its `source` unless that
is only the title (a text record with no identity, which never merges).

Revision ID: 0002
Revises: 0001
"""

from collections import defaultdict
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _identity(external_id, source_url, filename):  # type: ignore[no-untyped-def]
    if external_id:
        return "external_id:" + external_id
    source = source_url or filename
    return "source:" + source if source else None


def upgrade() -> None:
    # Plain ADD COLUMN and CREATE INDEX: no table is rebuilt, because rebuilding
    # `documents` on SQLite with foreign keys on would cascade-delete its chunks.
    op.add_column("documents", sa.Column("identity_key", sa.String(length=2100), nullable=True))
    op.add_column(
        "documents", sa.Column("latest_version", sa.Integer(), nullable=False, server_default="1")
    )
    op.add_column(
        "documents",
        sa.Column("pending_versions", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_table(
        "vector_tombstones",
        sa.Column("document_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_vector_tombstones")),
    )
    connection = op.get_bind()
    connection.execute(sa.text("UPDATE documents SET latest_version = version"))
    _backfill_and_merge(connection)
    op.create_index(
        "uq_documents_identity", "documents", ["knowledge_base_id", "identity_key"], unique=True
    )
    op.create_index("ix_chunks_point", "chunks", ["point_id"], unique=False)


def _backfill_and_merge(connection: sa.Connection) -> None:
    documents = connection.execute(
        sa.text(
            "SELECT id, knowledge_base_id, external_id, source_url, source, title, version, "
            "updated_at FROM documents"
        )
    ).all()
    newest_item: dict[str, tuple[str | None, str | None, str | None]] = {}
    for document_id, external_id, source_url, filename in connection.execute(
        sa.text(
            "SELECT i.document_id, i.external_id, i.source_url, i.filename "
            "FROM ingest_items i JOIN ingest_jobs j ON j.id = i.job_id "
            "WHERE i.document_id IS NOT NULL AND i.status = 'indexed' "
            "ORDER BY j.created_at, i.position"
        )
    ):
        newest_item[document_id] = (external_id, source_url, filename)  # later rows win
    groups: dict[tuple[str, str], list[tuple[str, int, object]]] = defaultdict(list)
    for doc_id, kb_id, external_id, source_url, source, title, version, updated_at in documents:
        if doc_id in newest_item:
            key = _identity(*newest_item[doc_id])
        else:
            key = _identity(external_id, source_url, source if source != title else None)
        if key is None:
            continue
        connection.execute(
            sa.text("UPDATE documents SET identity_key = :key WHERE id = :id"),
            {"key": key, "id": doc_id},
        )
        groups[(kb_id, key)].append((doc_id, version, updated_at))
    now = datetime.now(UTC).replace(tzinfo=None)
    for members in groups.values():
        if len(members) < 2:
            continue
        members.sort(key=lambda m: (m[2], m[1]), reverse=True)
        keep = members[0][0]
        highest = max(m[1] for m in members)
        connection.execute(
            sa.text("UPDATE documents SET latest_version = :v WHERE id = :id"),
            {"v": highest, "id": keep},
        )
        for doc_id, _version, _updated in members[1:]:
            connection.execute(
                sa.text("DELETE FROM chunks WHERE document_id = :id"), {"id": doc_id}
            )
            connection.execute(sa.text("DELETE FROM documents WHERE id = :id"), {"id": doc_id})
            connection.execute(
                sa.text(
                    "INSERT INTO vector_tombstones (document_id, created_at) VALUES (:id, :at)"
                ),
                {"id": doc_id, "at": now},
            )


def downgrade() -> None:
    op.drop_index("ix_chunks_point", table_name="chunks")
    op.drop_index("uq_documents_identity", table_name="documents")
    for column in ("pending_versions", "latest_version", "identity_key"):
        op.drop_column("documents", column)
    op.drop_table("vector_tombstones")
