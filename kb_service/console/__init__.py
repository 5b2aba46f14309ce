"""The web console: a single-page app served at `/console`, talking only to `/api/v1`.

No build step: the browser loads plain ES modules and one stylesheet from
`kb_service/console/static` (`/console/static/...`). Every other path under `/console`
answers with the same HTML shell, so deep links such as
`/console/kb/{kb}/doc/{doc}#span=START-END` or `/console/meetings/{mtg}#span=START-END`
open the right page; the app reads the path and the fragment itself.

The shell's Content-Security-Policy allows scripts, styles and requests to this origin
only: the console fetches nothing from elsewhere, and no inline script runs.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"
CONSOLE_PATH = "/console"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


def document_link(
    base: str, kb_id: str | None, document_id: str | None, start: int, end: int
) -> str:
    """The console page of a document with the span `[start, end)` of its text highlighted."""
    return f"{base}{CONSOLE_PATH}/kb/{kb_id}/doc/{document_id}#span={start}-{end}"


def meeting_link(
    base: str, meeting_id: str, start: int | None = None, end: int | None = None
) -> str:
    """The console page of a meeting's transcript, optionally at the span `[start, end)`."""
    link = f"{base}{CONSOLE_PATH}/meetings/{meeting_id}"
    return link if start is None or end is None else f"{link}#span={start}-{end}"


def install_console(app: FastAPI) -> None:
    """Serve the console's assets and its HTML shell (outside the API and its schema)."""
    shell = (STATIC / "index.html").read_text(encoding="utf-8")

    def console_page() -> HTMLResponse:
        return HTMLResponse(shell, headers=SECURITY_HEADERS)

    app.mount(f"{CONSOLE_PATH}/static", StaticFiles(directory=STATIC), name="console-static")
    for path in (CONSOLE_PATH, f"{CONSOLE_PATH}/", f"{CONSOLE_PATH}/{{path:path}}"):
        app.add_api_route(path, console_page, methods=["GET"], include_in_schema=False)
