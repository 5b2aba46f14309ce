"""Regenerate the spreadsheet, JSON, code and transcript samples in this folder.

Run from the repository root with the project's virtualenv active:

    python sample_docs/make_format_samples.py

Like `make_samples.py`, every file is written deterministically: the workbook is
written by openpyxl, then its zip entries get a fixed date and its core properties a
fixed modification time (openpyxl stamps the time of saving); the RTF, ODT and EPUB
samples are converted from Markdown by the pandoc program (Debian's `pandoc`) with
SOURCE_DATE_EPOCH set.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import subprocess
import zipfile
from email.message import EmailMessage
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
FIXED_TIME = dt.datetime(2026, 3, 1, 9, 0, 0)

# ------------------------------------------------------------------ spreadsheets

REVENUE = [
    ("Region", "Revenue (EUR)", "Growth", "Account owner", "Note"),
    ("EMEA", 1_200_000, 0.08, "Ines Carvalho", "Largest customer is Nordhavn Energy"),
    ("APAC", 640_000, 0.21, "Priya Nair", "Singapore office opened in February"),
    ("Americas", 910_000, -0.03, "Tomas Eriksen", "Two renewals slipped to April"),
    ("LATAM", 150_000, None, "Mateo Rojas", "First quarter with a local reseller"),
]
HEADCOUNT = [
    ("Team", "Office", "People", "Hiring manager", "Open roles since"),
    ("Data platform", "Tallinn", 14, "Kadri Tamm", dt.date(2026, 1, 12)),
    ("Payments", "Lisbon", 11, "Ines Carvalho", dt.date(2026, 2, 2)),
    ("Customer support", "Leeds", 9, "Hannah Pike", None),
]


def write_xlsx(path: Path) -> None:
    workbook = Workbook()
    revenue = workbook.active
    assert revenue is not None
    revenue.title = "Q1 2026 revenue"
    for row in REVENUE:
        revenue.append(row)
    headcount = workbook.create_sheet("Headcount")
    for row in HEADCOUNT:
        headcount.append(row)
    workbook.properties.title = "Quillfeather revenue and headcount, Q1 2026"
    workbook.properties.creator = "Finance"
    workbook.properties.created = FIXED_TIME
    workbook.save(path)
    _freeze_workbook(path)


def _freeze_workbook(path: Path) -> None:
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    buffer = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + stamp.encode() + rb"\g<2>",
                    data,
                )
            frozen = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            frozen.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(frozen, data)
    path.write_bytes(buffer.getvalue())


ROTA = [
    ("Week", "Primary", "Secondary", "Escalation", "Notes"),
    ("2026-W10", "Ines Carvalho", "Tomas Eriksen", "Priya Nair", ""),
    (
        "2026-W11",
        "Tomas Eriksen",
        "Mateo Rojas",
        "Priya Nair",
        "Kafka upgrade on Tuesday, expect lag alerts",
    ),
    (
        "2026-W12",
        "Mateo Rojas",
        "Hannah Pike",
        "Kadri Tamm",
        "Hannah covers Friday, Mateo is at the Madrid meetup",
    ),
    ("2026-W13", "Hannah Pike", "Ines Carvalho", "Kadri Tamm", ""),
]


def write_csv(path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(ROTA)


# ------------------------------------------------------------------ JSON

RELEASES = [
    {
        "external_id": "ledgerline-4.2",
        "title": "Ledgerline 4.2 release notes",
        "text": "Ledgerline 4.2 adds usage-based invoices in Swiss francs. Meter readings "
        "older than 35 days are now rejected instead of being billed late.",
        "metadata": {"product": "ledgerline", "released": "2026-02-10"},
    },
    {
        "external_id": "ledgerline-4.3",
        "title": "Ledgerline 4.3 release notes",
        "text": "Ledgerline 4.3 moves invoice rendering to the new PDF service, which cut "
        "month-end rendering from six hours to forty minutes.",
        "metadata": {"product": "ledgerline", "released": "2026-03-03"},
    },
]
CATALOG = {
    "catalog": {"owner": "Platform team", "updated": "2026-02-20", "version": 7},
    "services": [
        {
            "name": "meter-collector",
            "tier": 1,
            "oncall": "payments",
            "slo": {"availability": "99.95%", "p99_latency_ms": 250},
            "dependencies": ["kafka", "postgres"],
        },
        {
            "name": "invoice-renderer",
            "tier": 2,
            "oncall": "billing",
            "slo": {"availability": "99.5%", "p99_latency_ms": 4000},
            "dependencies": ["pdf-service", "object-storage"],
            "deprecated": False,
        },
    ],
}

# ------------------------------------------------------------------ code and config

RETRY_PY = '''"""Retry policy of the meter collector's uploads to Ledgerline."""

