"""Ingestion: sources → extract (unstructured) → normalise → chunk (tiktoken) → embed → index.

Nothing here imports FastAPI or the metadata database; `kb_service.jobs` drives it.
"""
