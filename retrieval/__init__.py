"""Retrieval: embeddings, sparse lexical vectors, the vector index, indexing chunks into
points, hybrid search, answers with citations, and evaluation.

Builds on `ingest` (drafts, sentences, transcripts); imports no `kb_service` or FastAPI.
"""
