"""Archive bounds on real DOCX/PPTX files: bombs, entry floods, dense parts, lying headers."""

from __future__ import annotations

import io
import resource
import struct
import zipfile
from pathlib import Path

import pytest

from ingest.archives import ArchiveLimits, check_archive
from ingest.documents import SourceFile
from ingest.errors import ArchiveTooLarge, CorruptDocument
from ingest.extract import Extractor
from tests.hostile_docs import SAMPLE_DOCX, docx_with_inflating_part

SAMPLES = Path(__file__).resolve().parents[2] / "sample_docs"
GIB = 1024**3


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    extractor = Extractor()
    extractor.warm_up()
    return extractor


def test_a_docx_whose_thumbnail_inflates_to_1_gib_is_refused_without_inflating_it(
    extractor: Extractor,
) -> None:
    bomb = docx_with_inflating_part(GIB)
    assert len(bomb) < 2 * 1024 * 1024  # small on disk
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ArchiveTooLarge) as refused:
        extractor.run(SourceFile("report.docx", bomb))
    assert str(refused.value) == (
        "report.docx inflates to 1,025 MB; the limit for the uncompressed size of a "
        "document is 512 MB."
    )
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    assert grown_kb < 64 * 1024, f"peak RSS grew by {grown_kb} KB while refusing the bomb"


def test_a_part_compressed_past_the_ratio_is_refused_below_the_size_limit(
    extractor: Extractor,
) -> None:
    dense = docx_with_inflating_part(100 * 1024 * 1024, part="word/media/image1.png")
    with pytest.raises(ArchiveTooLarge, match=r"looks like a zip bomb: its part word/media/"):
        extractor.run(SourceFile("dense.docx", dense))
    with pytest.raises(ArchiveTooLarge, match="the limit is 200 to 1"):
        check_archive(dense, "dense.docx", ArchiveLimits())


def test_too_many_entries_are_refused(extractor: Extractor) -> None:
    out = io.BytesIO(SAMPLE_DOCX.read_bytes())
    with zipfile.ZipFile(out, "a") as docx:
        for n in range(10_001):
            docx.writestr(f"customXml/flood{n}.xml", b"<a/>")
    with pytest.raises(ArchiveTooLarge, match=r"holds 10,018 files inside; the limit is 10,000"):
        extractor.run(SourceFile("flood.docx", out.getvalue()))


def test_each_limit_is_configurable() -> None:
    docx = SAMPLE_DOCX.read_bytes()
    check_archive(docx, "onboarding.docx", ArchiveLimits())  # the real sample passes
    with pytest.raises(ArchiveTooLarge, match="holds 17 files inside; the limit is 16"):
        check_archive(docx, "onboarding.docx", ArchiveLimits(max_entries=16))
    with pytest.raises(ArchiveTooLarge, match=r"inflates to 0\.8 MB; .* is 0\.1 MB"):
        check_archive(docx, "onboarding.docx", ArchiveLimits(max_uncompressed_bytes=100_000))
    with pytest.raises(ValueError):
        ArchiveLimits(max_ratio=0)


def test_an_entry_that_inflates_past_its_declared_size_is_refused_as_damaged(
    extractor: Extractor,
) -> None:
    """Declared sizes are not trusted: the inflated bytes are counted and checked."""
    out = io.BytesIO(SAMPLE_DOCX.read_bytes())
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as docx:
        docx.writestr("word/media/liar.bin", b"\0" * (8 * 1024 * 1024))
    data = bytearray(out.getvalue())
    # The central directory entry of the new part: claim 1,000 bytes instead of 8 MiB.
    header = data.rindex(b"PK\x01\x02")
    while not data[header + 46 :].startswith(b"word/media/liar.bin"):
        header = data.rindex(b"PK\x01\x02", 0, header)
    struct.pack_into("<I", data, header + 24, 1000)
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as patched:
        assert patched.getinfo("word/media/liar.bin").file_size == 1000
    with pytest.raises(CorruptDocument, match=r"liar\.docx is a damaged archive"):
        extractor.run(SourceFile("liar.docx", bytes(data)))


@pytest.mark.parametrize("name", ["onboarding.docx", "roadmap.pptx"])
def test_real_office_samples_pass_the_default_limits(extractor: Extractor, name: str) -> None:
    document = extractor.run(SourceFile(name, (SAMPLES / name).read_bytes()))
    assert document.blocks
