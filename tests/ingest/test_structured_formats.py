"""JSON, JSON Lines, CSV, XLSX and code files: real samples, exact offsets, real chunker."""

from __future__ import annotations

import io
import json
import time

import pytest
from openpyxl import Workbook

from ingest.chunking import Chunker
from ingest.documents import ExtractedDocument, SourceFile
from ingest.errors import CorruptDocument, EmptyDocument, IngestError
from ingest.extract import Extractor
from ingest.json_files import InvalidRecords, records_in
from ingest.tokens import load_encoding
from tests.ingest.test_extract import SAMPLES, assert_offsets_consistent, extract

ENCODING = load_encoding()


def chunk(doc: ExtractedDocument, max_tokens: int = 120) -> list:
    drafts = Chunker(max_tokens, max_tokens // 8, ENCODING).run(doc)
    for draft in drafts:
        assert doc.text[draft.char_start : draft.char_end] == draft.text
    return drafts


def spans(doc: ExtractedDocument) -> list[tuple[str, tuple[str, ...]]]:
    return [(doc.text[b.char_start : b.char_end], b.section) for b in doc.blocks]


def test_json_is_flattened_under_its_json_paths(extractor: Extractor) -> None:
    doc = extract(extractor, SAMPLES / "service-catalog.json")
    assert doc.source_type == "json" and doc.title == "service-catalog"
    assert_offsets_consistent(doc)
    found = spans(doc)
    assert ("owner: Platform team", ("catalog",)) in found
    assert ("version: 7", ("catalog",)) in found
    # an array of objects is a table: one row per element, nested keys dotted
    assert (
        "[0] name: meter-collector; tier: 1; oncall: payments; slo.availability: 99.95%; "
        "slo.p99_latency_ms: 250; dependencies: kafka, postgres",
        ("services",),
    ) in found
    renderer = next(t for t, _ in found if t.startswith("[1] name: invoice-renderer"))
    assert renderer.endswith("dependencies: pdf-service, object-storage; deprecated: false")
    drafts = chunk(doc, 40)
    slo = next(d for d in drafts if "99.95%" in d.text)
    assert slo.section == ("services",)
    assert slo.embedding_text.startswith("service-catalog > services\n")  # title, JSON path
    assert slo.text.startswith("[0] name: meter-collector")


def test_a_large_array_of_objects_packs_many_elements_per_chunk(extractor: Extractor) -> None:
    rows = [{"name": f"svc-{i}", "tier": i % 3, "slo": {"p99": i}} for i in range(300)]
    doc = extractor.run(SourceFile("services.json", json.dumps({"services": rows}).encode()))
    drafts = chunk(doc, 120)
    assert len(drafts) <= len(rows) // 4  # several elements per chunk, not one each
    for draft in drafts:  # every chunk starts at an element, overlap is whole elements
        assert draft.text.startswith(("services", "["))
        assert draft.section == ("services",)


def test_json_lines_are_rows_named_by_line_number(extractor: Extractor) -> None:
    doc = extract(extractor, SAMPLES / "release-notes.jsonl")
    assert doc.source_type == "jsonl" and doc.metadata["line_count"] == 2
    assert_offsets_consistent(doc)
    second = doc.text[doc.blocks[1].char_start : doc.blocks[1].char_end]
    assert second.startswith("Line 2: external_id: ledgerline-4.3; title: Ledgerline 4.3")
    assert second.endswith("metadata.product: ledgerline; metadata.released: 2026-03-03")


def test_records_files_are_split_into_records() -> None:
    faq = records_in("faq.json", (SAMPLES / "faq.json").read_text(), json_lines=False)
    assert faq is not None and [r.external_id for r in faq] == [
        "faq-vpn-reset",
        "faq-password-rotation",
        "faq-printer",
    ]
    notes = records_in(
        "release-notes.jsonl", (SAMPLES / "release-notes.jsonl").read_text(), json_lines=True
    )
    assert notes is not None and notes[1].metadata == {
        "product": "ledgerline",
        "released": "2026-03-03",
    }
    bare = records_in("x.json", '[{"text": "A", "team": "ops", "id": 7}]', json_lines=False)
    assert bare is not None and bare[0].metadata == {"team": "ops", "id": 7}
    shared = '{"records": [{"text": "A", "metadata": {"b": 1}}], "metadata": {"a": 0, "b": 0}}'
    assert records_in("x.json", shared, json_lines=False)[0].metadata == {"a": 0, "b": 1}  # type: ignore[index]
    surrogate = records_in("x.json", '[{"text": "bad \\ud800 char\\u0000"}]', json_lines=False)
    assert surrogate is not None and surrogate[0].text == "bad \ufffd char"
    for other in ('{"catalog": {}}', "[1, 2]", '[{"text": 1}]', "[]", "not json", '{"a": 1}'):
        assert records_in("x.json", other, json_lines=False) is None, other


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ('[{"text": "  "}]', "record 1 has an empty 'text'"),
        ('[{"text": "A"}, {"text": "B", "title": 5}]', "record 2: 'title' must be"),
        ('[{"text": "A", "external_id": ""}]', "'external_id' must be a non-empty"),
        ('[{"text": "A", "metadata": [1]}]', "'metadata' must be an object"),
        ('[{"text": "A", "title": "' + "t" * 501 + '"}]', "more than 500 characters"),
    ],
)
def test_an_invalid_record_is_named(body: str, says: str) -> None:
    with pytest.raises(InvalidRecords) as caught:
        records_in("faq.json", body, json_lines=False)
    assert says in caught.value.message and "faq.json" in caught.value.message


