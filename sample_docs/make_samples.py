"""Regenerate the sample documents in this folder.

Run from the repository root with the project's virtualenv active:

    python sample_docs/make_samples.py

Every file is written deterministically (fixed text, fixed random seed, fixed
timestamps, Office zips rewritten with fixed entry dates), so re-running it produces
byte-identical files. The PDF is written by hand (no converter such as
LibreOffice is installed here): a valid PDF 1.4 file with a cross-reference table and
the standard Helvetica fonts, which pdfminer extracts as a real text layer.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import textwrap
import zipfile
from pathlib import Path

from docx import Document
from pptx import Presentation
from pptx.util import Pt

HERE = Path(__file__).resolve().parent
BAD = HERE / "bad"

# --------------------------------------------------------------------------- PDF

HANDBOOK: list[list[tuple[str, str]]] = [
    [
        ("h1", "Quillfeather Employee Handbook"),
        (
            "p",
            "This handbook describes how we work at Quillfeather Analytics. It applies to "
            "every permanent employee and contractor based in the Lisbon, Leeds and Tallinn "
            "offices. Where local law grants more generous terms, local law wins.",
        ),
        ("h2", "Remote Work Policy"),
        (
            "p",
            "Employees may work remotely up to three days per week after completing their "
            "probation period of ninety days. Core collaboration hours are 10:00 to 15:00 "
            "Lisbon time, during which everyone should be reachable on chat.",
        ),
        (
            "p",
            "Working from another country is allowed for at most 30 days per calendar year "
            "and must be approved by the People team at least two weeks in advance, because "
            "payroll tax rules differ between countries.",
        ),
    ],
    [
        ("h2", "Expense Reimbursement"),
        (
            "p",
            "Business travel must be booked through the Wayfarer travel portal. The daily "
            "meal allowance while travelling is 45 euros, and hotel nights are capped at "
            "160 euros in capital cities and 110 euros elsewhere.",
        ),
        (
            "p",
            "Submit receipts in the Ledgerline expense tool within 30 days of the expense. "
            "Claims above 500 euros need a second approval from the budget owner. "
            "Reimbursements are paid with the next monthly salary run.",
        ),
        ("h2", "Home Office Stipend"),
        (
            "p",
            "Every employee receives a one-time home office stipend of 600 euros for a "
            "desk, chair or monitor, plus 25 euros per month towards internet costs.",
        ),
    ],
    [
        ("h2", "Information Security"),
        (
            "p",
            "Company laptops use full-disk encryption and lock automatically after five "
            "minutes of inactivity. Report a lost or stolen device to the security desk "
            "within one hour by emailing security@quillfeather.example.",
        ),
        (
            "p",
            "Customer data must never be copied to personal devices or personal cloud "
            "storage. Production database access is granted for 8 hours at a time through "
            "the Gatekeeper access broker and every session is logged.",
        ),
        ("h2", "Paid Time Off"),
        (
            "p",
            "Full-time employees receive 25 days of paid vacation per year plus public "
            "holidays. Up to five unused days may be carried over until the end of March "
            "of the following year.",
        ),
    ],
]


def _pdf_escape(text: str) -> bytes:
    raw = text.encode("cp1252")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _page_stream(blocks: list[tuple[str, str]], page_no: int, pages: int) -> bytes:
    # Running header in the top margin: repeated on every page, so it is page furniture.
    header = "Quillfeather Employee Handbook - March 2026 edition"
    ops: list[bytes] = [b"BT /F1 8 Tf 72 760 Td (%s) Tj ET" % _pdf_escape(header)]
    y = 720.0  # one-inch top margin
    for kind, text in blocks:
        if kind == "p":
            font, size, width, leading = b"/F1", 11, 92, 14.0
        else:
            font, size, width, leading = b"/F2", 18 if kind == "h1" else 14, 60, 22.0
            y -= 6
        for line in textwrap.wrap(text, width):
            ops.append(b"BT %s %d Tf 72 %.1f Td (%s) Tj ET" % (font, size, y, _pdf_escape(line)))
            y -= leading
        y -= 12
    footer = f"Quillfeather Analytics - internal - page {page_no} of {pages}"
    ops.append(b"BT /F1 8 Tf 72 40 Td (%s) Tj ET" % _pdf_escape(footer))
    return b"\n".join(ops) + b"\n"


def write_pdf(path: Path, pages: list[list[tuple[str, str]]]) -> None:
    """Write the handbook: a text-layer PDF, one content stream per page."""
    streams = [_page_stream(blocks, i + 1, len(pages)) for i, blocks in enumerate(pages)]
    write_pdf_streams(path, streams, title="Quillfeather Employee Handbook")


def write_pdf_streams(path: Path, streams: list[bytes], title: str) -> None:
    """Write a minimal but valid multi-page PDF with a correct xref table."""
    n = len(streams)
    # Object numbers: 1 catalog, 2 pages, 3 F1, 4 F2, 5 info, then (page, stream) pairs.
    objects: dict[int, bytes] = {}
    kids = " ".join(f"{6 + 2 * i} 0 R" for i in range(n))
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[2] = f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode()
    for num, base in ((3, "Helvetica"), (4, "Helvetica-Bold")):
        objects[num] = (
            f"<< /Type /Font /Subtype /Type1 /BaseFont /{base} "
            "/Encoding /WinAnsiEncoding >>".encode()
        )
    objects[5] = (
        b"<< /Title (%s) /Author (People Team) " % _pdf_escape(title)
        + b"/Producer (sample_docs/make_samples.py) /CreationDate (D:20260301090000Z) >>"
    )
    for i, stream in enumerate(streams):
        page_num, stream_num = 6 + 2 * i, 7 + 2 * i
        objects[page_num] = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> "
            f"/Contents {stream_num} 0 R >>".encode()
        )
        objects[stream_num] = b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"endstream"
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
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R >>\n" % size
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    path.write_bytes(bytes(out))


# -------------------------------------------------------------------- DOCX/PPTX

FIXED_TIME = dt.datetime(2026, 3, 1, 9, 0, 0)


def freeze_zip(path: Path) -> None:
    """Rewrite an Office file with fixed entry timestamps, so output is byte-stable."""
    with zipfile.ZipFile(path) as source:
        entries = [(info, source.read(info)) for info in source.infolist()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in entries:
            frozen = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            frozen.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(frozen, data)
    path.write_bytes(buffer.getvalue())


def write_docx(path: Path) -> None:
    """Engineering onboarding guide: headings, paragraphs, a bullet list and a table."""
    doc = Document()
    doc.core_properties.title = "Engineering Onboarding Guide"
    doc.core_properties.author = "Platform Team"
    doc.core_properties.created = doc.core_properties.modified = FIXED_TIME
    doc.add_heading("Engineering Onboarding Guide", level=1)
    doc.add_paragraph(
        "Welcome to the Quillfeather engineering team. This guide covers your first two "
        "weeks: accounts, tooling, the buddy programme and who to ask for help."
    )
    doc.add_heading("Your First Week", level=2)
    doc.add_paragraph(
        "On day one your buddy walks you through the monorepo and helps you ship a small "
        "change to the staging environment before Friday. Staging deploys run every 30 "
        "minutes from the main branch."
    )
    doc.add_heading("Accounts to request", level=3)
    for item in (
        "A GitHub Enterprise seat in the quillfeather organisation",
        "Read-only access to the Grafana dashboards for the ingestion pipeline",
        "A YubiKey hardware token, collected from the Leeds IT desk",
        "Membership of the #eng-onboarding chat channel",
    ):
        doc.add_paragraph(item, style="List Bullet")
    doc.add_heading("Buddy Programme", level=2)
    doc.add_paragraph(
        "Every new engineer is paired with a buddy from a neighbouring team for the first "
        "six weeks. Buddies meet twice a week for thirty minutes and review the new "
        "starter's first three pull requests."
    )
    doc.add_heading("Key Systems and Owners", level=2)
    rows = [
        ("System", "Owner", "Escalation channel"),
        ("Ingestion pipeline", "Data Platform", "#dp-oncall"),
        ("Billing (Ledgerline)", "Payments", "#payments-oncall"),
        ("Identity and SSO", "Security", "#sec-desk"),
    ]
    table = doc.add_table(rows=len(rows), cols=3)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    doc.add_paragraph(
        "If an owner does not answer within one business day, escalate to the engineering "
        "manager on duty listed in the on-call calendar."
    )
    doc.save(str(path))
    freeze_zip(path)


# -------------------------------------------------------------------------- PPTX


def write_pptx(path: Path) -> None:
    """Product roadmap deck: three slides, each with a title and bullets."""
    prs = Presentation()
    slides = [
        (
            "Q3 2026 Product Roadmap",
            [
                "Theme: make search trustworthy for regulated customers",
                "Three bets: citation accuracy, offline mobile, EU data residency",
                "Roadmap owner: Ines Carvalho, VP Product",
            ],
        ),
        (
            "Bet 1: Citation Accuracy",
            [
                "Every answer sentence links to the exact source passage",
                "Target: 95 percent of citations judged correct in the monthly audit",
                "Ships behind the cited-answers feature flag in August",
            ],
        ),
        (
            "Bets 2 and 3: Offline Mobile and EU Residency",
            [
                "Mobile app caches the last 200 opened documents for offline reading",
                "EU residency: all customer data stored in the Frankfurt region by September",
                "Dependency: the storage migration led by the Data Platform team",
            ],
        ),
    ]
    layout = prs.slide_layouts[1]  # title and content
    for title, bullets in slides:
        slide = prs.slides.add_slide(layout)
        slide.shapes.title.text = title
        body = slide.placeholders[1].text_frame
        body.text = bullets[0]
        for bullet in bullets[1:]:
            para = body.add_paragraph()
            para.text = bullet
            para.font.size = Pt(20)
    prs.core_properties.title = "Q3 2026 Product Roadmap"
    prs.core_properties.created = prs.core_properties.modified = FIXED_TIME
    prs.save(str(path))
    freeze_zip(path)


# ------------------------------------------------------------------- text formats

ARCHITECTURE_HTML = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Ledgerline Billing Architecture</title>
</head>
<body>
  <header><nav><a href="/wiki">Wiki home</a></nav></header>
  <main>
    <h1>Ledgerline Billing Architecture</h1>
    <p>Ledgerline is the billing system that turns metered usage into monthly invoices.
       It is owned by the Payments team and runs in the Frankfurt region.</p>
    <h2>Services</h2>
    <p>The <strong>meter-collector</strong> service receives usage events from every
       product over HTTPS and appends them to the <em>usage-events</em> Kafka topic,
       retained for 14 days.</p>
    <p>The <strong>rating-engine</strong> consumes that topic, applies the price book and
       writes rated line items to PostgreSQL. Price book changes take effect at the start
       of the next billing cycle, never mid-cycle.</p>
    <h2>Invoicing</h2>
    <p>On the first business day of each month the invoice-runner job freezes the
       previous month's line items, renders PDF invoices and hands them to Stripe for
       collection.</p>
    <ul>
      <li>Failed card payments are retried after 3, 5 and 7 days.</li>
      <li>Accounts unpaid after 30 days move to the collections queue.</li>
    </ul>
    <h2>Data Retention</h2>
    <table>
      <tr><th>Data</th><th>Store</th><th>Retention</th></tr>
      <tr><td>Raw usage events</td><td>Kafka</td><td>14 days</td></tr>
      <tr><td>Rated line items</td><td>PostgreSQL</td><td>7 years</td></tr>
      <tr><td>Invoice PDFs</td><td>Object storage</td><td>10 years</td></tr>
    </table>
  </main>
  <footer>Maintained by the Payments team.</footer>
</body>
</html>
"""

