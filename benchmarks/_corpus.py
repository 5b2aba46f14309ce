"""Benchmark corpora read from ../shared (never committed): SciFact abstracts as files."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCIFACT = ROOT.parent / "shared" / "datasets" / "scifact"


def scifact_documents(limit: int | None = None) -> list[tuple[str, bytes]]:
    """(filename, bytes) of SciFact abstracts as Markdown files; exits with a reason if absent."""
    corpus = SCIFACT / "corpus.jsonl"
    if not corpus.exists():
        print(f"SKIP: SciFact corpus not found at {corpus}")
        sys.exit(0)
    documents = []
    with corpus.open() as f:
        for line in f:
            row = json.loads(line)
            text = f"# {row['title']}\n\n{row['text']}\n"
            documents.append((f"scifact-{row['_id']}.md", text.encode()))
            if limit and len(documents) >= limit:
                break
    return documents
