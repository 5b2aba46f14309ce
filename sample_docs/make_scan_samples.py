"""Regenerate the scanned samples: an image, a multi-page TIFF and PDFs without text layer.

Run from the repository root with the project's virtualenv active:

    python sample_docs/make_scan_samples.py

Text is drawn with Pillow's built-in scalable font (no system font needed) on a
slightly grey, speckled page turned by a fraction of a degree, like a scan, and the
result is written deterministically (fixed seed; PDFs without dates that change).
The PDFs embed the page as a grayscale image (`/FlateDecode`); their only text, where
there is any, is on the pages that are not scans.
"""

from __future__ import annotations

import random
import textwrap
import zlib
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
DPI = 200
PAGE_SIZE = (1700, 2200)  # US Letter at 200 dpi

WHITEBOARD = [
    ("h", "Warehouse shift handover"),
    (
        "p",
        "Spare badge printers are kept in locker 7 of the Leeds warehouse. Ask the "
        "facilities desk for the key; it is signed out in the blue binder.",
    ),
    (
        "p",
        "Night shifts hand over to the Tallinn team at 22:15. Open incidents are read "
        "out loud before anyone leaves the floor.",
    ),
]
RECEIPT = [
    ("h", "Taxi receipt"),
    (
        "p",
        "Lisbon airport to the Quillfeather office, 12 March 2026. Fare 38.50 EUR, paid "
        "by company card ending 4417. Driver licence LX-20931.",
    ),
]
MINUTES_TEXT_PAGE = (
    b"BT /F1 18 Tf 72 720 Td (Facilities committee minutes, 5 March 2026) Tj ET\n"
    b"BT /F1 11 Tf 72 690 Td (Present: Ines Carvalho, Hannah Pike, Mateo Rojas.) Tj ET\n"
    b"BT /F1 11 Tf 72 672 Td (The committee reviewed the meeting-room bookings for the "
    b"Lisbon office.) Tj ET\n"
    b"BT /F1 11 Tf 72 654 Td (The signed decision sheet follows as a scan on page 2.) Tj ET\n"
)
MINUTES_SCAN = [
    ("h", "Decision sheet"),
    (
        "p",
        "The rooftop terrace of the Lisbon office opens on 1 April. Bookings go through "
        "the facilities desk, for at most 12 people at a time, and the terrace closes at "
        "19:00 on weekdays.",
    ),
    ("p", "Signed: Ines Carvalho, chair of the facilities committee."),
]
LETTER_PAGES = [
    [
        ("h", "Letter from Nordhavn Energy"),
        (
            "p",
            "Nordhavn Energy renews its analytics subscription for three more years and "
            "asks for invoices in Danish kroner from the next billing cycle.",
        ),
    ],
    [
        ("h", "Contacts"),
        (
            "p",
            "Questions about the renewal go to Freja Holm, procurement lead, who is in the "
            "Aarhus office on Tuesdays and Thursdays.",
        ),
    ],
]


def scan(
    blocks: list[tuple[str, str]], seed: int, size: tuple[int, int] = PAGE_SIZE
) -> Image.Image:
    """A page of `blocks` (heading "h" or paragraph "p") as a grayscale scan."""
    rng = random.Random(seed)
    page = Image.new("L", size, 238)
    draw = ImageDraw.Draw(page)
    heading, body = ImageFont.load_default(size=56), ImageFont.load_default(size=36)
    y = 150
    for kind, text in blocks:
        font, width, leading = (heading, 40, 80) if kind == "h" else (body, 70, 52)
        for line in textwrap.wrap(text, width):
            draw.text((150, y), line, font=font, fill=30)
            y += leading
        y += 40
    for _ in range(size[0] * size[1] // 4000):  # dust on the glass
        x, yy = rng.randrange(size[0]), rng.randrange(size[1])
        draw.point((x, yy), fill=rng.randrange(90, 200))
    return page.rotate(0.4, resample=Image.Resampling.BICUBIC, fillcolor=238)


def write_pdf(path: Path, pages: list[bytes | Image.Image], title: str) -> None:
    """A PDF whose pages are text streams (bytes) or full-page grayscale images."""
    objects: dict[int, bytes] = {
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        4: b"<< /Title (%s) /Producer (sample_docs/make_scan_samples.py) >>" % title.encode(),
    }
    kids = []
    number = 5
    for page in pages:
        page_num, stream_num = number, number + 1
        number += 2
        if isinstance(page, Image.Image):
            image_num = number
            number += 1
            pixels = zlib.compress(page.tobytes(), 9)
            objects[image_num] = (
                b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
                b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n"
                % (page.width, page.height, len(pixels))
                + pixels
                + b"\nendstream"
            )
            stream = b"q 612 0 0 792 0 0 cm /Im1 Do Q\n"
            resources = b"<< /XObject << /Im1 %d 0 R >> >>" % image_num
        else:
            stream = page
            resources = b"<< /Font << /F1 3 0 R >> >>"
        objects[page_num] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources %s "
            b"/Contents %d 0 R >>" % (resources, stream_num)
        )
        objects[stream_num] = b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"endstream"
        kids.append(b"%d 0 R" % page_num)
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(kids))
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for num in sorted(objects):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + objects[num] + b"\nendobj\n"
    xref_at = len(out)
    size = max(objects) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for num in range(1, size):
        out += b"%010d 00000 n \n" % offsets[num]
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R >>\n" % size
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    path.write_bytes(bytes(out))


def main() -> None:
    """Write every sample of this script."""
    whiteboard = scan(WHITEBOARD, seed=7, size=(1700, 900))
    whiteboard.save(HERE / "whiteboard-handover.png", dpi=(DPI, DPI), optimize=True)
    letter = [scan(blocks, seed=20 + i, size=(1700, 1100)) for i, blocks in enumerate(LETTER_PAGES)]
    letter[0].save(
        HERE / "nordhavn-letter.tiff",
        save_all=True,
        append_images=letter[1:],
        compression="tiff_deflate",
        dpi=(DPI, DPI),
    )
    write_pdf(HERE / "bad" / "scanned.pdf", [scan(RECEIPT, seed=3)], "Scanned receipt")
    blank = Image.new("L", PAGE_SIZE, 255)
    write_pdf(
        HERE / "facilities-minutes.pdf",
        [MINUTES_TEXT_PAGE, scan(MINUTES_SCAN, seed=5), blank],
        "Facilities committee minutes",
    )


if __name__ == "__main__":
    main()