RUNBOOK_MD = """# Payments Gateway Incident Runbook

Use this runbook when the payments-gateway error rate alert fires or customers report
failed checkouts. The incident commander owns every decision below.

## Detection

The alert fires when more than 2% of checkout requests fail for five consecutive
minutes. It pages the payments on-call engineer through Opsgenie.

## Triage

### Check the dashboards

Open the *Payments Gateway* Grafana board and compare the error rate by card network.
A spike limited to one network usually means the upstream acquirer is degraded.

### Check recent deploys

- Look for a gateway deploy in the last two hours.
- Check whether the fraud rules were changed today.
- Confirm the TLS certificate for api.pay.quillfeather.example has not expired.

## Mitigation

### Roll back

If a deploy happened in the last two hours, roll it back first and ask questions later:

```
deployctl rollback payments-gateway --to previous
```

### Fail over to the secondary acquirer

When the primary acquirer is degraded, switch traffic to the secondary acquirer with the
`acquirer_failover` feature flag. Failover costs 0.2 percentage points more per
transaction, so switch back within 24 hours.

## After the Incident

Write a blameless postmortem within five business days and present it at the Thursday
reliability review.
"""

NOTES_TXT = """Office Move Notes - Lisbon, March 2026

The Lisbon team moves from Rua Augusta to the new Alcantara office on Saturday 21 March 2026.
Movers arrive at 08:00; every desk must be packed and labelled by Friday 18:00.

Parking
The new building has 40 underground parking spaces. Spaces are allocated by lottery each
quarter; cyclists get free use of the secure bike room and showers on level -1.

Network
IT will install the new Wi-Fi network QF-Alcantara on 16 March. The guest network
password rotates every Monday and is posted at reception.

Open questions
- Who keeps the spare key to the server cupboard?
- Do we need a second printer on the third floor?
- Can the kitchen fridge be cleaned weekly instead of monthly?
"""

