"""The query-time parts (retriever and answerers), built once per process by the runtime."""

from __future__ import annotations

from dataclasses import dataclass

from kb_service.settings import Settings
from retrieval.answer import ExtractiveAnswerer
from retrieval.chat import ChatConfig, chat_client_for
from retrieval.embedding import Embedder
from retrieval.generative import GenerativeAnswerer
from retrieval.index import VectorIndex
from retrieval.index.base import FusionSpec
from retrieval.search import Retriever
from retrieval.sparse import SparseEncoder


@dataclass(frozen=True)
class QueryEngine:
    """The retriever, the extractive answerer and, when an LLM is configured, the generative one."""

    retriever: Retriever
    extractive: ExtractiveAnswerer
    generative: GenerativeAnswerer | None


def build_query_engine(
    settings: Settings, *, embedder: Embedder, sparse_encoder: SparseEncoder, index: VectorIndex
) -> QueryEngine:
    """The engine over `index`: fusion and MMR from `KB_RRF_*`/`KB_MMR_LAMBDA`, an LLM if set."""
    fusion = FusionSpec(
        k=settings.rrf_k,
        dense_weight=settings.rrf_dense_weight,
        sparse_weight=settings.rrf_sparse_weight,
        prefetch_limit=settings.prefetch_limit,
    )
    retriever = Retriever(
        embedder=embedder,
        sparse_encoder=sparse_encoder,
        index=index,
        fusion=fusion,
        mmr_lambda=settings.mmr_lambda,
    )
    generative = None
    if settings.llm_base_url and settings.llm_model:
        config = ChatConfig(
            base_url=settings.llm_base_url,
            model=settings.llm_model,
            api_key=settings.llm_api_key,
            timeout_seconds=settings.llm_timeout_seconds,
        )
        generative = GenerativeAnswerer(
            chat_client_for(config), min_similarity=settings.answer_min_similarity
        )
    extractive = ExtractiveAnswerer(sparse_encoder, min_similarity=settings.answer_min_similarity)
    return QueryEngine(retriever, extractive, generative)
