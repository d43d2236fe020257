"""A small checker for configuration profiles against Apple's payload schemas (apple/device-management
YAML, read from /work/shared/profile-specs/apple at test time).

It applies what the schema language (docs/schema.md) says: allowed keys (a payload's own keys plus
CommonPayloadKeys), ``presence: required``, value types, ``rangelist``, ``format`` (as ``re.search``,
see SOURCE.md caveat 1), array items from the single ``subkeys`` entry, nested dictionaries, and keys
not available on iOS (``introduced: n/a`` or ``removed``). Ours on top: RCOIs are 3-15 octets of hex.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from typing import Any

import yaml

from tests.passpoint.profiles.conftest import SPECS

APPLE = SPECS / "apple"
TYPES: dict[str, tuple[type, ...]] = {
    "<string>": (str,), "<integer>": (int,), "<boolean>": (bool,), "<real>": (int, float), "<data>": (bytes,),
    "<date>": (datetime,), "<array>": (list,), "<dictionary>": (dict,),
}


@cache
def schema(name: str) -> dict[str, Any]:
    path = APPLE / f"{name}.yaml"
    assert path.exists(), f"no Apple schema {path}"
    loaded: dict[str, Any] = yaml.safe_load(path.read_text())
    return loaded


def _type_ok(value: object, kind: str) -> bool:
    if kind == "<any>":
        return True
    if kind not in TYPES:
        raise AssertionError(f"schema type {kind} unknown to the checker")
    if kind in ("<integer>", "<real>") and isinstance(value, bool):
        return False
    return isinstance(value, TYPES[kind])


def _not_on_ios(spec: dict[str, Any]) -> bool:
    ios = (spec.get("supportedOS") or {}).get("iOS") or {}
    return ios.get("introduced") == "n/a" or "removed" in ios


def check_value(value: object, spec: dict[str, Any], where: str, errors: list[str]) -> None:
    kind = spec.get("type", "<any>")
    if not _type_ok(value, kind):
        errors.append(f"{where}: {type(value).__name__} where the schema says {kind}")
        return
    if "rangelist" in spec and value not in spec["rangelist"]:
        errors.append(f"{where}: {value!r} is not one of {spec['rangelist']}")
    if "format" in spec and isinstance(value, str) and not re.search(spec["format"], value):
        errors.append(f"{where}: {value!r} does not match {spec['format']}")
    rng = spec.get("range")
    if rng and isinstance(value, int | float) and not rng.get("min", value) <= value <= rng.get("max", value):
        errors.append(f"{where}: {value} is out of range {rng}")
    subkeys = spec.get("subkeys")
    if isinstance(value, list) and subkeys:
        assert len(subkeys) == 1, f"{where}: array schema with {len(subkeys)} item specs"
        for i, item in enumerate(value):
            check_value(item, subkeys[0], f"{where}[{i}]", errors)
    elif isinstance(value, dict) and subkeys:
        check_keys(value, subkeys, where, errors)


def check_keys(payload: dict[str, Any], specs: list[dict[str, Any]], where: str, errors: list[str]) -> None:
    by_name = {spec["key"]: spec for spec in specs}
    if "ANY" in by_name:
        return
    for key, value in payload.items():
        spec = by_name.get(key)
        if spec is None:
            errors.append(f"{where}: key {key!r} is not in Apple's schema")
            continue
        if _not_on_ios(spec):
            errors.append(f"{where}.{key}: not available on iOS")
        check_value(value, spec, f"{where}.{key}", errors)
    for spec in specs:
        if spec.get("presence") == "required" and spec["key"] not in payload:
            errors.append(f"{where}: required key {spec['key']!r} is missing")


def check_profile(profile: dict[str, Any]) -> list[str]:
    """Every problem found in a decoded ``.mobileconfig`` (empty when it conforms)."""
    errors: list[str] = []
    check_keys(profile, schema("TopLevel")["payloadkeys"], "profile", errors)
    common = schema("CommonPayloadKeys")["payloadkeys"]
    for i, payload in enumerate(profile.get("PayloadContent", [])):
        kind = payload.get("PayloadType", "")
        if not (APPLE / f"{kind}.yaml").exists():
            errors.append(f"payload {i}: no Apple schema for PayloadType {kind!r}")
            continue
        own = schema(kind)["payloadkeys"]
        own_names = {spec["key"] for spec in own}
        check_keys(payload, own + [spec for spec in common if spec["key"] not in own_names], f"{kind}[{i}]", errors)
        for oi in payload.get("RoamingConsortiumOIs", []):
            if not re.fullmatch(r"(?:[0-9A-Fa-f]{2}){3,15}", oi):
                errors.append(f"{kind}[{i}]: RCOI {oi!r} is not 3-15 octets of hex")
    return errors
