"""Hybrid, dense and sparse retrieval with filters and MMR, on both Qdrant backends.

Real MiniLM embeddings and real BM25 vectors of real sentences; the same points go into
Qdrant Edge and qdrant-client's local mode, which must rank them identically.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from qdrant_client import QdrantClient

from retrieval.embedding import Embedder
from retrieval.index import IndexPoint, PointFilter, VectorIndex
from retrieval.index.edge import EdgeVectorIndex
from retrieval.index.server import QdrantServerIndex
from retrieval.search import ChunkScope, Retriever, SearchMode
from retrieval.sparse import SparseEncoder
from tests.retrieval.search_corpus import CORPUS


def _uuid(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


@pytest.fixture(scope="module")
def points(embedder: Embedder) -> list[IndexPoint]:
    sparse = SparseEncoder()
    dense = embedder.embed_documents([row[-1] for row in CORPUS])
    return [
        IndexPoint(
            id=_uuid(pid),
            dense=dense[i].tolist(),
            sparse=sparse.embed_document(text),
            payload={
                "name": pid,
                "organization_id": org,
                "knowledge_base_id": kb,
                "document_id": doc,
                "source_type": stype,
                "created_at": created,
                "version": 1,
                "text": text,
            },
        )
        for i, (pid, org, kb, doc, stype, created, text) in enumerate(CORPUS)
    ]


@pytest.fixture(scope="module", params=["edge", "client"])
def index(
    request: pytest.FixtureRequest,
    points: list[IndexPoint],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[VectorIndex]:
    dimension = len(points[0].dense)
    if request.param == "edge":
        idx: VectorIndex = EdgeVectorIndex(Path(tmp_path_factory.mktemp("edge")), dimension)
    else:
        idx = QdrantServerIndex(QdrantClient(location=":memory:"), "chunks", dimension)
    idx.upsert(points)
    yield idx
    idx.close()


@pytest.fixture(scope="module")
def retriever(index: VectorIndex, embedder: Embedder) -> Retriever:
    return Retriever(embedder=embedder, sparse_encoder=SparseEncoder(), index=index)


def names(retriever: Retriever, query: str, limit: int = 5, **kwargs: object) -> list[str]:
    scope = kwargs.pop("scope", ChunkScope(organization_id="org1"))
    hits = retriever.retrieve(query, scope=scope, limit=limit, **kwargs)  # type: ignore[arg-type]
    return [h.payload["name"] for h in hits]


def test_lexical_and_semantic_matches_both_reach_the_hybrid_top(retriever: Retriever) -> None:
    # A rare exact term: BM25 nails it.
    assert names(retriever, "certctl", mode=SearchMode.SPARSE)[0] in {"p1", "p2", "p3"}
    # A paraphrase with no shared content word: only the dense side can find it.
    paraphrase = "how can I change my computer login secret"
    assert "p6" not in names(retriever, paraphrase, mode=SearchMode.SPARSE)
    assert names(retriever, paraphrase, mode=SearchMode.DENSE)[0] == "p6"
    assert names(retriever, paraphrase, limit=2)[0] == "p6"
    assert names(retriever, "who approves expense reports over 500 EUR", limit=1) == ["p5"]


def test_similarity_is_the_cosine_with_the_query(retriever: Retriever, embedder: Embedder) -> None:
    query = "vegetarian lunch days"
    hit = retriever.retrieve(query, scope=ChunkScope(organization_id="org1"), limit=1)[0]
    expected = float(
        np.dot(embedder.embed_query(query), embedder.embed_documents([CORPUS[3][-1]])[0])
    )
    assert hit.payload["name"] == "p4" and hit.similarity == pytest.approx(expected, abs=1e-4)


def test_filters_narrow_and_an_empty_filter_matches_nothing(retriever: Retriever) -> None:
    q = "VPN certificates"
    assert set(names(retriever, q, limit=20)) == {f"p{i}" for i in range(1, 9)}  # never org2's p9
    assert set(names(retriever, q, limit=20, scope=ChunkScope("org2"))) == {"p9"}
    assert set(
        names(retriever, q, limit=20, scope=ChunkScope("org1", knowledge_base_ids=("kbB",)))
    ) == {"p8"}
    assert set(
        names(retriever, q, limit=20, scope=ChunkScope("org1", document_ids=("d2", "d3")))
    ) == {"p4", "p5"}
    assert set(names(retriever, q, limit=20, scope=ChunkScope("org1", source_types=("pdf",)))) == {
        "p4",
        "p5",
    }
    assert set(
        names(
            retriever, q, limit=20, scope=ChunkScope("org1", created_after=250, created_before=450)
        )
    ) == {"p5", "p6"}
    assert set(
        names(
            retriever,
            q,
            limit=20,
            scope=ChunkScope("org1", excluded_source_types=("markdown", "pdf")),
        )
    ) == {"p6", "p7", "p8"}
    # Filters that match nothing return nothing, never "everything".
    for scope in (
        ChunkScope("org1", document_ids=()),
        ChunkScope("org1", knowledge_base_ids=()),
        ChunkScope("org1", document_ids=("no-such-doc",)),
        ChunkScope("org1", created_after=1000),
        ChunkScope("org1", created_after=500, created_before=100),
        ChunkScope("org-nobody"),
    ):
        assert names(retriever, q, scope=scope) == [], scope
    for mode in SearchMode:
        assert names(retriever, q, mode=mode, scope=ChunkScope("org1", document_ids=())) == []


def test_mmr_keeps_near_duplicates_from_crowding_the_top(retriever: Retriever) -> None:
    query = "VPN certificate rotation on build servers"
    plain = names(retriever, query, limit=3)
    assert set(plain) == {"p1", "p2", "p3"}  # three near-identical chunks of one document
    diverse = names(retriever, query, limit=3, diversify=True)
    assert diverse[0] == plain[0]
    assert len({n for n in diverse if n in {"p1", "p2", "p3"}}) < 3
    assert "p8" in diverse  # the other VPN document gets a place


def test_only_stop_words(retriever: Retriever) -> None:
    assert names(retriever, "the of and", mode=SearchMode.SPARSE) == []
    assert len(names(retriever, "the of and", mode=SearchMode.HYBRID)) == 5  # dense still answers


def test_backends_rank_identically(
    points: list[IndexPoint], embedder: Embedder, tmp_path: Path
) -> None:
    dimension = len(points[0].dense)
    backends = [
        EdgeVectorIndex(tmp_path / "edge", dimension),
        QdrantServerIndex(QdrantClient(location=":memory:"), "chunks", dimension),
    ]
    rankings = []
    for idx in backends:
        idx.upsert(points)
        r = Retriever(embedder=embedder, sparse_encoder=SparseEncoder(), index=idx)
        rankings.append(
            [
                [
                    (h.payload["name"], round(h.score, 4))
                    for h in r.retrieve(q, scope=ChunkScope("org1"), limit=6, mode=m, diversify=d)
                ]
                for q in (
                    "VPN certificates certctl",
                    "lunch menu",
                    "director approval for expenses",
                )
                for m in SearchMode
                for d in (False, True)
            ]
        )
        idx.close()
    assert rankings[0] == rankings[1]


@pytest.mark.parametrize("backend", ["edge", "client"])
def test_count_upsert_and_delete_behave_alike_on_both_backends(
    backend: str, points: list[IndexPoint], tmp_path: Path
) -> None:
    # The index operations ingestion and deletion rely on, on a fresh index of each kind.
    dimension = len(points[0].dense)
    idx: VectorIndex = (
        EdgeVectorIndex(tmp_path / "edge", dimension)
        if backend == "edge"
        else QdrantServerIndex(QdrantClient(location=":memory:"), "chunks", dimension)
    )
    try:
        idx.upsert(points)
        idx.upsert(points)  # deterministic ids: a retried job never duplicates a point
        assert idx.count(PointFilter()) == len(points)
        d1 = [p for p in points if p.payload["document_id"] == "d1"]
        assert idx.count(PointFilter.where(document_id="d1")) == len(d1)
        # a new version of d1 is written, then the other versions are dropped (re-ingest)
        v2 = [
            IndexPoint(
                _uuid(p.payload["name"] + "@2"), p.dense, p.sparse, {**p.payload, "version": 2}
            )
            for p in d1
        ]
        idx.upsert(v2)
        assert idx.count(PointFilter.where(document_id="d1")) == 2 * len(d1)
        idx.delete(PointFilter.where(document_id="d1").and_not("version", 2))
        assert idx.count(PointFilter.where(document_id="d1", version=2)) == len(d1)
        assert idx.count(PointFilter.where(document_id="d1", version=1)) == 0
        # deleting a knowledge base's points leaves other organizations' alone
        idx.delete(PointFilter.where(organization_id="org2", knowledge_base_id="kbC"))
        assert idx.count(PointFilter.where(organization_id="org2")) == 0
        assert idx.count(PointFilter()) == len(points) - sum(
            p.payload["organization_id"] == "org2" for p in points
        )
    finally:
        idx.close()


@pytest.mark.parametrize("backend", ["edge", "client"])
def test_a_point_without_its_dense_vector_is_found_lexically_with_a_real_similarity(
    backend: str, points: list[IndexPoint], embedder: Embedder, tmp_path: Path
) -> None:
    # Live meeting segments are written with the sparse vector only (no model call).
    dimension = len(points[0].dense or ())
    idx: VectorIndex = (
        EdgeVectorIndex(tmp_path / "edge", dimension)
        if backend == "edge"
        else QdrantServerIndex(QdrantClient(location=":memory:"), "chunks", dimension)
    )
    text = "Priya resized the staging Kafka cluster to six brokers this morning."
    embedding_text = "Priya Natarajan\n" + text  # the speaker, as meeting points embed it
    live = IndexPoint(
        _uuid("live"),
        None,
        SparseEncoder().embed_document(embedding_text),
        {
            "name": "live",
            "organization_id": "org1",
            "version": 1,
            "text": text,
            "embedding_text": embedding_text,
        },
    )
    try:
        idx.upsert([*points, live])
        retriever = Retriever(embedder=embedder, sparse_encoder=SparseEncoder(), index=idx)
        query = "Kafka cluster brokers"
        assert "live" not in names(retriever, query, mode=SearchMode.DENSE, limit=10)
        expected = float(
            np.dot(embedder.embed_query(query), embedder.embed_documents([embedding_text])[0])
        )
        for mode in (SearchMode.SPARSE, SearchMode.HYBRID):
            # Fused, it tops one list of two: in the top 2, first or tied for first.
            hits = retriever.retrieve(query, scope=ChunkScope("org1"), limit=2, mode=mode)
            (hit,) = [h for h in hits if h.payload["name"] == "live"]
            assert hit.score == pytest.approx(hits[0].score)
            assert hit.similarity == pytest.approx(expected, abs=1e-4)
            assert hit.dense is not None and len(hit.dense) == dimension
        assert "live" in names(retriever, query, limit=3, diversify=True)  # MMR has its vector
    finally:
        idx.close()
