"""Fair claims (SQLite and PostgreSQL) and time slices: one tenant's backlog starves no one."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kb_service.db.jobs import IngestJob
from kb_service.runtime import Runtime
from kb_service.services import ingestion, knowledge_bases
from kb_service.services.keys import get_or_create_organization
from retrieval.embedding import Embedder
from tests.conftest import make_settings, postgres_url_or_skip
from tests.kb_service.live_servers import wait_until

DOCS = 60


@pytest.fixture(params=["sqlite", "postgresql"])
def runtime(
    request: pytest.FixtureRequest, tmp_path: Path, embedder: Embedder
) -> Iterator[Runtime]:
    overrides = {}
    if request.param == "postgresql":
        overrides["database_url"] = postgres_url_or_skip()
    rt = Runtime.build(make_settings(tmp_path, **overrides), embedder=embedder)
    yield rt
    rt.close()


def _kb(runtime: Runtime, org: str, name: str) -> tuple[str, str]:
    organization = get_or_create_organization(runtime.db, name=org)
    kb = knowledge_bases.create_knowledge_base(
        runtime.db, organization_id=organization.id, pipeline=runtime.pipeline, name=name
    ).knowledge_base
    return organization.id, kb.id


def _job(runtime: Runtime, where: tuple[str, str], texts: list[str]) -> str:
    org_id, kb_id = where
    submitted = ingestion.submit_ingest(
        runtime.db,
        organization_id=org_id,
        kb_id=kb_id,
        records=[ingestion.TextRecord(text=t) for t in texts],
    )
    return submitted.job.id


def _job_row(runtime: Runtime, job_id: str) -> IngestJob:
    with runtime.db.session() as session:
        job = session.get(IngestJob, job_id)
        assert job is not None
        return job


def test_claims_take_turns_across_organizations_and_knowledge_bases(runtime: Runtime) -> None:
    a, b = _kb(runtime, "a", "docs"), _kb(runtime, "b", "docs")
    c1, c2 = _kb(runtime, "c", "one"), _kb(runtime, "c", "two")
    a1, a2, a3 = (_job(runtime, a, [f"a {n}"]) for n in range(3))
    b1 = _job(runtime, b, ["b"])
    c1_first, c1_second = _job(runtime, c1, ["c1 0"]), _job(runtime, c1, ["c1 1"])
    c2_first = _job(runtime, c2, ["c2"])
    queue = runtime.queue

    assert queue.claim("w1") == a1  # nobody has been served: oldest first
    assert queue.claim("w2") == b1  # a has a running job, b none
    assert queue.claim("w3") == c1_first
    # a, b and c run one job each; c was served last, and within c, knowledge base
    # "two" has no running job while "one" has
    assert queue.claim("w4") == a2
    assert queue.claim("w5") == c2_first
    assert queue.release(a2, "w4")  # handed back (its time slice ended)
    released = _job_row(runtime, a2)
    assert (released.status, released.lease_owner, released.lease_expires_at) == (
        "queued",
        None,
        None,
    )
    assert released.attempts == 0  # a hand-back is not a failed attempt
    assert queue.claim("w6") == a2  # a runs one job now, c two
    # two each: c was served less recently than a (whose a2 was just claimed again)
    assert queue.claim("w7") == c1_second
    assert queue.claim("w8") == a3
    assert queue.claim("w9") is None
    assert not queue.release(a2, "w4")  # w4 no longer holds it


def test_a_job_hands_its_worker_back_after_its_slice_so_another_organization_goes_first(
    tmp_path: Path, embedder: Embedder
) -> None:
    """One worker; organization A's 60-document job, then B's one-liner: B finishes first."""
    settings = make_settings(tmp_path, job_time_slice_seconds=1.0)
    runtime = Runtime.build(settings, embedder=embedder)
    try:
        a, b = _kb(runtime, "a", "big"), _kb(runtime, "b", "small")
        paragraphs = "\n\n".join(
            f"Section {i} of the long handbook, revised." * 20 for i in range(8)
        )
        big = _job(runtime, a, [f"Handbook {n}\n\n{paragraphs}" for n in range(DOCS)])
        runtime.start_workers(1)
        wait_until(lambda: _job_row(runtime, big).status == "running", 60, "A's job to start")
        submitted = time.monotonic()
        small = _job(runtime, b, ["The on-call phone is in the second drawer."])
        wait_until(lambda: _job_row(runtime, small).status == "completed", 300, "B's job")
        latency = time.monotonic() - submitted
        a_then = _job_row(runtime, big)
        assert a_then.status in ("queued", "running")
        assert a_then.documents_done < DOCS, "B waited for all of A's job"
        wait_until(lambda: _job_row(runtime, big).status == "completed", 600, "A's job")
        done = _job_row(runtime, big)
        assert done.documents_done == DOCS and done.attempts == 1
        print(f"B's one-liner finished {latency:.1f} s after it was queued behind A's job")
    finally:
        runtime.close()