FAQ = {
    "documents": [
        {
            "external_id": "faq-vpn-reset",
            "title": "How do I reset my VPN access?",
            "text": (
                "If the WireGuard VPN client shows 'handshake did not complete', open the "
                "self-service portal at it.quillfeather.example, choose 'Regenerate VPN "
                "profile' and import the new profile. Profiles expire every 90 days."
            ),
        },
        {
            "external_id": "faq-password-rotation",
            "title": "How often must I change my password?",
            "text": (
                "Single sign-on passwords no longer expire on a schedule. You must change "
                "your password only if the security desk asks you to or if you suspect it "
                "leaked. Passwords need at least 14 characters."
            ),
        },
        {
            "external_id": "faq-printer",
            "title": "Which printer should I use in Leeds?",
            "text": (
                "Use the printer named LDS-2F-Canon on the second floor. Badge in at the "
                "printer to release your job; unreleased jobs are deleted after 24 hours."
            ),
        },
    ]
}

STANDUP_SEGMENTS = [
    ("Ines Carvalho", "Morning everyone, let's keep it short, we have the roadmap review at ten."),
    ("Tomas Eriksen", "Yesterday I finished the retry logic for the meter collector."),
    ("Tomas Eriksen", "Today I'm load testing it with three times the February peak traffic."),
    ("Ines Carvalho", "Any blockers on that, Tomas?"),
    ("Tomas Eriksen", "I need the staging Kafka cluster resized, I asked in the platform channel."),
    ("Priya Natarajan", "I can resize it this morning, it is a two line Terraform change."),
    ("Priya Natarajan", "Yesterday I migrated the ingestion workers to the new node pool."),
    ("Priya Natarajan", "Today I'm writing the runbook section for the acquirer failover."),
    ("Ines Carvalho", "Great. Marek, how is the invoice PDF rendering bug going?"),
    ("Marek Nowak", "Found it. Long company names overflowed the address block."),
    ("Marek Nowak", "The fix is in review and should ship in the Thursday release train."),
    ("Ines Carvalho", "Please add a regression test with a sixty character company name."),
    ("Marek Nowak", "Will do, and I'll attach before and after screenshots to the ticket."),
    ("Ines Carvalho", "Last thing, EU residency planning moves to Wednesday at two."),
    ("Ines Carvalho", "Thanks all, see you at the roadmap review."),
]