def test_csv_rows_repeat_their_headers(extractor: Extractor) -> None:
    doc = extract(extractor, SAMPLES / "oncall-rota.csv")
    assert doc.source_type == "csv" and doc.title == "oncall-rota"
    assert_offsets_consistent(doc)
    texts = [t for t, _ in spans(doc)]
    assert texts[0] == (
        "Row 2: Week: 2026-W10; Primary: Ines Carvalho; Secondary: Tomas Eriksen; "
        "Escalation: Priya Nair"
    )  # the empty Notes cell is left out
    assert texts[2].startswith("Row 4: Week: 2026-W12;") and "Madrid meetup" in texts[2]
    assert doc.metadata["row_count"] == 5


def test_xlsx_sheets_are_headings_and_rows_are_cited_by_number(extractor: Extractor) -> None:
    doc = extract(extractor, SAMPLES / "revenue-2026.xlsx")
    assert doc.source_type == "xlsx"
    assert doc.title == "Quillfeather revenue and headcount, Q1 2026"
    assert doc.metadata["sheets"] == ["Q1 2026 revenue", "Headcount"]
    assert_offsets_consistent(doc)
    found = dict(spans(doc))
    apac = next(t for t in found if "APAC" in t)
    assert apac.startswith("Row 3: Region: APAC; Revenue (EUR): 640000; Growth: 0.21")
    assert found[apac] == ("Q1 2026 revenue",)
    tallinn = next(t for t in found if "Tallinn" in t)
    assert found[tallinn] == ("Headcount",) and "Open roles since: 2026-01-12" in tallinn
    drafts = chunk(doc, 90)  # two or three rows per chunk, with the title and sheet prefix
    assert {d.section for d in drafts} == {("Q1 2026 revenue",), ("Headcount",)}
    assert len(drafts) > 2
    assert all(d.text.startswith(("Row ", "Q1 2026 revenue", "Headcount")) for d in drafts)


