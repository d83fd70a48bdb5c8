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
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info).splitlines()[-1]
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
