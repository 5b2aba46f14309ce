"""The `handbook` fixture: one `kb-service ingest` run that the ingest and query tests share."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import redirect_stdout

import pytest

from kb_service.cli import main
from kb_service.runtime import Runtime
from kb_service.services import ingestion, knowledge_bases
from kb_service.services.keys import get_or_create_organization
from retrieval.embedding import Embedder
from tests.conftest import make_settings
from tests.kb_service.cli.cli_support import IngestRun, use_data_dir

INGEST = [
    "ingest",
    "sample_docs/runbook.md",
    "sample_docs/notes.txt",
    "sample_docs/bad/empty.txt",
    "--kb",
    "handbook",
    "--org",
    "acme",
]


@pytest.fixture(scope="package")
def handbook(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[IngestRun]:
    """`kb-service ingest` of two good files and an empty one, with another KB's job queued."""
    settings = make_settings(tmp_path_factory.mktemp("cli"))
    runtime = Runtime.build(settings, embedder=embedder)
    try:
        org = get_or_create_organization(runtime.db, name="acme")
        other = knowledge_bases.kb_by_name(
            runtime.db, organization_id=org.id, pipeline=runtime.pipeline, name="other"
        )
        submitted = ingestion.submit_ingest(
            runtime.db,
            organization_id=org.id,
            kb_id=other.id,
            uploads=[ingestion.Upload("faq.md", b"# FAQ\n\nThe office opens at nine.")],
        )
        other_job_id = submitted.job.id
    finally:
        runtime.close()  # no workers were started: the job stays queued

    stdout = io.StringIO()
    with pytest.MonkeyPatch.context() as monkeypatch, redirect_stdout(stdout):
        use_data_dir(monkeypatch, settings)
        exit_code = main(INGEST)
    yield IngestRun(settings, exit_code, stdout.getvalue(), other_job_id)