def _workbook(build: object) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    build(sheet)  # type: ignore[operator]
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_row_numbers_count_blank_rows_and_blank_headers(extractor: Extractor) -> None:
    def build(sheet: object) -> None:
        sheet["A3"], sheet["C3"] = "Region", "Owner"  # type: ignore[index]
        sheet["A5"], sheet["B5"], sheet["C5"] = "EMEA", 3.0, "Ines"  # type: ignore[index]

    doc = extractor.run(SourceFile("gaps.xlsx", _workbook(build)))
    assert doc.text.endswith("Row 5: Region: EMEA; Column B: 3; Owner: Ines")


def test_a_sheet_reaching_the_last_cell_is_not_padded_to_a_billion_cells(
    extractor: Extractor,
) -> None:
    def build(sheet: object) -> None:
        sheet["A1"], sheet["B1"], sheet["A3"] = "Region", "Owner", "EMEA"  # type: ignore[index]
        sheet["XFD1048576"] = "far away"  # type: ignore[index]

    started = time.monotonic()
    doc = extractor.run(SourceFile("far.xlsx", _workbook(build)))
    assert time.monotonic() - started < 10
    assert doc.text.endswith("Row 3: Region: EMEA\n\nRow 1048576: Column XFD: far away")


def test_code_is_cut_at_definitions_and_keeps_indentation(extractor: Extractor) -> None:
    doc = extract(extractor, SAMPLES / "retry_policy.py")
    assert doc.source_type == "code" and doc.metadata["language"] == "py"
    assert_offsets_consistent(doc)
    blocks = [t for t, _ in spans(doc)]
    upload = next(b for b in blocks if "def upload_with_retries" in b)
    assert upload.startswith("# Called by the uploader thread")  # the comment stays with it
    assert upload.endswith(
        '    raise RetryBudgetExceeded(f"gave up after {MAX_ATTEMPTS} attempts")'
    )
    assert any(b.startswith("class RetryBudgetExceeded") for b in blocks)
    yaml = extract(extractor, SAMPLES / "deploy.yaml")
    assert [t.split("\n")[0] for t, _ in spans(yaml)][1:] == ["replicas:", "resources:", "rollout:"]
    drafts = chunk(doc, 60)
    for block in doc.blocks:  # a definition that fits a chunk is never cut
        if len(ENCODING.encode(doc.text[block.char_start : block.char_end])) < 50:
            assert any(
                d.char_start <= block.char_start and block.char_end <= d.char_end for d in drafts
            ), doc.text[block.char_start : block.char_end]


@pytest.mark.parametrize(
    ("filename", "content", "error", "says"),
    [
        ("catalog.json", b'{"owner": "Platform team",', CorruptDocument, "line 1, column"),
        ("catalog.json", b'{"score": NaN}', CorruptDocument, "NaN is not allowed"),
        ("catalog.json", b"[" * 5000 + b"]" * 5000, CorruptDocument, "too deeply"),
        ("catalog.json", b"[" * 70 + b"1" + b"]" * 70, CorruptDocument, "deeper than 64"),
        ("notes.jsonl", b'{"a": 1}\n{"a": \n', CorruptDocument, "line 2 is not valid JSON"),
        ("rota.csv", b'Week,Primary\n"2026-W10,Ines\n', CorruptDocument, "not readable CSV"),
        ("rota.csv", b"Week,Primary\n", EmptyDocument, "contains no text"),
        ("rota.csv", b"Week,Primary\n\xff\xfe\x00\x00\x00", CorruptDocument, "binary data"),
        ("empty.json", b"{}", EmptyDocument, "contains no text"),
        ("book.xlsx", b"PK\x03\x04" + b"\x00" * 60, CorruptDocument, "Excel"),
        ("retry.py", b"\n\n   \n", EmptyDocument, "empty"),
    ],
)
def test_bad_structured_files_fail_alone_with_a_sentence(
    extractor: Extractor, filename: str, content: bytes, error: type[IngestError], says: str
) -> None:
    with pytest.raises(error) as caught:
        extractor.run(SourceFile(filename, content))
    assert says in caught.value.message, caught.value.message
    assert filename in caught.value.message
