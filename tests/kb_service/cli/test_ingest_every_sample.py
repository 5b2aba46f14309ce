"""`kb-service ingest sample_docs/*`: every sample file ingests, none fails.

Documents of every format land in the knowledge base (OCR included), the transcript
files become indexed meetings. `sample_docs/bad/` holds the files that must fail and
is tested elsewhere.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kb_service.cli import main
from retrieval.embedding import Embedder
from tests.conftest import SAMPLE_DOCS, make_settings
from tests.kb_service.cli.cli_support import documents_of, use_data_dir

TRANSCRIPTS = {".vtt", ".srt"}


def test_every_sample_file_ingests(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    embedder: Embedder,
) -> None:
    settings = make_settings(tmp_path)
    use_data_dir(monkeypatch, settings)
    files = sorted(p for p in SAMPLE_DOCS.iterdir() if p.is_file())
    assert len(files) >= 30

    code = main(["ingest", *map(str, files), "--kb", "samples"])

    out = capsys.readouterr().out
    assert code == 0, out
    documents = re.search(r"(\d+) of (\d+) documents ingested into 'samples'\n", out)
    meetings = re.search(r"(\d+) of (\d+) transcripts imported and indexed as meetings", out)
    assert documents and documents.group(1) == documents.group(2), out
    assert meetings and meetings.group(1) == meetings.group(2), out
    assert int(meetings.group(2)) >= sum(p.suffix in TRANSCRIPTS for p in files)
    statuses = documents_of(settings, "default", "samples")
    assert len(statuses) >= int(documents.group(2))
    assert set(statuses.values()) == {"indexed"}, statuses
