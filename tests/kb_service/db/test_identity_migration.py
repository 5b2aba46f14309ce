"""Revision 0002 on a database that already holds duplicate documents (SQLite and PostgreSQL).

The database is built at revision 0001 with the duplicates concurrent uploads used to
make; upgrading merges each identity to its newest document, tombstones the rest, and
the runtime's start removes the tombstoned documents' vectors.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text

from kb_service.db.database import MIGRATIONS_DIR, Database
from kb_service.runtime import Runtime, build_index
from retrieval.embedding import Embedder
from retrieval.index import IndexPoint, PointFilter, SparseVec
from tests.conftest import make_settings, postgres_url_or_skip


def _upgrade(db: Database, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _seed(db: Database) -> None:
    base = datetime(2026, 11, 1, tzinfo=UTC).replace(tzinfo=None)
    with db.engine.begin() as c:
        c.execute(
            text("INSERT INTO organizations (id, name, created_at) VALUES ('org_a', 'a', :t)"),
            {"t": base},
        )
        c.execute(
            text(
                "INSERT INTO knowledge_bases (id, organization_id, name, chunk_max_tokens, "
                "chunk_overlap_tokens, metadata, created_at, updated_at) "
                "VALUES ('kb_a', 'org_a', 'a', 200, 30, '{}', :t, :t)"
            ),
            {"t": base},
        )
        # same.txt four times (the race), two text records with only a title, one external id
        rows = [
            ("doc_s1", "same.txt", None, "same", 3, 1),
            ("doc_s2", "same.txt", None, "same", 1, 4),  # the newest: kept
            ("doc_s3", "same.txt", None, "same", 1, 2),
            ("doc_s4", "same.txt", None, "same", 1, 3),
            ("doc_t1", "Untitled", None, "Untitled", 1, 5),
            ("doc_t2", "Untitled", None, "Untitled", 1, 6),
            ("doc_e1", "faq", "faq-1", "FAQ", 2, 7),
        ]
        for doc_id, source, external_id, title, version, minutes in rows:
            at = base + timedelta(minutes=minutes)
            c.execute(
                text(
                    "INSERT INTO documents (id, organization_id, knowledge_base_id, title, source, "
                    "source_type, external_id, content_hash, version, status, chunk_count, "
                    "char_count, text, metadata, created_at, updated_at) VALUES (:id, 'org_a', "
                    "'kb_a', :title, :source, 'text', :ext, :id, :v, 'indexed', 1, 5, 'hello', "
                    "'{}', :at, :at)"
                ),
                {
                    "id": doc_id,
                    "title": title,
                    "source": source,
                    "ext": external_id,
                    "v": version,
                    "at": at,
                },
            )
            c.execute(
                text(
                    "INSERT INTO chunks (id, point_id, document_id, knowledge_base_id, "
                    "organization_id, ordinal, text, char_start, char_end, token_count, section, "
                    "created_at) VALUES (:cid, :pid, :id, 'kb_a', 'org_a', 0, 'hello', 0, 5, 1, "
                    "'[]', :at)"
                ),
                {"cid": "chk_" + doc_id, "pid": "p-" + doc_id, "id": doc_id, "at": at},
            )
        c.execute(
            text(
                "INSERT INTO ingest_jobs (id, organization_id, knowledge_base_id, status, "
                "documents_total, documents_done, chunks_indexed, attempts, created_at) "
                "VALUES ('job_1', 'org_a', 'kb_a', 'completed', 1, 1, 1, 1, :t)"
            ),
            {"t": base},
        )
        c.execute(
            text(
                "INSERT INTO ingest_items (id, job_id, position, filename, metadata, content_hash, "
                "status, document_id, document_version, chunk_count) VALUES ('itm_1', 'job_1', 0, "
                "'same.txt', '{}', 'x', 'indexed', 'doc_s1', 3, 1)"
            )
        )


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_upgrade_merges_duplicates_to_the_newest_and_drops_their_vectors(
    backend: str, tmp_path: Path, embedder: Embedder
) -> None:
    overrides = {"database_url": postgres_url_or_skip()} if backend == "postgresql" else {}
    settings = make_settings(tmp_path, **overrides)
    db = Database(settings.resolved_database_url)
    _upgrade(db, "0001")
    _seed(db)
    # vectors of every seeded document, as the old version left them
    seeded = build_index(settings, embedder.dimension)
    vector = list(embedder.embed_query("hello"))
    seeded.upsert(
        [
            IndexPoint(
                f"00000000-0000-0000-0000-00000000000{i}",
                vector,
                SparseVec((1,), (1.0,)),
                {"document_id": doc, "version": 1},
            )
            for i, doc in enumerate(["doc_s1", "doc_s2", "doc_s3", "doc_s4", "doc_t1"])
        ]
    )
    seeded.close()

    runtime = Runtime.build(settings, embedder=embedder)  # migrates, then purges tombstones
    try:
        with runtime.db.engine.connect() as c:
            docs = {
                row[0]: row[1:]
                for row in c.execute(
                    text("SELECT id, identity_key, version, latest_version FROM documents")
                )
            }
            chunks = {row[0] for row in c.execute(text("SELECT document_id FROM chunks"))}
            tombstones = c.execute(text("SELECT count(*) FROM vector_tombstones")).scalar()
        assert set(docs) == {"doc_s2", "doc_t1", "doc_t2", "doc_e1"}
        assert docs["doc_s2"] == ("source:same.txt", 1, 3)  # later uploads go on from v4
        assert docs["doc_t1"][0] is None and docs["doc_t2"][0] is None  # never merged
        assert docs["doc_e1"] == ("external_id:faq-1", 2, 2)
        assert chunks == set(docs)
        assert tombstones == 0
        for gone in ("doc_s1", "doc_s3", "doc_s4"):
            assert runtime.index.count(PointFilter.where(document_id=gone)) == 0
        assert runtime.index.count(PointFilter.where(document_id="doc_s2")) == 1
    finally:
        runtime.close()
        db.dispose()
