"""Typed reading of TOML configuration tables, shared by the ANP's and the IdP's files.

Every accessor takes the full key path (``clients[2].network``) so that an error names exactly what an
operator must fix; the value is looked up by the last part of that path. :func:`check_keys` refuses
keys and tables nobody reads, with a did-you-mean (a typo must not turn a setting off in silence);
:func:`read_text` and :func:`parse_toml` turn an unreadable, non-UTF-8 or invalid file into one
:class:`ConfigError` line.
"""

from __future__ import annotations

import difflib
import re
import sys
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

#: ``[SUBID.]OPERATOR:CC`` in upper case, as the WBA issues them.
WBAID = re.compile(r"^([A-Z0-9-]+\.)?[A-Z0-9-]+:[A-Z]{2}$")


class ConfigError(ValueError):
    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Listen:
    host: str
    port: int


def _last(key: str) -> str:
    return key.rsplit(".", 1)[-1]


def check_keys(table: dict[str, Any], key: str, known: Iterable[str]) -> None:
    """Raise :class:`ConfigError` naming the first key of ``table`` that is not in ``known``.

    ``key`` is the table's path (``""`` for the top level, ``clients[2]`` for an array element)."""
    allowed = sorted(set(known))
    for name in sorted(table):
        if name in allowed:
            continue
        path = f"{key}.{name}" if key else name
        close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'? " if close else ""
        what = "table" if isinstance(table[name], dict) else "key"
        raise ConfigError(path, f"unknown {what}; {hint}(known: {', '.join(allowed)})")


def read_text(path: Path) -> str:
    """The file's text as UTF-8; unreadable or not UTF-8 is one ConfigError line."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read: {exc.strerror or exc}") from None
    return decode_text(data, str(path))


def decode_text(data: bytes, name: str = "(file)") -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(name, f"not UTF-8 text (invalid octet at position {exc.start}); save it as UTF-8") \
            from None


def parse_toml(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("(file)", f"not valid TOML: {exc}") from None


class TomlReader:
    """Accessors that check types and ranges; relative paths are resolved against ``base``."""

    def __init__(self, base: Path) -> None:
        self.base = base

    @staticmethod
    def string(parent: dict[str, Any], key: str, default: str | None = None) -> str | None:
        value = parent.get(_last(key), default)
        if value is not None and not isinstance(value, str):
            raise ConfigError(key, f"must be a string, not {type(value).__name__}")
        return value

    def required(self, parent: dict[str, Any], key: str) -> str:
        value = self.string(parent, key)
        if not value:
            raise ConfigError(key, "is required")
        return value

    @staticmethod
    def number(parent: dict[str, Any], key: str, default: float, *, lo: float, hi: float) -> float:
        value = parent.get(_last(key), default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(key, "must be a number")
        if not lo <= value <= hi:
            raise ConfigError(key, f"must be between {lo:g} and {hi:g}, got {value}")
        return float(value)

    @staticmethod
    def boolean(parent: dict[str, Any], key: str, default: bool) -> bool:
        value = parent.get(_last(key), default)
        if not isinstance(value, bool):
            raise ConfigError(key, "must be true or false")
        return value

    @staticmethod
    def items(parent: dict[str, Any], key: str) -> list[Any]:
        value = parent.get(_last(key), [])
        if not isinstance(value, list):
            raise ConfigError(key, "must be a list")
        return value

    def strings(self, parent: dict[str, Any], key: str) -> list[str]:
        value = self.items(parent, key)
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item:
                raise ConfigError(f"{key}[{i}]", "must be a non-empty string")
        return value

    def resolve(self, value: str) -> Path:
        p = Path(value)
        return p if p.is_absolute() else self.base / p

    def paths(self, parent: dict[str, Any], key: str) -> tuple[Path, ...]:
        """A list of file names (strings only: ``roots = [1, 2]`` is an error, not two paths)."""
        return tuple(self.resolve(v) for v in self.strings(parent, key))

    def wbaid(self, parent: dict[str, Any], key: str) -> str | None:
        value = self.string(parent, key)
        if value is not None and not WBAID.match(value):
            raise ConfigError(key, f"{value!r} is not a WBAID like OPERATOR:JP (upper case)")
        return value


def hostport(text: str, key: str, default_port: int) -> Listen:
    """``host:port``, ``[v6]:port``, a bare host or a bare IPv6 address (``::1``, ``[::]``: then
    ``default_port``)."""
    if text.startswith("[") and text.endswith("]"):
        host, port_text = text[1:-1], str(default_port)
    else:
        host, sep, port_text = text.rpartition(":")
        if not sep or (host.count(":") and not host.startswith("[")):
            host, port_text = text, str(default_port)
        host = host.strip("[]")
    try:
        port = int(port_text)
    except ValueError:
        raise ConfigError(key, f"{text!r}: port is not a number") from None
    if not 0 < port < 65536:
        raise ConfigError(key, f"{text!r}: port must be 1..65535")
    if not host:
        raise ConfigError(key, f"{text!r}: host is empty")
    return Listen(host, port)


def load_or_report(loader: Callable[[Path], T], path: Path) -> T | None:
    """``loader(path)``, or None after printing ``path: key: problem`` on stderr (the CLIs then exit 2).

    A non-UTF-8 file is the same one line (a loader that reads text itself may raise UnicodeDecodeError)."""
    try:
        return loader(path)
    except ConfigError as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return None
    except UnicodeDecodeError as exc:
        print(f"{path}: not UTF-8 text (invalid octet at position {exc.start}); save it as UTF-8", file=sys.stderr)
        return None
