"""Extraction of the real sample documents with the real unstructured (no mocks)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ingest.documents import ExtractedDocument, SourceFile
from ingest.errors import (
    EmptyDocument,
)
from ingest.extract import Extractor, extract_text_record

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_docs"
BAD = SAMPLES / "bad"


def extract(extractor: Extractor, path: Path, as_name: str | None = None) -> ExtractedDocument:
    return extractor.run(SourceFile(filename=as_name or path.name, content=path.read_bytes()))


def assert_offsets_consistent(doc: ExtractedDocument) -> None:
    """Every block's span is its element text, and blocks tile the text with blank lines."""
    assert doc.blocks, "no blocks extracted"
    pieces = [doc.text[b.char_start : b.char_end] for b in doc.blocks]
    assert "\n\n".join(pieces) == doc.text
    for block, piece in zip(doc.blocks, pieces, strict=True):
        assert piece and piece == piece.strip(), block
        assert "\n\n" not in piece
        assert block.kind in {"title", "text", "list_item", "table", "row"}
    for before, after in zip(doc.blocks, doc.blocks[1:], strict=False):
        assert after.char_start == before.char_end + 2


def block_containing(doc: ExtractedDocument, needle: str):
    matches = [b for b in doc.blocks if needle in doc.text[b.char_start : b.char_end]]
    assert matches, f"{needle!r} not found in any block"
    return matches[0]


# name, source_type, title, (needle, kind, page, section) checks
CASES = [
    (
        "handbook.pdf",
        "pdf",
        "Quillfeather Employee Handbook",
        [
            ("meal allowance while travelling is 45 euros", "text", 2, ("Expense Reimbursement",)),
            ("Paid Time Off", "title", 3, ("Paid Time Off",)),
            ("up to three days per week", "text", 1, ("Remote Work Policy",)),
        ],
    ),
    (
        "onboarding.docx",
        "docx",
        "Engineering Onboarding Guide",
        [
            (
                "YubiKey hardware token",
                "list_item",
                None,
                ("Engineering Onboarding Guide", "Your First Week", "Accounts to request"),
            ),
            (
                "#payments-oncall",
                "table",
                None,
                ("Engineering Onboarding Guide", "Key Systems and Owners"),
            ),
        ],
    ),
    (
        "roadmap.pptx",
        "pptx",
        "Q3 2026 Product Roadmap",
        [
            ("95 percent of citations", "text", 2, ("Bet 1: Citation Accuracy",)),
            (
                "Frankfurt region by September",
                "text",
                3,
                ("Bets 2 and 3: Offline Mobile and EU Residency",),
            ),
        ],
    ),
    (
        "architecture.html",
        "html",
        "Ledgerline Billing Architecture",
        [
            ("retried after 3, 5 and 7 days", "list_item", None, None),
            ("Rated line items PostgreSQL 7 years", "table", None, None),
        ],
    ),
    (
        "runbook.md",
        "markdown",
        "Payments Gateway Incident Runbook",
        [
            (
                "deployctl rollback payments-gateway",
                "text",
                None,
                ("Payments Gateway Incident Runbook", "Mitigation", "Roll back"),
            ),
            (
                "TLS certificate",
                "list_item",
                None,
                ("Payments Gateway Incident Runbook", "Triage", "Check recent deploys"),
            ),
        ],
    ),
    (
        "notes.txt",
        "text",
        "Office Move Notes - Lisbon, March 2026",
        [
            ("40 underground parking spaces", "text", None, ("Parking",)),
            ("spare key to the server cupboard", "list_item", None, ("Open questions",)),
        ],
    ),
]


@pytest.mark.parametrize(
    ("name", "source_type", "title", "checks"), CASES, ids=[c[0] for c in CASES]
)
def test_sample_documents_extract_with_pages_and_headings(
    extractor: Extractor, name: str, source_type: str, title: str, checks: list
) -> None:
    doc = extract(extractor, SAMPLES / name)
    assert doc.source_type == source_type
    assert doc.title == title
    assert_offsets_consistent(doc)
    assert any(b.kind == "title" for b in doc.blocks)
    assert any(b.section for b in doc.blocks)
    if source_type in {"pdf", "pptx"}:
        assert all(b.page_number is not None for b in doc.blocks)
        assert doc.metadata["page_count"] == 3
    for needle, kind, page, section in checks:
        block = block_containing(doc, needle)
        assert block.kind == kind
        assert block.page_number == page
        if section is not None:
            assert block.section == section
        else:
            assert block.section[0] == title


