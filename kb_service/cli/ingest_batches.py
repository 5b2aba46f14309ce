"""How `kb-service ingest` groups files into jobs, and names each document it reports.

A JSON records file becomes one document per record, and an email is followed by its
attachments (`uploads.split_record_files`), so jobs are filled by documents, not
files: at most `MAX_DOCUMENTS_PER_JOB` each. A records file whose record is invalid,
or that alone holds more records than a job takes, is refused before anything is
queued and reported like a failed document. Within a job, items are the batch's other
files in order (an email's attachments right after it), then each records file's
records (`ingestion.submit_ingest` keeps that order), which is how `labels` lines up
with item positions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kb_service.errors import ServiceError
from kb_service.services import ingestion, uploads


@dataclass
class Batch:
    """The uploads of one job and the label of each document they become, in item order."""

    uploads: list[ingestion.Upload] = field(default_factory=list)
    file_labels: list[str] = field(default_factory=list)
    record_labels: list[str] = field(default_factory=list)

    @property
    def labels(self) -> list[str]:
        return [*self.file_labels, *self.record_labels]


@dataclass
class Plan:
    batches: list[Batch]
    refused: list[tuple[str, str]]  # (path, reason)


def plan_batches(files: list[Path], limit: int = ingestion.MAX_DOCUMENTS_PER_JOB) -> Plan:
    """Files grouped into jobs of at most `limit` documents (see the module)."""
    batches: list[Batch] = [Batch()]
    refused: list[tuple[str, str]] = []
    for path in files:
        upload = ingestion.Upload(path.name, path.read_bytes())
        try:
            plain, records = uploads.split_record_files([upload])
        except ServiceError as exc:
            refused.append((str(path), exc.message))
            continue
        count = len(plain) + len(records)
        if count > limit:
            refused.append((str(path), f"it holds {count} records; one job takes at most {limit}."))
            continue
        if len(batches[-1].labels) + count > limit:
            batches.append(Batch())
        batch = batches[-1]
        batch.uploads.append(upload)
        if plain:  # the file, and an email's attachments after it
            batch.file_labels.append(str(path))
            batch.file_labels.extend(str(path.parent / (a.filename or "")) for a in plain[1:])
        else:
            batch.record_labels.extend(
                f"{path} ({r.external_id or r.title or f'record {n}'})"
                for n, r in enumerate(records, start=1)
            )
    return Plan([b for b in batches if b.uploads], refused)
