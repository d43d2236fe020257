"""Structured logs (one JSON object a line) with identities kept out.

Callers pass fields, not formatted strings; :func:`event` drops any field named like a secret and
expects identities to be redacted already (``tsunagaru.anp.nai.redact``): a realm and a short keyed
hash, never the user part. That keeps logs useful for operators and safe to ship to a SIEM.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import sys
import time
from typing import Any

FORBIDDEN = ("password", "secret", "key", "user_name", "identity")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            doc.update(fields)
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False, default=str)


def setup(level: str = "info", stream: Any = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("tsunagaru")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


def event(logger: logging.Logger, msg: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log ``msg`` with ``fields``; fields whose names suggest secrets or plain identities are refused."""
    if not logger.isEnabledFor(level):
        return
    safe = {k: v for k, v in fields.items() if not any(bad in k.lower() for bad in FORBIDDEN)}
    logger.log(level, msg, extra={"fields": safe})


def monotonic() -> float:
    return time.monotonic()


def redact(raw: bytes | str | None, key: bytes = b"tsunagaru-log") -> str:
    """A log-safe form of an identity: ``@realm#hash8`` (the hash lets an operator follow one user)."""
    if raw is None:
        return "-"
    data = raw if isinstance(raw, bytes) else raw.encode("utf-8", "replace")
    tag = hmac.new(key, data, hashlib.sha256).hexdigest()[:8]
    realm = data.rsplit(b"@", 1)[1].decode("utf-8", "replace")[:64] if b"@" in data else ""
    return f"@{realm}#{tag}" if realm else f"#{tag}"
