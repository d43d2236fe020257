"""Structured logs (one JSON object a line) with identities kept out.

Callers pass fields, not formatted strings; :func:`event` drops any field named like a secret and
expects identities to be redacted already (:func:`redact`): a realm and a keyed hash, never the user
part. That keeps logs useful for operators and safe to ship to a SIEM.

The hash is HMAC-SHA-256 under a per-installation random key (``log.key``, 0600, beside the
configuration; :func:`use_key_file`), cut to 64 bits: without the key a list of likely names does not
reveal who is who, and 64 bits keep distinct users apart. The IdP stores the same hash as
``idp_accounting.user_hash``. Until a key file is loaded a random per-process key is used, never a
fixed one.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import secrets
import sys
import time
from json.encoder import encode_basestring  # the C string escaper json.dumps(ensure_ascii=False) uses
from pathlib import Path
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


LOG_KEY_FILE = "log.key"
MIN_KEY = 16
_key = [secrets.token_bytes(32)]  # replaced by use_key / use_key_file at start-up


def use_key(key: bytes) -> None:
    """Hash identities under ``key`` from now on (at least 16 octets)."""
    if len(key) < MIN_KEY:
        raise ValueError(f"the redaction key must be at least {MIN_KEY} octets, not {len(key)}")
    _key[0] = key


def use_key_file(path: Path | str) -> Path:
    """Use the installation's key in ``path``, creating it (32 random octets, 0600) on first start."""
    from tsunagaru.secretfile import read_or_create_key

    use_key(read_or_create_key(path))
    return Path(path)


def redact(raw: bytes | str | None, key: bytes | None = None) -> str:
    """A log-safe form of an identity: ``@realm#hash16`` (the hash lets an operator follow one user)."""
    if raw is None:
        return "-"
    data = raw if isinstance(raw, bytes) else raw.encode("utf-8", "replace")
    tag = hmac.new(key or _key[0], data, hashlib.sha256).hexdigest()[:16]
    realm = data.rsplit(b"@", 1)[1].decode("utf-8", "replace")[:64] if b"@" in data else ""
    return f"@{realm}#{tag}" if realm else f"#{tag}"


@functools.lru_cache(maxsize=4096)
def _redact_under(raw: bytes, key: bytes) -> str:
    return redact(raw, key)


def redact_cached(raw: bytes) -> str:
    """:func:`redact` for values that repeat (a subscriber's CUI on every reply): remembered per value and
    key (bounded), so a change of key is never answered from the old one."""
    return _redact_under(raw, _key[0])


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
        self._head: str | None = None

    def write(self, **fields: Any) -> None:
        if not self.logger.isEnabledFor(logging.INFO):
            return
        doc = {"ts": round(time.time(), 3), "level": "info", "logger": self.logger.name, "msg": self.msg}
        doc.update((k, v) for k, v in fields.items() if _allowed(k))
        self._add(_ENCODER.encode(doc))

    def access(self, realm: str, cui: str | None, client: str | None, outcome: str, reason: int | None,
               ms: float) -> None:
        """The proxy's line for one reply, the same text as ``write(realm=..., cui=..., client=..., outcome=...,
        reason=..., ms=...)`` would give, built from one template: no dict, no field filter (the names are
        fixed here and allowed), no generic encoder walk; strings still go through json's C escaper."""
        if not self.logger.isEnabledFor(logging.INFO):
            return
        head = self._head
        if head is None:
            head = self._head = (f'"level": "info", "logger": {encode_basestring(self.logger.name)}, '
                                 f'"msg": {encode_basestring(self.msg)}, "realm": ')
        self._add(f'{{"ts": {round(time.time(), 3)!r}, {head}{encode_basestring(realm)}, "cui": '
                  f'{"null" if cui is None else encode_basestring(cui)}, "client": '
                  f'{"null" if client is None else encode_basestring(client)}, "outcome": '
                  f'{encode_basestring(outcome)}, "reason": {"null" if reason is None else int(reason)}, '
                  f'"ms": {float(ms)!r}}}')

    def _add(self, line: str) -> None:
        self._lines.append(line)
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
