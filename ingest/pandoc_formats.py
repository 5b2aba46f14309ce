"""reStructuredText, RTF, OpenDocument text and EPUB, through pandoc and unstructured.

Each file is converted to HTML by the `pandoc` program in its sandbox mode (it reads
nothing but the file: no includes, images or URLs), through unstructured's pandoc
helper, and the HTML is partitioned like any HTML page (`partition_html_text`), so
headings keep their levels. (unstructured's own ODT reader goes through DOCX, which
pandoc cannot write in sandbox mode, so ODT takes the HTML road too.) `pandoc` comes
from Debian (`scripts/setup.sh` installs it); without it a document of these formats
fails alone with a sentence naming the missing program. pandoc runs as a child of the
parser process, under its time limit and address-space cap.
"""

from __future__ import annotations

import io
import shutil

from ingest.errors import UnsupportedFileType
from ingest.partitioners import Partitioned, partition_html_text

RST, RTF, ODT, EPUB = "rst", "rtf", "odt", "epub"
PANDOC_FORMATS = (RST, RTF, ODT, EPUB)


def partition_with_pandoc(fmt: str, data: bytes, name: str) -> Partitioned:
    """A document of one of `PANDOC_FORMATS`; UnsupportedFileType when pandoc is missing."""
    if shutil.which("pandoc") is None:
        raise UnsupportedFileType(
            f"{name}: reading .{fmt} files needs the pandoc program, which is not installed "
            "on this server (scripts/setup.sh installs it with apt-get install pandoc)."
        )
    from unstructured.file_utils.file_conversion import convert_file_to_html_text_using_pandoc

    html = convert_file_to_html_text_using_pandoc(source_format=fmt, file=io.BytesIO(data))
    return partition_html_text(html)
