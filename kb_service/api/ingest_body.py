"""Reading an ingest request's body: multipart files (plus a `metadata` JSON field) or JSON.

The ingest route chooses its parser by content type, so it reads the body itself:
`multipart/form-data` with one or more `files` becomes uploads, `application/json`
(`TextIngestIn`) becomes text records; anything else is `UnsupportedMediaType`. JSON,
the body or the `metadata` field, is parsed by `kb_service.strict_json`. The service
(`services.ingestion.submit_ingest`) takes the result and checks the metadata.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from starlette.datastructures import UploadFile

from kb_service import strict_json
from kb_service.api.schemas.ingest import TextIngestIn
from kb_service.errors import InvalidInput, UnsupportedMediaType
from kb_service.services.ingestion import MAX_DOCUMENTS_PER_JOB, TextRecord, Upload


@dataclass(frozen=True)
class IngestBody:
    uploads: list[Upload] = field(default_factory=list)
    records: list[TextRecord] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)


async def read_ingest_body(request: Request) -> IngestBody:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        return await _read_form(request)
    if content_type == "application/json":
        # StrictJsonRequest (api.json_body) has parsed it already, under strict_json's rule
        body = TextIngestIn.model_validate(await request.json())
        return IngestBody(records=body.to_records(), metadata=body.metadata)
    raise UnsupportedMediaType(
        "Send files as multipart/form-data (field 'files') or text as application/json."
    )


async def _read_form(request: Request) -> IngestBody:
    form = await request.form(max_files=MAX_DOCUMENTS_PER_JOB, max_fields=50)
    try:
        files = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
        if not files:
            raise InvalidInput(
                "Attach one or more files in the multipart field 'files'.",
                errors=[{"field": "files", "message": "no files", "type": "missing"}],
            )
        metadata = _metadata_field(form.get("metadata"))
        uploads = [Upload(f.filename, await f.read(), f.content_type) for f in files]
    finally:
        await form.close()
    return IngestBody(uploads=uploads, metadata=metadata)


def _metadata_field(raw: Any) -> dict[str, Any]:
    if raw is None or raw == "":
        return {}
    value = strict_json.loads(raw, field="metadata") if isinstance(raw, str) else None
    if not isinstance(value, dict):
        raise InvalidInput(
            "The 'metadata' field must be a JSON object.",
            errors=[{"field": "metadata", "message": "not a JSON object", "type": "value_error"}],
        )
    return value
