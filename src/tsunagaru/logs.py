"""Structured logs (one JSON object a line) with identities kept out.

Callers pass fields, not formatted strings; :func:`event` drops any field named like a secret and
expects identities to be redacted already (``tsunagaru.anp.nai.redact``): a realm and a short keyed
hash, never the user part. That keeps logs useful for operators and safe to ship to a SIEM.
"""

from __future__ import annotations

import functools
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
        return _ENCODER.encode(doc)


def setup(level: str = "info", stream: Any = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("tsunagaru")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


@functools.lru_cache(maxsize=256)
@functools.lru_cache(maxsize=1024)
def _allowed(name: str) -> bool:
    """Field names are code, not input: the answer per name is cached (asked for every field of every line)."""
    return not any(bad in name.lower() for bad in FORBIDDEN)


# One encoder for every line: json.dumps with options builds a new JSONEncoder per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)


def event(logger: logging.Logger, msg: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log ``msg`` with ``fields``; fields whose names suggest secrets or plain identities are refused."""
    if not logger.isEnabledFor(level):
        return
    safe = {k: v for k, v in fields.items() if _allowed(k)}
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


class AccessLog:
    """One JSON line per request, in the same shape as :func:`event`, without the ``logging`` machinery.

    A proxy writes one of these per request; going through ``logging`` (record, handler, lock,
    formatter, one write each) cost more CPU than the RADIUS work itself. Lines are buffered and written
    together once per event-loop turn (``flush`` is scheduled on the first line of a batch).
    """

    def __init__(self, logger: logging.Logger, msg: str = "access") -> None:
        self.logger = logger
        self.msg = msg
        self._lines: list[str] = []
        self._scheduled = False

    def write(self, **fields: Any) -> None:
        if not self.logger.isEnabledFor(logging.INFO):
            return
        doc = {"ts": round(time.time(), 3), "level": "info", "logger": self.logger.name, "msg": self.msg}
        doc.update((k, v) for k, v in fields.items() if _allowed(k))
        self._lines.append(_ENCODER.encode(doc))
        if not self._scheduled:
            self._scheduled = True
            try:
                import asyncio

                asyncio.get_running_loop().call_soon(self.flush)
            except RuntimeError:
                self.flush()

    def flush(self) -> None:
        self._scheduled = False
        if not self._lines:
            return
        text = "\n".join(self._lines) + "\n"
        self._lines.clear()
        for handler in _handlers(self.logger):
            stream = getattr(handler, "stream", None)
            if stream is not None:
                stream.write(text)
                stream.flush()


def _handlers(logger: logging.Logger) -> list[logging.Handler]:
    found: list[logging.Handler] = []
    current: logging.Logger | None = logger
    while current is not None:
        found.extend(current.handlers)
        if not current.propagate:
            break
        current = current.parent
    return found
