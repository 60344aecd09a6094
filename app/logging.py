"""Logs: readable lines on a terminal, JSON lines elsewhere (or when asked), each with the request id.

The access line says who called (user or API key), from where, and the status: the request's
authentication writes its caller into `access_var`, which the request middleware set up.
"""
from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from app.domain.audit.service import request_id_var

# One dict per request, filled in as the request learns things (who is calling). A dict, not a
# value: what a dependency writes must reach the middleware whatever context it ran in.
access_var: ContextVar[dict[str, Any] | None] = ContextVar("propdesk_access", default=None)

_FIELDS = ("method", "path", "status", "duration_ms", "caller", "client", "job", "estate_id", "period")


def note_caller(label: str) -> None:
    fields = access_var.get()
    if fields is not None:
        fields["caller"] = label


def wants_json(setting: bool | None, stream: Any = None) -> bool:
    """PROPDESK_LOG_JSON if set; otherwise JSON unless the logs go to a terminal."""
    if setting is not None:
        return setting
    stream = stream or sys.stderr
    return not (hasattr(stream, "isatty") and stream.isatty())


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": request_id_var.get(),
        }
        for key in _FIELDS:
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`12:01:02 INFO  [a1b2c3d4] GET /api/v1/units 200 12.3 ms  caller=杨娅聪 client=10.0.0.5`"""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created).astimezone().strftime("%Y-%m-%d %H:%M:%S")
        rid = request_id_var.get()
        line = f"{when} {record.levelname:<7} " + (f"[{rid[:8]}] " if rid else "")
        if record.name == "propdesk.access" and hasattr(record, "status"):
            # The access log passes these as `extra=`: attributes a LogRecord does not declare.
            line += f"{record.method} {record.path} {record.status} {record.duration_ms} ms"  # type: ignore[attr-defined]
            extra = [f"{k}={getattr(record, k)}" for k in ("caller", "client") if getattr(record, k, None)]
        else:
            line += record.getMessage()
            extra = [f"{k}={getattr(record, k)}" for k in ("job", "estate_id", "period") if hasattr(record, k)]
        if extra:
            line += "  " + " ".join(extra)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def formatter(json_logs: bool) -> logging.Formatter:
    return JsonFormatter() if json_logs else TextFormatter()


def configure(*, json_logs: bool | None = None, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(wants_json(json_logs)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("uvicorn.access").disabled = True
