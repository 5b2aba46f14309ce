"""`Client` against the real app under uvicorn on loopback: the whole flow a user runs.

Create a knowledge base, upload sample documents with progress, wait for the job,
query with citations (plain and streamed), page through documents, and the failure
modes a caller must be able to tell apart: another organization's id, an exhausted
rate limit, a connection lost after the request was sent.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pydantic
import pytest

from kb_service.client import Client, NotFound, RateLimited, ValidationError
from retrieval.embedding import Embedder
from tests.conftest import ROOT, make_settings
from tests.kb_service.client.client_support import Served, dropping_proxy, sample, served_app

FILES = ("handbook.pdf", "runbook.md", "notes.txt")


@pytest.fixture(scope="module")
def flow(served: Served) -> dict[str, object]:
    """A knowledge base of FILES uploaded through the client, its job finished."""
    progress: list[tuple[int, int]] = []
    with Client(served.url, api_key=served.acme["key"]) as kb:
        base = kb.create_knowledge_base(name="Client handbook", metadata={"team": "ops"})
        job = kb.upload_files(
            base.id, sample(*FILES), {"team": "ops"}, progress=lambda s, t: progress.append((s, t))
        )
        done = kb.wait_for_job(job.id, timeout=180, poll=0.1)
    return {"kb": base.id, "job": job, "done": done, "progress": progress}


def test_upload_reports_every_byte_sent_and_the_job_completes(flow: dict) -> None:
    progress = flow["progress"]
    sizes = sum(p.stat().st_size for p in sample(*FILES))
    sent = [s for s, _ in progress]
    total = progress[-1][1]
    assert len(progress) > 3 and sent == sorted(sent)  # chunk by chunk, never backwards
    assert sent[-1] == total and sizes < total < sizes + 2000  # file bytes plus the framing
    assert flow["job"].status == "queued" and flow["job"].progress.documents_total == 3
    done = flow["done"]
    assert done.status == "completed" and done.progress.documents_done == 3
    assert {d.filename for d in done.documents} == set(FILES)
    assert all(d.status == "indexed" and d.chunk_count > 0 for d in done.documents)


def test_query_answers_with_citations_into_the_documents_text(served: Served, flow: dict) -> None:
    with Client(served.url, api_key=served.acme["key"]) as kb:
        result = kb.query(flow["kb"], query="How big is the home office stipend?")
        assert result.found and "600 euros" in (result.answer or "")
        markers = {int(n) for n in re.findall(r"\[(\d+)\]", result.answer or "")}
        assert markers == {c["index"] for c in result.citations} and markers
        for citation in result.citations:
            doc = kb.get_document(flow["kb"], citation["document_id"], include_text=True)
            assert doc.text is not None and doc.source == "handbook.pdf"
            assert doc.text[citation["char_start"] : citation["char_end"]] == citation["text"]
        events = list(kb.stream_query(flow["kb"], query="How big is the home office stipend?"))
        scope = {"knowledge_base_ids": [flow["kb"]]}
        found = kb.search(query="When does the payments alert fire?", scope=scope, mode="retrieve")
        streamed = list(kb.stream_search(query="When does the payments alert fire?", scope=scope))
    kinds = [e.event for e in events]
    assert kinds[0] == "citations" and kinds[-1] == "done" and "delta" in kinds
    assert events[-1].data["answer"] == result.answer
    assert found.answer is None and found.chunks[0]["source"] == "runbook.md"
    assert streamed[-1].event == "done" and "2%" in streamed[-1].data["answer"]


def test_upload_folder_skips_dot_files_and_batches_requests(served: Served, tmp_path: Path) -> None:
    for path in sample("runbook.md", "notes.txt", "retry_policy.py"):
        (tmp_path / "docs" / path.name).parent.mkdir(exist_ok=True)
        (tmp_path / "docs" / path.name).write_bytes(path.read_bytes())
    (tmp_path / "docs" / ".draft.md").write_text("# Not for upload\n")
    progress: list[tuple[int, int]] = []
    with Client(served.url, api_key=served.acme["key"]) as kb:
        base = kb.create_knowledge_base(name="Folder")
        jobs = kb.upload_folder(
            base.id, tmp_path / "docs", max_files=2, progress=lambda s, t: progress.append((s, t))
        )
        done = [kb.wait_for_job(j.id, timeout=120, poll=0.1) for j in jobs]
    assert [j.progress.documents_total for j in jobs] == [
        2,
        1,
    ]  # notes.txt, retry_policy.py | runbook.md
    names = [d.filename for j in done for d in j.documents]
    assert names == ["notes.txt", "retry_policy.py", "runbook.md"] and all(
        j.status == "completed" for j in done
    )
    sent = [s for s, _ in progress]
    assert sent == sorted(sent) and sent[-1] == progress[0][1]  # one total across both requests


def test_iterate_follows_next_cursor_across_pages(served: Served, flow: dict) -> None:
    with Client(served.url, api_key=served.acme["key"]) as kb:
        first = kb.list_documents(flow["kb"], limit=2)
        assert len(first) == 2 and first.next_cursor
        second = kb.list_documents(flow["kb"], limit=2, cursor=first.next_cursor)
        assert len(second) == 1 and second.next_cursor is None
        every = list(kb.list_documents.iterate(flow["kb"], limit=2))
    assert [d.id for d in every] == [d.id for d in [*first, *second]]
    assert sorted(d.source for d in every) == sorted(FILES)


def test_another_organizations_id_is_a_typed_not_found(served: Served, flow: dict) -> None:
    with Client(served.url, api_key=served.globex["key"]) as other:
        with pytest.raises(NotFound) as caught:
            other.get_knowledge_base(flow["kb"])
        assert caught.value.status_code == 404 and caught.value.code == "not_found"
        assert caught.value.request_id and flow["kb"] in caught.value.message
        with pytest.raises(NotFound):
            other.list_documents.iterate(flow["kb"]).__next__()


def test_invalid_fields_are_refused_before_sending_and_by_the_server(
    served: Served, flow: dict
) -> None:
    with Client(served.url, api_key=served.acme["key"]) as kb:
        with pytest.raises(pydantic.ValidationError, match="name"):
            kb.create_knowledge_base(name="")  # the app's own model refuses it here
        with pytest.raises(ValidationError) as caught:
            kb.query(flow["kb"], body={"query": "x" * 2001})
    assert caught.value.status_code == 422 and caught.value.errors


def test_rate_limited_carries_retry_after_and_retries_honour_it(
    tmp_path: Path, embedder: Embedder
) -> None:
    settings = make_settings(tmp_path, rate_limit_burst=2, rate_limit_per_second=0.5)
    with served_app(settings, embedder) as served:
        key = served.acme["key"]
        with Client(served.url, api_key=key, max_retries=0) as impatient:
            impatient.my_workspace()
            impatient.my_workspace()
            with pytest.raises(RateLimited) as caught:
                impatient.my_workspace()
        assert caught.value.status_code == 429 and caught.value.retry_after == 2.0
        with Client(served.url, api_key=key, max_retries=2) as patient:
            started = time.monotonic()
            assert patient.my_workspace().organization_id == served.acme["organization_id"]
            assert time.monotonic() - started >= 1.5  # it waited for the Retry-After


def test_a_dropped_connection_is_retried_with_the_same_key_and_creates_one_object(
    served: Served,
) -> None:
    with (
        dropping_proxy(served.url, drop=1) as proxy,
        Client(proxy.url, api_key=served.acme["key"]) as kb,
    ):
        created = kb.create_knowledge_base(name="Dropped once")
        same_name = [b.id for b in kb.list_knowledge_bases.iterate() if b.name == "Dropped once"]
    assert same_name == [created.id]
    keys = [re.search(rb"idempotency-key: (\S+)", r, re.I) for r in proxy.requests[:2]]
    assert keys[0] and keys[1] and keys[0].group(1) == keys[1].group(1)
    assert b"Dropped once" in proxy.requests[0]  # the first attempt did reach the server


def test_the_readme_python_quickstart_runs(
    served: Served, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("```python\n", readme.index("The same flow in Python")) + len(
        "```python\n"
    )
    code = readme[start : readme.index("```", start)]
    with Client(served.url, api_key=served.globex["key"]) as other:
        foreign = other.create_knowledge_base(name="Globex only").id
    code = (
        code.replace("http://127.0.0.1:8000", served.url)
        .replace('"sk_..."', repr(served.acme["key"]))
        .replace("kb_of_another_org", foreign)
    )
    monkeypatch.chdir(ROOT)
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "completed" in printed and "600 euros" in printed and "handbook.pdf" in printed
    assert "not_found" in printed
