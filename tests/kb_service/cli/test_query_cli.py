"""`kb-service query`, run in-process on the knowledge base the `handbook` fixture ingested."""

from __future__ import annotations

import json
import re

import pytest

from kb_service.cli import main
from tests.kb_service.cli.cli_support import IngestRun, use_data_dir


def test_query_prints_an_answer_with_a_citation(
    handbook: IngestRun, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_data_dir(monkeypatch, handbook.settings)
    question = "How do I roll back the payments gateway after a bad deploy?"

    assert main(["query", "--kb", "handbook", "--org", "acme", question]) == 0

    out = capsys.readouterr().out
    answer, _, sources = out.partition("\n\n")
    markers = set(re.findall(r"\[(\d+)\]", answer))
    assert markers, out
    listed = dict(re.findall(r"^\[(\d+)\] .*\((\S+?)[,)]", sources, re.MULTILINE))
    assert markers <= set(listed), out  # every marker resolves to a printed source
    assert "runbook.md" in {listed[m] for m in markers}, out
    assert "(found: true, confidence" in answer, out


def test_query_refuses_what_the_knowledge_base_does_not_say(
    handbook: IngestRun, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_data_dir(monkeypatch, handbook.settings)
    question = "What is the dress code for client meetings?"

    assert main(["query", "--kb", "handbook", "--org", "acme", "--json", question]) == 0

    data = json.loads(capsys.readouterr().out)
    assert data["found"] is False and data["citations"] == [] and data["confidence"] < 0.5
    assert data["reason"].startswith("The closest passages do not mention")
    assert data["evidence"]["threshold"] == handbook.settings.retrieval.answer_min_evidence
