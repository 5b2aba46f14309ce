"""`kb-service ingest` of records files, a workbook and transcripts (which become meetings)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from kb_service.cli import main
from kb_service.db.meetings import Meeting
from retrieval.embedding import Embedder
from tests.conftest import make_settings
from tests.kb_service.cli.cli_support import documents_of, metadata_db, use_data_dir


def test_records_become_documents_and_transcripts_become_meetings(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    embedder: Embedder,
) -> None:
    settings = make_settings(tmp_path)
    use_data_dir(monkeypatch, settings)
    (tmp_path / "bad-title.json").write_text('[{"text": "fine", "title": ""}]')
    paths = [
        "sample_docs/faq.json",
        "sample_docs/revenue-2026.xlsx",
        "sample_docs/standup-2026-03-02.json",
        "sample_docs/retro-2026-02-27.vtt",
        str(tmp_path / "bad-title.json"),
    ]

    code = main(["ingest", *paths, "--kb", "formats"])

    out = capsys.readouterr().out
    assert code == 0, out
    assert "4 of 5 documents ingested into 'formats'; 1 failed" in out, out
    assert f"failed: {tmp_path / 'bad-title.json'}: bad-title.json: record 1: 'title'" in out
    assert "2 of 2 transcripts imported and indexed as meetings" in out, out
    assert documents_of(settings, "default", "formats") == {
        "How do I reset my VPN access?": "indexed",
        "How often must I change my password?": "indexed",
        "Which printer should I use in Leeds?": "indexed",
        "revenue-2026.xlsx": "indexed",
    }
    with metadata_db(settings) as session:
        meetings = {m.title: m for m in session.scalars(select(Meeting)).all()}
        assert set(meetings) == {"Payments team stand-up", "retro-2026-02-27"}
        assert all(m.status == "indexed" for m in meetings.values())
        assert meetings["Payments team stand-up"].segment_count == 15
