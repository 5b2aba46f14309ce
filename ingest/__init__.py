"""Ingestion as pure text: sources → extract (unstructured) → normalise → chunk (tiktoken).

Also the sentence splitter and meeting transcript layout and chunking. Nothing here
imports FastAPI, `retrieval` or `kb_service`; `retrieval.indexing` turns the chunks into
index points.
"""