def test_html_section_paths_and_page_chrome(extractor: Extractor) -> None:
    doc = extract(extractor, SAMPLES / "architecture.html")
    table = block_containing(doc, "Invoice PDFs")
    assert table.section == ("Ledgerline Billing Architecture", "Data Retention")
    assert "Wiki home" not in doc.text  # <nav> is not content


def test_pdf_running_header_and_page_footer_are_dropped(extractor: Extractor) -> None:
    doc = extract(extractor, SAMPLES / "handbook.pdf")
    assert "March 2026 edition" not in doc.text
    assert "page 1 of 3" not in doc.text
    assert [b.page_number for b in doc.blocks] == sorted(b.page_number or 0 for b in doc.blocks)


def test_json_text_records(extractor: Extractor) -> None:
    records = json.loads((SAMPLES / "faq.json").read_text())["documents"]
    assert len(records) >= 3
    for record in records:
        doc = extract_text_record(record["text"], title=record["title"])
        assert doc.source_type == "json"
        assert doc.title == record["title"]
        assert_offsets_consistent(doc)
        assert doc.text == " ".join(record["text"].split())


def test_text_record_normalises_unicode_and_rejects_blank_text() -> None:
    doc = extract_text_record("Cafe\u0301 opening\u00a0hours:\r\n  8:00\u200b to 15:00.")
    assert doc.text == "Caf\u00e9 opening hours: 8:00 to 15:00."
    assert doc.title is None
    with pytest.raises(EmptyDocument):
        extract_text_record(" \n\t ")


def test_meeting_transcript_sample_is_well_formed() -> None:
    meeting = json.loads((SAMPLES / "standup-2026-03-02.json").read_text())
    assert meeting["platform"] == "zoom" and meeting["started_at"].startswith("2026-03-02T")
    stamps = [s["timestamp"] for s in meeting["segments"]]
    assert len(stamps) == 15 and stamps == sorted(stamps)
    assert all(s["speaker"] and s["text"] for s in meeting["segments"])


def test_pdf_margin_text_that_does_not_repeat_is_kept() -> None:
    from unstructured.documents.elements import ElementMetadata, Footer, Header, NarrativeText

    from ingest.partitioners import _recover_pdf_margins, element_pieces

    def meta(page: int) -> ElementMetadata:
        return ElementMetadata(page_number=page)

    elements = [
        Header("Acme Confidential", metadata=meta(1)),
        Header("Quarterly Results", metadata=meta(1)),
        NarrativeText("Revenue grew by nine percent.", metadata=meta(1)),
        Footer("Page 1", metadata=meta(1)),
        Header("Acme Confidential", metadata=meta(2)),
        NarrativeText("Costs fell by two percent.", metadata=meta(2)),
        Footer("2", metadata=meta(2)),
    ]
    pieces = element_pieces(_recover_pdf_margins(elements))
    assert [(p.text, p.kind) for p in pieces] == [
        ("Quarterly Results", "title"),
        ("Revenue grew by nine percent.", "text"),
        ("Costs fell by two percent.", "text"),
    ]


def test_extraction_makes_no_network_or_subprocess_calls() -> None:
    """In a fresh process (so import-time behaviour counts), audit every socket/subprocess."""
    script = textwrap.dedent(
        f"""
        import sys
        events = []
        watched = ("socket.connect", "socket.getaddrinfo", "subprocess.Popen", "urllib.Request")
        sys.addaudithook(lambda event, args: events.append(event) if event in watched else None)
        from pathlib import Path
        from ingest.documents import SourceFile
        from ingest.extract import Extractor
        extractor = Extractor()
        extractor.warm_up()
        for name in ("handbook.pdf", "onboarding.docx", "roadmap.pptx", "architecture.html",
                     "runbook.md", "notes.txt"):
            path = Path({str(SAMPLES)!r}) / name
            extractor.run(SourceFile(name, path.read_bytes()))
        print(sorted(set(events)))
        """
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(Path.home())}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("name", ["runbook.md", "architecture.html"])
def test_skipping_the_narrative_guess_changes_no_block(
    extractor: Extractor, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTML/Markdown skip unstructured's spaCy NarrativeText-vs-Text guess: same blocks."""
    import unstructured.partition.html.parser as html_parser

    from ingest import nlp_setup

    fast = extract(extractor, SAMPLES / name)
    assert html_parser.derive_element_type_from_text is nlp_setup.structural_element_type
    original = nlp_setup.unstructured_element_type
    assert original is not None and original.__module__ == html_parser.__name__

    monkeypatch.setattr(html_parser, "derive_element_type_from_text", original)
    guessed = extract(extractor, SAMPLES / name)
    assert guessed.text == fast.text
    assert guessed.blocks == fast.blocks