import random
import time

MAX_ATTEMPTS = 6
BASE_DELAY_SECONDS = 0.5


class RetryBudgetExceeded(Exception):
    """Raised when an upload failed MAX_ATTEMPTS times."""


def backoff_delay(attempt: int) -> float:
    """Full-jitter exponential backoff: up to 0.5 s * 2**attempt, capped at 30 s."""
    ceiling = min(30.0, BASE_DELAY_SECONDS * 2**attempt)
    return random.uniform(0, ceiling)


# Called by the uploader thread for every batch of readings.
def upload_with_retries(send, batch):
    """Send one batch of meter readings, retrying transient failures."""
    for attempt in range(MAX_ATTEMPTS):
        try:
            return send(batch)
        except ConnectionError:
            time.sleep(backoff_delay(attempt))

    raise RetryBudgetExceeded(f"gave up after {MAX_ATTEMPTS} attempts")
'''
DEPLOY_YAML = """# Deployment of the invoice renderer (Ledgerline billing).
service: invoice-renderer
image: registry.quillfeather.example/billing/invoice-renderer:4.3.0

replicas:
  frankfurt: 4
  dublin: 2

resources:
  cpu: "2"
  memory: 3Gi

rollout:
  strategy: canary
  canary_percent: 10
  pause_minutes: 20
"""

# ------------------------------------------------------------------ transcripts

RETRO_VTT = """WEBVTT

NOTE Exported from Microsoft Teams

00:00:04.120 --> 00:00:09.300
<v Kadri Tamm>Welcome to the data platform retro for February.</v>

00:00:10.000 --> 00:00:16.450
<v Priya Nair>The Kafka consumer lag alert fired eleven times, all of them at night.</v>

00:00:17.200 --> 00:00:23.900
<v Priya Nair>I want to raise the lag threshold from five to fifteen minutes.</v>

00:00:24.500 --> 00:00:31.000
<v Kadri Tamm>Agreed, and we move the nightly compaction job to 02:30 so it stops colliding with backups.</v>
"""
DESIGN_SRT = """1
00:00:02,000 --> 00:00:06,500
Ines Carvalho: Today we decide how invoice numbers survive a region failover.

2
00:00:07,100 --> 00:00:13,800
Tomas Eriksen: I propose a prefix per region, so Frankfurt numbers start with FRA and Dublin with DUB.

3
00:00:14,200 --> 00:00:18,000
Ines Carvalho: Fine, as long as the sequence never resets at month end.
"""
SUPPORT_SYNC = """[00:00:05] Hannah Pike: Ticket volume from the Leeds customers doubled after the 4.3 release.
[00:00:14] Mateo Rojas: Most of them ask where the old CSV export button went.
It moved under Reports, Exports since the redesign.
[00:00:31] Hannah Pike: Then we add a banner in the app for two weeks and a help article.
"""


# ------------------------------------------------------------------ email

INCIDENT_BODY = """Hi all,

the Kafka consumer lag incident on 24 February is closed. Root cause: the nightly
compaction job ran at 02:00, at the same time as the backups, and starved the
consumers of disk bandwidth for 48 minutes.

Actions: compaction moves to 02:30 (owner Kadri), and the lag alert threshold goes
from five to fifteen minutes (owner Priya). The timeline is attached.

Priya
"""
TIMELINE_CSV = """Time,Event
02:00,Nightly compaction and backups start together
02:07,Consumer lag alert fires
02:48,Compaction finishes and lag recovers
"""


def write_email(path: Path) -> None:
    message = EmailMessage()
    message["From"] = "Priya Nair <priya.nair@quillfeather.example>"
    message["To"] = "data-platform@quillfeather.example"
    message["Cc"] = "Kadri Tamm <kadri.tamm@quillfeather.example>"
    message["Subject"] = "Incident follow-up: Kafka consumer lag on 24 February"
    message["Date"] = "Wed, 25 Feb 2026 10:12:00 +0000"
    message["Message-ID"] = "<incident-0224@quillfeather.example>"
    message.set_content(INCIDENT_BODY)
    message.add_attachment(
        TIMELINE_CSV.encode(), maintype="text", subtype="csv", filename="lag-timeline.csv"
    )
    # a fixed MIME boundary, so the file is byte-identical on every run
    message.set_boundary("quillfeather-sample-boundary")
    path.write_bytes(bytes(message))


# ------------------------------------------------------------------ pandoc formats

RELEASE_RST = """Ledgerline release process
==========================

Code freeze
-----------

The release branch is cut every Wednesday at 12:00 Lisbon time. After the freeze only
fixes approved by two reviewers from the billing team are merged.

Rollback
--------

* A release that raises the invoice error rate above 0.5% is rolled back.
* Rollback must finish within 15 minutes of the decision.
"""
CONTRACT_MD = """# Nordlicht Hosting contract summary

## Payment terms

Invoices from Nordlicht Hosting are paid within 45 days. Late payment adds 1.5% per month.

## Termination

Either side may end the contract with 90 days notice, effective at the end of a quarter.
"""
SECURITY_MD = """# Workstation security policy

## Multi-factor authentication

Hardware security keys are replaced every two years; a lost key is reported to the
security desk the same day.

## Removable media

USB storage devices are blocked on every company laptop. Exceptions need a ticket
approved by the CISO.
"""
FIELD_GUIDE_MD = """# Tallinn data centre field guide

## Arriving

Visitors sign in at reception on the ground floor of the Ülemiste building and get a
red badge that opens only the visitor lift.

## In the server hall

Photography is not allowed. Spare disks are kept in cage 14, and every disk taken out
is logged on the clipboard at the cage door.
"""


def pandoc(markdown: str, target: Path, *extra: str) -> None:
    """Convert Markdown with the pandoc program; SOURCE_DATE_EPOCH fixes every date."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(int(FIXED_TIME.timestamp()))}
    subprocess.run(
        ["pandoc", "--from", "markdown", "--standalone", "--output", str(target), *extra],
        input=markdown.encode(),
        env=env,
        check=True,
    )


def main() -> None:
    """Write every sample of this script."""
    write_xlsx(HERE / "revenue-2026.xlsx")
    write_csv(HERE / "oncall-rota.csv")
    (HERE / "release-notes.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in RELEASES), encoding="utf-8"
    )
    (HERE / "service-catalog.json").write_text(json.dumps(CATALOG, indent=2) + "\n")
    (HERE / "retry_policy.py").write_text(RETRY_PY, encoding="utf-8")
    (HERE / "deploy.yaml").write_text(DEPLOY_YAML, encoding="utf-8")
    (HERE / "retro-2026-02-27.vtt").write_text(RETRO_VTT, encoding="utf-8")
    (HERE / "design-review-2026-02-24.srt").write_text(DESIGN_SRT, encoding="utf-8")
    (HERE / "support-sync-2026-02-25.txt").write_text(SUPPORT_SYNC, encoding="utf-8")
    write_email(HERE / "incident-followup.eml")
    (HERE / "release-process.rst").write_text(RELEASE_RST, encoding="utf-8")
    pandoc(CONTRACT_MD, HERE / "vendor-contract.rtf")
    pandoc(SECURITY_MD, HERE / "security-policy.odt")
    meta = ["--metadata", "title=Tallinn data centre field guide", "--metadata", "identifier=qf-fg"]
    pandoc(FIELD_GUIDE_MD, HERE / "field-guide.epub", *meta)


if __name__ == "__main__":
    main()
