"""The attribute registry, loaded from FreeRADIUS-format dictionary files (data, not code).

Keys are ``(vendor, path)``: vendor 0 for the standard space, path the attribute numbers from the top
(``(26,)`` is Vendor-Specific, ``(241, 1)`` is Frag-Status, ``(16,)`` under vendor 311 is
MS-MPPE-Send-Key). Operators add vendors by pointing the loader at more files.

Supported statements: ATTRIBUTE (with ``encrypt=N``, ``has_tag``, ``concat`` flags), VALUE, VENDOR
(``format=T,L`` with T in 1/2/4 type octets and L in 0/1/2 length octets, as USR, Lucent or Starent
use), BEGIN-VENDOR/END-VENDOR (with ``parent=`` or FreeRADIUS 3's ``format=Extended-Vendor-Specific-N``
for RFC 6929 extended VSAs), BEGIN-TLV/END-TLV, $INCLUDE. Dotted numbers (``241.1``) name children.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from tsunagaru.radius.errors import DictionaryError
from tsunagaru.radius.values import DECODERS, DataType, parse_type

Key = tuple[int, tuple[int, ...]]


@dataclass(frozen=True, slots=True)
class AttributeDef:
    name: str
    vendor: int
    path: tuple[int, ...]
    type: DataType
    encrypt: int = 0  # 1 User-Password, 2 Tunnel-Password / salt (RFC 2868, RFC 2548), 3 Ascend
    has_tag: bool = False
    concat: bool = False
    values: dict[str, int] = field(default_factory=dict, compare=False, hash=False)
    names: dict[int, str] = field(default_factory=dict, compare=False, hash=False)
    #: A leaf decoded from its octets alone (not hidden, tagged, or a container): the decoder's fast path.
    plain: bool = field(init=False, compare=False, hash=False, repr=False)
    decoder: Callable[[bytes], Any] = field(init=False, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "plain", not (self.encrypt or self.has_tag or self.type.is_container))
        object.__setattr__(self, "decoder", DECODERS.get(self.type, bytes))

    @property
    def key(self) -> Key:
        return (self.vendor, self.path)


@dataclass(slots=True)
class Dictionary:
    """Attribute definitions by key and by (case-insensitive) name, and vendors by id and name."""

    by_key: dict[Key, AttributeDef] = field(default_factory=dict)
    by_name: dict[str, AttributeDef] = field(default_factory=dict)
    vendors: dict[int, str] = field(default_factory=dict)
    vendor_ids: dict[str, int] = field(default_factory=dict)
    #: (type octets, length octets) of vendors whose VSAs are not the usual RFC 2865 ``1,1``.
    vendor_formats: dict[int, tuple[int, int]] = field(default_factory=dict)

    def add(self, attr: AttributeDef) -> None:
        self.by_key[attr.key] = attr
        self.by_name[attr.name.lower()] = attr

    def get(self, vendor: int, path: tuple[int, ...]) -> AttributeDef | None:
        return self.by_key.get((vendor, path))

    def __getitem__(self, name: str) -> AttributeDef:
        try:
            return self.by_name[name.lower()]
        except KeyError:
            raise DictionaryError(f"unknown attribute {name!r}") from None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self.by_name

    # -- loading ------------------------------------------------------------------------------------

    def load_file(self, path: str | os.PathLike[str]) -> None:
        p = Path(path)
        _Loader(self, p.parent).load_text(p.read_text(encoding="utf-8", errors="replace"), str(p))

    def load_text(self, text: str, source: str = "<text>", base: Path | None = None) -> None:
        _Loader(self, base or Path.cwd()).load_text(text, source)


class _Loader:
    def __init__(self, dictionary: Dictionary, base: Path) -> None:
        self.d = dictionary
        self.base = base
        self.vendor = 0
        self.parent: tuple[int, ...] = ()  # BEGIN-VENDOR parent= (extended VSA) or BEGIN-TLV prefix
        self.tlv_stack: list[tuple[int, ...]] = []
        self.depth = 0

    def load_text(self, text: str, source: str) -> None:
        self.depth += 1
        if self.depth > 16:
            raise DictionaryError("$INCLUDE nested too deep", source=source)
        for lineno, raw in enumerate(text.splitlines(), 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            try:
                self._statement(line.split(), source)
            except DictionaryError:
                raise
            except (ValueError, IndexError, KeyError) as exc:
                raise DictionaryError(str(exc) or "malformed line", source=source, line=lineno) from exc
        self.depth -= 1

    def _statement(self, words: list[str], source: str) -> None:
        kw = words[0].upper()
        if kw == "ATTRIBUTE":
            self._attribute(words)
        elif kw == "VALUE":
            self._value(words)
        elif kw == "VENDOR":
            self._vendor(words)
        elif kw == "BEGIN-VENDOR":
            self.vendor = self._vendor_id(words[1])
            self.parent = ()
            for opt in words[2:]:
                if opt.startswith(("parent=", "format=")):
                    self.parent = self.d[opt.split("=", 1)[1]].path
        elif kw == "END-VENDOR":
            self.vendor, self.parent = 0, ()
        elif kw == "BEGIN-TLV":
            self.tlv_stack.append(self._lookup(words[1]).path)
        elif kw == "END-TLV":
            self.tlv_stack.pop()
        elif kw == "$INCLUDE":
            self._include(words[1], source)
        elif kw in ("FLAGS", "PROTOCOL", "BEGIN-PROTOCOL", "END-PROTOCOL", "MEMBER", "STRUCT", "ENUM"):
            return  # FreeRADIUS 4 statements we do not need
        else:
            raise ValueError(f"unknown statement {words[0]!r}")

    def _lookup(self, name: str) -> AttributeDef:
        return self.d[name]

    def _vendor_id(self, text: str) -> int:
        if text.isdigit():
            return int(text)
        try:
            return self.d.vendor_ids[text.lower()]
        except KeyError:
            raise ValueError(f"unknown vendor {text!r}") from None

    def _vendor(self, words: list[str]) -> None:
        name, vid = words[1], int(words[2], 0)
        for opt in words[3:]:
            if opt.startswith("format="):
                fmt = _vendor_format(name, opt.split("=", 1)[1])
                if fmt != (1, 1):
                    self.d.vendor_formats[vid] = fmt
        self.d.vendors[vid] = name
        self.d.vendor_ids[name.lower()] = vid

    def _attribute(self, words: list[str]) -> None:
        name, number, type_text = words[1], words[2], words[3]
        flags = words[4] if len(words) > 4 else ""
        vendor = self.vendor
        if len(words) > 4 and not any(c in flags for c in "=,") and flags in self.d.vendor_ids:
            vendor, flags = self.d.vendor_ids[flags], ""  # old style: ATTRIBUTE name num type Vendor
        path = tuple(int(p, 0) for p in number.split("."))
        if self.tlv_stack:
            path = self.tlv_stack[-1] + path
        elif self.parent:
            path = self.parent + path  # extended VSA: path under the parent container
        encrypt, has_tag, concat = 0, False, False
        for flag in filter(None, flags.split(",")):
            if flag.startswith("encrypt="):
                encrypt = int(flag.split("=", 1)[1])
            elif flag == "has_tag":
                has_tag = True
            elif flag == "concat":
                concat = True
        self.d.add(AttributeDef(name, vendor, path, parse_type(type_text), encrypt, has_tag, concat))

    def _value(self, words: list[str]) -> None:
        attr = self._lookup(words[1])
        label, number = words[2], int(words[3], 0)
        attr.values[label] = number
        attr.names.setdefault(number, label)

    def _include(self, name: str, source: str) -> None:
        path = (self.base / name) if not os.path.isabs(name) else Path(name)
        saved = (self.vendor, self.parent)
        self.load_text(path.read_text(encoding="utf-8", errors="replace"), str(path))
        self.vendor, self.parent = saved


def _vendor_format(name: str, text: str) -> tuple[int, int]:
    parts = text.split(",")
    fmt = (int(parts[0]), int(parts[1]))
    if fmt[0] not in (1, 2, 4) or fmt[1] not in (0, 1, 2) or (fmt[1] == 0 and fmt[0] != 4):
        raise ValueError(f"vendor {name}: format={text} is not one RADIUS allows")
    return fmt


BUILTIN_FILES = (
    "rfc2865", "rfc2866", "rfc2867", "rfc2868", "rfc2869", "rfc3162", "rfc3576", "rfc4372", "rfc4675",
    "rfc5090", "rfc5176", "rfc5580", "rfc5997", "rfc6929", "rfc7268", "microsoft", "wfa", "wba",
)


def load_builtin(extra: Iterable[str | os.PathLike[str]] = ()) -> Dictionary:
    """The shipped dictionaries (RFC attributes we use, Microsoft, WFA Hotspot 2.0, WBA) plus ``extra``."""
    d = Dictionary()
    pkg = resources.files("tsunagaru.radius") / "dictionaries"
    for name in BUILTIN_FILES:
        text = (pkg / f"dictionary.{name}").read_text(encoding="utf-8")
        d.load_text(text, f"dictionary.{name}")
    for path in extra:
        d.load_file(path)
    return d


_default: Dictionary | None = None


def default_dictionary() -> Dictionary:
    """A process-wide dictionary of the built-in files, loaded once (it is never mutated after)."""
    global _default
    if _default is None:
        _default = load_builtin()
    return _default