def write_transcript(path: Path) -> None:
    """A short Zoom stand-up transcript for the meetings feature."""
    segments = []
    t = 3.2
    for speaker, text in STANDUP_SEGMENTS:
        segments.append({"speaker": speaker, "text": text, "timestamp": round(t, 1)})
        t += 4.0 + len(text) / 18
    doc = {
        "title": "Payments team stand-up",
        "platform": "zoom",
        "started_at": "2026-03-02T09:30:00Z",
        "segments": segments,
    }
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# ----------------------------------------------------------------------- bad files


def write_bad(bad: Path) -> None:
    """Files that must be rejected (or, for latin1.txt, decoded) cleanly."""
    bad.mkdir(exist_ok=True)
    rng = random.Random(20260302)
    garbage = bytes(rng.randrange(256) for _ in range(700))
    # A PDF header followed by garbage and no xref/trailer: truncated in transfer.
    (bad / "corrupt.pdf").write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pa" + garbage)
    # A valid PDF whose only page is a drawing: no text layer, and nothing for OCR to
    # read. (bad/scanned.pdf, a real scan, is written by make_scan_samples.py.)
    drawing = b"0.8 0.8 0.8 rg 72 400 468 300 re f 0 0 0 RG 2 w 90 420 m 520 680 l S\n"
    write_pdf_streams(bad / "drawing.pdf", [drawing], title="Floor plan sketch")
    (bad / "empty.txt").write_bytes(b"")
    (bad / "latin1.txt").write_bytes(
        "Café menu for the Leeds office\n\n"
        "The café on the ground floor serves Müsli, crème brûlée and Grüner Tee.\n"
        "Prices are in euros (€) and the kitchen closes at 15:00.\n".encode("cp1252")
    )
    (bad / "binary.txt").write_bytes(
        b"\x00\x01\x02" + bytes(rng.randrange(256) for _ in range(500)) + b"\x00" * 16
    )
    (bad / "fake.docx").write_bytes(bytes(rng.randrange(256) for _ in range(600)))


def main() -> None:
    """Write every sample document."""
    write_pdf(HERE / "handbook.pdf", HANDBOOK)
    write_docx(HERE / "onboarding.docx")
    write_pptx(HERE / "roadmap.pptx")
    (HERE / "architecture.html").write_text(ARCHITECTURE_HTML, encoding="utf-8")
    (HERE / "runbook.md").write_text(RUNBOOK_MD, encoding="utf-8")
    (HERE / "notes.txt").write_text(NOTES_TXT, encoding="utf-8")
    (HERE / "faq.json").write_text(json.dumps(FAQ, indent=2) + "\n", encoding="utf-8")
    write_transcript(HERE / "standup-2026-03-02.json")
    write_bad(BAD)


if __name__ == "__main__":
    main()
