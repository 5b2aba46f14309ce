"""RST, RTF, ODT and EPUB through pandoc (real program, real samples), and without it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.documents import SourceFile
from ingest.errors import CorruptDocument, UnsupportedFileType
from ingest.extract import Extractor
from tests.ingest.test_extract import SAMPLES, assert_offsets_consistent, block_containing, extract

CASES = [
    ("release-process.rst", "rst", "Ledgerline release process", "within 15 minutes", "Rollback"),
    (
        "vendor-contract.rtf",
        "rtf",
        "Nordlicht Hosting contract summary",
        "45 days",
        "Payment terms",
    ),
    ("security-policy.odt", "odt", "Workstation security policy", "USB storage", "Removable media"),
    (
        "field-guide.epub",
        "epub",
        "Tallinn data centre field guide",
        "cage 14",
        "In the server hall",
    ),
]


@pytest.mark.parametrize(("name", "source_type", "title", "needle", "heading"), CASES)
def test_pandoc_formats_keep_their_headings(
    extractor: Extractor, name: str, source_type: str, title: str, needle: str, heading: str
) -> None:
    doc = extract(extractor, SAMPLES / name)
    assert (doc.source_type, doc.title) == (source_type, title)
    assert_offsets_consistent(doc)
    assert block_containing(doc, needle).section == (title, heading)


def test_content_decides_for_pandoc_formats_too(extractor: Extractor) -> None:
    assert extract(extractor, SAMPLES / "vendor-contract.rtf", "contract.txt").source_type == "rtf"
    assert extract(extractor, SAMPLES / "security-policy.odt", "policy.docx").source_type == "odt"
    assert extract(extractor, SAMPLES / "field-guide.epub", "guide.zip").source_type == "epub"


def test_without_pandoc_the_document_fails_naming_it(
    extractor: Extractor, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH on which no pandoc is found
    with pytest.raises(UnsupportedFileType) as caught:
        extract(extractor, SAMPLES / "release-process.rst")
    assert "release-process.rst: reading .rst files needs the pandoc program" in str(caught.value)


def test_a_damaged_odt_fails_alone(extractor: Extractor) -> None:
    data = (SAMPLES / "security-policy.odt").read_bytes()
    with pytest.raises(CorruptDocument) as caught:
        extractor.run(SourceFile("policy.odt", data[: len(data) // 2]))
    assert "policy.odt" in str(caught.value)


def test_pandoc_reads_nothing_but_the_file(extractor: Extractor, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("The vault code is 4711.")
    rst = f"Notes\n=====\n\nSee below.\n\n.. include:: {secret}\n"
    doc = extractor.run(SourceFile("notes.rst", rst.encode()))
    assert doc.text == "Notes\n\nSee below."  # the sandbox did not open the included file
