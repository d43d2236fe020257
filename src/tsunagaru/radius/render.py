"""A packet as plain JSON-ready data: what operators read in `tsunagaru radius decode` and in logs.

Like ``radclient -x`` or radsniff: attributes by name with decoded values, hidden ones revealed only
when the secret is known, and a verdict for each authenticator. Callers may pass ``redact`` to replace
values (the demo hides identities) before anything is printed.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable
from typing import Any

from tsunagaru.radius.attributes import Attr, Secrets, attr_number, decode_packet
from tsunagaru.radius.auth import ZERO16, message_authenticator, packet_authenticator
from tsunagaru.radius.codes import HASHED_AUTHENTICATOR_REQUESTS, code_name, is_request
from tsunagaru.radius.dictionary import Dictionary
from tsunagaru.radius.packet import MESSAGE_AUTHENTICATOR, Packet

Redactor = Callable[[Attr], Any]


def jsonable(value: Any) -> Any:
    """Bytes as ``0x…`` hex, addresses and networks as text, everything else unchanged."""
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address | ipaddress.IPv4Network
                  | ipaddress.IPv6Network):
        return str(value)
    return value


def _entry(attr: Attr, redact: Redactor | None) -> dict[str, Any]:
    value = redact(attr) if redact else attr.value
    number = attr_number(attr.vendor, attr.path) if attr.path else f"26.{attr.vendor}"
    entry: dict[str, Any] = {"name": attr.name, "id": number, "value": jsonable(value)}
    if attr.tag is not None:
        entry["tag"] = attr.tag
    if attr.error:
        entry["error"] = attr.error
    return entry


def _merge_concat(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """EAP-Message fragments shown as one value (RFC 3579 3.1), with how many attributes carried it."""
    out: list[dict[str, Any]] = []
    for e in entries:
        prev = out[-1] if out else None
        if (prev and e["name"] == "EAP-Message" and prev["name"] == "EAP-Message"
                and isinstance(prev["value"], str) and isinstance(e["value"], str)):
            prev["value"] += e["value"][2:]
            prev["fragments"] = prev.get("fragments", 1) + 1
        else:
            out.append(dict(e))
    return out


def hiding_vector(packet: Packet, request_authenticator: bytes | None) -> bytes | None:
    """The authenticator hidden attributes of ``packet`` were encrypted with, when it is known."""
    if packet.code in HASHED_AUTHENTICATOR_REQUESTS:
        return ZERO16
    if is_request(packet.code):
        return packet.authenticator
    return request_authenticator


def _authenticator_verdict(packet: Packet, secret: bytes | None, request_auth: bytes | None) -> str:
    if is_request(packet.code) and packet.code not in HASHED_AUTHENTICATOR_REQUESTS:
        return "random (request)"
    vector = ZERO16 if is_request(packet.code) else request_auth
    if secret is None or vector is None:
        return "not checked (needs the secret" + ("" if is_request(packet.code) else
                                                   " and --request-authenticator") + ")"
    ok = hmac.compare_digest(packet_authenticator(packet, secret, vector), packet.authenticator)
    return "valid" if ok else "invalid"


def _ma_verdict(packet: Packet, secret: bytes | None, request_auth: bytes | None) -> str:
    values = packet.get_all(MESSAGE_AUTHENTICATOR)
    if not values:
        return "absent"
    if len(values) > 1 or len(values[0]) != 16:
        return "malformed (must appear once with 16 octets)"
    if not is_request(packet.code):
        vector = request_auth
    else:
        vector = ZERO16 if packet.code in HASHED_AUTHENTICATOR_REQUESTS else packet.authenticator
    if secret is None or vector is None:
        return "present, not checked (needs the secret" + ("" if is_request(packet.code) else
                                                           " and --request-authenticator") + ")"
    ok = hmac.compare_digest(message_authenticator(packet, secret, vector), values[0])
    first = packet.attributes[0][0] == MESSAGE_AUTHENTICATOR
    return ("valid" if ok else "invalid") + ("" if first else " (not the first attribute)")


def describe(
    packet: Packet,
    d: Dictionary,
    *,
    secret: bytes | None = None,
    request_authenticator: bytes | None = None,
    redact: Redactor | None = None,
) -> dict[str, Any]:
    """Everything an operator wants to see about one packet, as JSON-ready data."""
    vector = hiding_vector(packet, request_authenticator)
    secrets = Secrets(secret, vector) if secret is not None and vector is not None else None
    attrs = [_entry(a, redact) for a in decode_packet(packet, d, secrets)]
    return {
        "code": code_name(packet.code),
        "code_number": packet.code,
        "identifier": packet.identifier,
        "authenticator": packet.authenticator.hex(),
        "attributes": _merge_concat(attrs),
        "response_authenticator" if not is_request(packet.code) else "request_authenticator":
            _authenticator_verdict(packet, secret, request_authenticator),
        "message_authenticator": _ma_verdict(packet, secret, request_authenticator),
    }
