"""Structured logs: one JSON object per line, never a citizen's name, number or words."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

# A last line of defence: anything that looks like a phone number is masked.
_PHONE = re.compile(r"\+?\d[\d ]{7,}\d")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": _PHONE.sub("[number]", record.getMessage()),
        }
        for key in ("contact_id", "channel", "event", "status", "path", "duration_ms"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info and record.exc_info[1] is not None:
            # The type and where it was raised, never the message: database errors carry the
            # statement's parameters (numbers, message text) in theirs.
            exc = record.exc_info[1]
            entry["exc"] = type(exc).__name__
            tb = exc.__traceback__
            while tb is not None and tb.tb_next is not None:
                tb = tb.tb_next
            if tb is not None:
                entry["where"] = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}"
        return json.dumps(entry)


def configure_logging(level: str = "INFO") -> None:
    """Send kanal's logs as JSON lines to stderr (once)."""
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Every scheduler run would otherwise log two lines; failures still show.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
