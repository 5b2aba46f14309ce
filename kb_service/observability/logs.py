"""Log lines as text or as one JSON object per line (`KB_LOG_FORMAT=json|text`).

`configure_logging` sets the root handler once per process (the CLI calls it with the
setting). Structured events are ordinary log records whose fields ride in `extra`
under `FIELDS`: `log_event(logger, "request", request_id=..., status=...)`. The JSON
formatter writes `ts`, `level`, `logger`, `message` and those fields; the text
formatter appends them as `key=value` so nothing is lost in either format:

    {"ts": "2026-12-02T14:03:07.120+00:00", "level": "INFO", "logger": "kb_service.request",
     "message": "request", "event": "request", "request_id": "req_…", "route": …}
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

FIELDS = "kb_fields"  # the LogRecord attribute that carries an event's fields
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record; an exception's traceback goes in `exc_info`."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, FIELDS, None) or {})
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The classic line, with an event's fields appended as `key=value`."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = getattr(record, FIELDS, None)
        if fields:
            text += " " + " ".join(
                f"{k}={v}" for k, v in fields.items() if v is not None and k != "event"
            )
        return text


def formatter_for(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else TextFormatter()


def configure_logging(log_format: str, level: int | str = logging.INFO) -> None:
    """Route every logger (uvicorn's included) through one stderr handler in `log_format`.

    Called again, it replaces its own handler. When something else already configured
    the root logger (a test runner, an application embedding the service), it changes
    nothing.
    """
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, _OURS, False)]
    if root.handlers and not ours:
        return
    for old in ours:
        root.removeHandler(old)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter_for(log_format))
    setattr(handler, _OURS, True)
    root.addHandler(handler)
    root.setLevel(level)
    # Alembic narrates every migration step and plugin at INFO; a command's stderr should
    # carry its own messages, and a failed migration still logs at WARNING or above.
    logging.getLogger("alembic").setLevel(logging.WARNING)


_OURS = "_kb_service_handler"


def log_event(logger: logging.Logger, event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log a structured event: `message` is the event name, `fields` its data."""
    if logger.isEnabledFor(level):
        logger.log(level, event, extra={FIELDS: {"event": event, **fields}})
