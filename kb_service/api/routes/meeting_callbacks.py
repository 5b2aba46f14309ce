"""Live meeting callbacks: signed by the meeting source's secret, not by an API key.

Mounted outside the API-key dependency (see `api.app`). Answers: 200 with
`result` accepted | duplicate | ignored; 404 unknown source; 401 bad signature or a
timestamp outside KB_MEETING_CALLBACK_TOLERANCE_SECONDS;
413 body over 256 KiB or a segment over the size limit; 422 malformed event (or a
source id that is not valid text);
409 an event the meeting's state refuses. Nothing is stored unless the answer is 200.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool

from kb_service.api.deps import DB, RuntimeDep
from kb_service.api.envelope import Envelope, ok
from kb_service.api.json_body import StrictParamsRoute
from kb_service.api.schemas.meetings import CallbackOut
from kb_service.errors import PayloadTooLarge
from kb_service.services import meeting_callbacks as service

router = APIRouter(tags=["meetings"], route_class=StrictParamsRoute)


@router.post(
    "/meetings/events/{source_id}",
    response_model=Envelope[CallbackOut],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["type", "meetingId", "sequence"],
                        "properties": {
                            "type": {"type": "string"},
                            "meetingId": {"type": "string"},
                            "sequence": {"type": "integer"},
                            "timestamp": {},
                            "payload": {"type": "object"},
                        },
                    }
                }
            },
        }
    },
)
async def meeting_event(
    source_id: str,
    request: Request,
    db: DB,
    runtime: RuntimeDep,
    signature: Annotated[str | None, Header(alias=service.SIGNATURE_HEADER)] = None,
) -> Any:
    """Receive one live meeting event (Sasha's Meeting Room callback format)."""
    body = await _read_capped(request, service.MAX_CALLBACK_BYTES)
    outcome = await run_in_threadpool(
        service.handle_callback,
        db,
        source_id=source_id,
        body=body,
        signature=signature,
        tolerance_seconds=runtime.settings.meetings.callback_tolerance_seconds,
    )
    return ok(
        CallbackOut(
            result=outcome.result,  # type: ignore[arg-type]
            meeting_id=outcome.meeting_id,
            reason=outcome.reason,
        ).model_dump()
    )


async def _read_capped(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"A meeting event may be at most {limit // 1024} KiB.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"A meeting event may be at most {limit // 1024} KiB.")
        chunks.append(chunk)
    return b"".join(chunks)
