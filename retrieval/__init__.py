"""Representations and search: embeddings, sparse lexical vectors, the vector index."""
