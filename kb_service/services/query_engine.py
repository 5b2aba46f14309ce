"""The query-time parts (retriever and answerers), built once per process by the runtime."""

from __future__ import annotations

from dataclasses import dataclass

from kb_service.settings import Settings
from retrieval.answer import ExtractiveAnswerer
from retrieval.answerability import AnswerabilityJudge
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
        k=settings.retrieval.rrf_k,
        dense_weight=settings.retrieval.rrf_dense_weight,
        sparse_weight=settings.retrieval.rrf_sparse_weight,
        prefetch_limit=settings.retrieval.prefetch_limit,
    )
    retriever = Retriever(
        embedder=embedder,
        sparse_encoder=sparse_encoder,
        index=index,
        fusion=fusion,
        mmr_lambda=settings.retrieval.mmr_lambda,
    )
    generative = None
    if settings.llm.base_url and settings.llm.model:
        config = ChatConfig(
            base_url=settings.llm.base_url,
            model=settings.llm.model,
            api_key=settings.llm.api_key,
            timeout_seconds=settings.llm.timeout_seconds,
        )
        generative = GenerativeAnswerer(
            chat_client_for(config), min_similarity=settings.retrieval.answer_min_similarity
        )
    judge = AnswerabilityJudge(sparse_encoder, min_evidence=settings.retrieval.answer_min_evidence)
    extractive = ExtractiveAnswerer(
        sparse_encoder, judge=judge, max_words=settings.retrieval.answer_max_words
    )
    return QueryEngine(retriever, extractive, generative)
