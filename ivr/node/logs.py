"""Structured logs: one JSON object per line, quiet by default."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any


class JsonFormatter(logging.Formatter):
    def __init__(self, part: str) -> None:
        super().__init__()
        self.part = part

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "part": self.part,
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


# Libraries whose info lines are not the node's: aiomqtt's connection chatter, and
# Alembic's "setup plugin ...", "Context impl SQLiteImpl.", "Will assume
# transactional DDL.", "Running upgrade ..." on every start (storage.migrations
# logs one structured line per migration applied instead).
QUIET_LOGGERS = ("aiomqtt", "asyncio", "alembic")


def configure(part: str, level: str = "info") -> None:
    """Every record as one JSON line on stderr, from ``level`` up; the libraries in
    ``QUIET_LOGGERS`` only from WARNING (they still do at ``debug``)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(part))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    quiet = logging.DEBUG if root.level <= logging.DEBUG else logging.WARNING
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(quiet)


def fields(**values: Any) -> dict[str, Any]:
    """``log.info("call ended", extra=fields(call_id=..., reason=...))``"""
    return {"fields": values}
