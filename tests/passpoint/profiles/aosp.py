"""A strict reader of ``application/x-wifi-config`` that follows AOSP's rules (ConfigParser, PpsMoParser,
PasspointConfiguration/HomeSp/Credential ``validate()`` at lineage-22.0 ``dc656a7d``, as noted in
/work/shared/profile-specs/android/SOURCE.md), so tests can tell what an Android phone would refuse.

:func:`parse` is ConfigParser + PpsMoParser: it raises :class:`Refused` where AOSP returns null.
:func:`validate` is what ``WifiManager.addOrUpdatePasspointConfiguration`` checks afterwards (R1).
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import pkcs12

WIFI_CONFIG = "application/x-wifi-config"
PART_TYPES = ("application/x-passpoint-profile", "application/x-x509-ca-cert", "application/x-pkcs12")
PPS_URN = "urn:wfa:mo:hotspot2dot0-perprovidersubscription:1.0"


class Refused(Exception):
    """AOSP would not install this (the message says which rule)."""


# -- ConfigParser ---------------------------------------------------------------------------------------

def _headers(lines: io.StringIO) -> dict[str, str]:
    headers: dict[str, str] = {}
    name: str | None = None
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line.strip():
            break
        colon = line.find(":")
        if colon < 0:
            if name is None:
                raise Refused(f"bad header line {line!r}")
            headers[name] += " " + line.strip()
            continue
        if line[0].isspace():
            raise Refused(f"illegal blank prefix in header line {line!r}")
        name = line[:colon].strip()
        headers[name] = line[colon + 1:].strip()
    return headers


def _content_type(value: str) -> tuple[str, str | None]:
    parts = value.split(";")
    boundary = None
    for attr in parts[1:]:
        attr = attr.strip()
        if attr.startswith("boundary="):
            boundary = attr[len("boundary="):].strip('"')
    return parts[0].strip(), boundary


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Refused(f"{what} is not base64: {exc}") from exc


def parse(mime_type: str, data: bytes) -> dict[str, Any]:
    """What ConfigParser.parsePasspointConfig builds: {"pps": ..., "ca": cert, "pkcs12": (key, chain)}."""
    if mime_type != WIFI_CONFIG:
        raise Refused(f"unexpected MIME type {mime_type!r}")
    text = _b64(data.decode("latin-1"), "the body").decode("latin-1")
    lines = io.StringIO(text)
    headers = _headers(lines)
    if "Content-Type" not in headers:
        raise Refused("missing Content-Type")
    kind, boundary = _content_type(headers["Content-Type"])
    if kind != "multipart/mixed":
        raise Refused(f"invalid content type {kind!r}")
    if boundary is None:
        raise Refused("missing boundary")
    if headers.get("Content-Transfer-Encoding") != "base64":
        raise Refused("unexpected encoding")
    for raw in lines:
        if raw.rstrip("\r\n") == f"--{boundary}":
            break
    else:
        raise Refused("EOF before the first boundary")
    parts: dict[str, bytes] = {}
    last = False
    while not last:
        part_headers = _headers(lines)
        if part_headers.get("Content-Transfer-Encoding") != "base64":
            raise Refused("unexpected encoding of a part")
        part_type, _ = _content_type(part_headers.get("Content-Type", ""))
        if part_type not in PART_TYPES:
            raise Refused(f"unexpected content type {part_type!r}")
        body: list[str] = []
        for raw in lines:
            line = raw.rstrip("\r\n")
            if line in (f"--{boundary}", f"--{boundary}--"):
                last = line.endswith("--")
                break
            body.append(line)
        else:
            raise Refused("unexpected EOF: no closing boundary")
        parts[part_type] = _b64("\n".join(body), f"the {part_type} part")
    if "application/x-passpoint-profile" not in parts:
        raise Refused("missing Passpoint profile")
    pps = parse_pps(parts["application/x-passpoint-profile"].decode("utf-8"))
    if "Credential" not in pps:
        raise Refused("Passpoint profile missing credential")
    pps.pop("UpdateIdentifier", None)  # ConfigParser resets it: R2 profiles cannot come this way
    out: dict[str, Any] = {"pps": pps}
    if "application/x-x509-ca-cert" in parts:
        raw_ca = parts["application/x-x509-ca-cert"]
        try:
            out["ca"] = (x509.load_pem_x509_certificate(raw_ca) if raw_ca.lstrip().startswith(b"-----")
                         else x509.load_der_x509_certificate(raw_ca))
        except ValueError as exc:
            raise Refused(f"bad CA certificate: {exc}") from exc
    if "application/x-pkcs12" in parts:
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(parts["application/x-pkcs12"], b"")
        except ValueError as exc:
            raise Refused(f"PKCS#12 does not open with an empty password: {exc}") from exc
        out["pkcs12"] = (key, [c for c in (cert, *extra) if c is not None])
    return out


# -- PpsMoParser ----------------------------------------------------------------------------------------

@dataclass
class Node:
    name: str
    value: str | None = None
    children: list[Node] = field(default_factory=list)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _text(element: ET.Element) -> str:
    return (element.text or "").strip()


def _build(element: ET.Element) -> Node:
    name: str | None = None
    value: str | None = None
    children: list[Node] = []
    for child in element:
        tag = _local(child.tag)
        if tag == "NodeName":
            if name is not None:
                raise Refused("duplicate NodeName")
            name = _text(child)
        elif tag == "Node":
            node = _build(child)
            if any(c.name == node.name for c in children):
                raise Refused(f"duplicate node {node.name}")
            children.append(node)
        elif tag == "Value":
            if value is not None:
                raise Refused("duplicate Value")
            value = _text(child)
        else:
            raise Refused(f"unknown tag {tag}")
    if name is None:
        raise Refused("invalid node: missing NodeName")
    if value is None and not children:
        raise Refused(f"invalid node {name}: neither value nor children")
    if value is not None and children:
        raise Refused(f"invalid node {name}: both value and children")
    return Node(name, value, children)


def _leaf(node: Node) -> str:
    if node.value is None:
        raise Refused(f"cannot get a value from the non-leaf node {node.name}")
    return node.value


def _inner(node: Node) -> list[Node]:
    if node.value is not None:
        raise Refused(f"leaf node not expected for {node.name}")
    return node.children


def _int(text: str) -> int:
    if not re.fullmatch(r"[+-]?\d+", text) or not -2**31 <= int(text) < 2**31:
        raise Refused(f"invalid integer {text!r}")
    return int(text)


def _long(text: str, base: int = 10) -> int:
    digits = r"[0-9A-Fa-f]+" if base == 16 else r"\d+"
    if not re.fullmatch(rf"[+-]?{digits}", text) or not -2**63 <= int(text, base) < 2**63:
        raise Refused(f"invalid long {text!r}")
    return int(text, base)


def _date(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError as exc:
        raise Refused(f"badly formatted time {text!r}") from exc


def _hex(text: str) -> bytes:
    if len(text) % 2:
        raise Refused(f"odd-length hex {text!r}")
    try:
        return bytes.fromhex(text)
    except ValueError as exc:
        raise Refused(f"invalid hex {text!r}") from exc


def _bool(text: str) -> bool:
    return text.lower() == "true"  # Java Boolean.parseBoolean


# Each table maps a child name to how AOSP reads it; a name not in the table is "Unknown node" (refused),
# except in the Extension tables, where AOSP only logs unknown names.
Reader = Any


def _fields(node: Node, table: dict[str, Reader], *, lenient: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for child in _inner(node):
        reader = table.get(child.name)
        if reader is None:
            if lenient:
                continue
            raise Refused(f"unknown node under {node.name}: {child.name}")
        out[child.name] = reader(child)
    return out


def _value(fn: Any) -> Reader:
    return lambda node: fn(_leaf(node))


def _instances(reader: Reader) -> Reader:
    return lambda node: [reader(child) for child in _inner(node)]


def _requiring(table: dict[str, Reader], *names: str) -> Reader:
    def read(node: Node) -> dict[str, Any]:
        got = _fields(node, table)
        for name in names:
            if name not in got:
                raise Refused(f"{node.name} instance missing {name}")
        return got
    return read


def _rcois(text: str) -> list[int]:
    return [_long(part, 16) for part in text.split(",")]


def _trusted_names(node: Node) -> list[str]:
    got = _requiring({"FQDN": _value(str)}, "FQDN")(node)
    return str(got["FQDN"]).split(";")


def _decorated(text: str) -> str:
    if not text or not text.endswith("!"):
        raise Refused("invalid DecoratedPrefix")
    return text


def _fqdn_match(text: str) -> tuple[str, bool]:
    parts = text.split(",")
    if len(parts) != 2 or parts[1] not in ("exactMatch", "includeSubdomains"):
        raise Refused(f"invalid FQDN_Match {text!r}")
    return parts[0], parts[1] == "exactMatch"


def _backhaul(node: Node) -> dict[str, Any]:
    got = _fields(node, {"NetworkType": _value(str), "DLBandwidth": _value(_long), "ULBandwidth": _value(_long)})
    if got.get("NetworkType") not in ("home", "roaming"):
        raise Refused(f"invalid network type {got.get('NetworkType')!r}")
    return got


_STR, _INT, _DATE = _value(str), _value(_int), _value(_date)
TRUST_ROOT = {"CertURL": _STR, "CertSHA256Fingerprint": _value(_hex)}
UPDATE = {"UpdateMethod": _STR, "TrustRoot": lambda n: _fields(n, TRUST_ROOT), "URI": _STR,
          "Other": lambda n: None, "Restriction": _STR, "UpdateInterval": _value(_long),
          "UsernamePassword": lambda n: _fields(n, {"Username": _STR, "Password": _STR})}
HOMESP = {
    "HomeOIList": _instances(_requiring({"HomeOI": _value(lambda t: _long(t, 16)), "HomeOIRequired": _value(_bool)},
                                        "HomeOI", "HomeOIRequired")),
    "IconURL": _STR,
    "NetworkID": _instances(_requiring({"SSID": _STR, "HESSID": _value(lambda t: _long(t, 16))}, "SSID")),
    "FQDN": _STR, "RoamingConsortiumOI": _value(_rcois), "FriendlyName": _STR,
    "OtherHomePartners": _instances(_requiring({"FQDN": _STR}, "FQDN")),
}
EAP_METHOD = {"EAPType": _INT, "InnerMethod": _STR, **{n: (lambda _n: None) for n in
              ("VendorId", "VendorType", "InnerEAPType", "InnerVendorID", "InnerVendorType")}}
CREDENTIAL = {
    "ExpirationDate": _DATE, "CreationDate": _DATE, "Realm": _STR, "CheckAAAServerCertStatus": _value(_bool),
    "DigitalCertificate": lambda n: _fields(n, {"CertificateType": _STR, "CertSHA256Fingerprint": _value(_hex)}),
    "SIM": lambda n: _fields(n, {"EAPType": _INT, "IMSI": _STR}),
    "UsernamePassword": lambda n: _fields(n, {
        "Username": _STR, "AbleToShare": _value(_bool), "MachineManaged": _value(_bool), "Password": _STR,
        "SoftTokenApp": _STR, "EAPMethod": lambda m: _fields(m, EAP_METHOD)}),
}
POLICY = {
    "PolicyUpdate": lambda n: _fields(n, UPDATE), "MinBackhaulThreshold": _instances(_backhaul),
    "MaximumBSSLoadValue": _INT, "SPExclusionList": _instances(lambda n: _fields(n, {"SSID": _STR})),
    "RequiredProtoPortTuple": _instances(_requiring({"IPProtocol": _INT, "PortNumber": _STR},
                                                    "IPProtocol", "PortNumber")),
    "PreferredRoamingPartnerList": _instances(lambda n: _fields(n, {
        "Country": _STR, "Priority": _INT, "FQDN_Match": _value(_fqdn_match)})),
}
SUBSCRIPTION = {
    "UsageLimits": lambda n: _fields(n, {"StartDate": _DATE, "UsageTimePeriod": _value(_long),
                                         "DataLimit": _value(_long), "TimeLimit": _value(_long)}),
    "ExpirationDate": _DATE, "TypeOfSubscription": _STR, "CreationDate": _DATE,
}
EXTENSION = {
    "Android": lambda n: _fields(n, {"AAAServerTrustedNames": _trusted_names}, lenient=True),
    "WBA": lambda n: _fields(n, {"NAI": lambda m: _fields(m, {"DecoratedPrefix": _value(_decorated)},
                                                           lenient=True)}, lenient=True),
}
INSTANCE = {
    "HomeSP": lambda n: _fields(n, HOMESP), "Policy": lambda n: _fields(n, POLICY),
    "SubscriptionUpdate": lambda n: _fields(n, UPDATE),
    "AAAServerTrustRoot": _instances(lambda n: _fields(n, TRUST_ROOT)),
    "SubscriptionParameters": lambda n: _fields(n, SUBSCRIPTION), "Credential": lambda n: _fields(n, CREDENTIAL),
    "Extension": lambda n: _fields(n, EXTENSION, lenient=True), "CredentialPriority": _INT,
}


def parse_pps(text: str) -> dict[str, Any]:
    """PpsMoParser.parseMoText: the PPS instance's fields (plus UpdateIdentifier), or Refused."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise Refused(f"failed to parse XML input: {exc}") from exc
    if _local(root.tag) != "MgmtTree":
        raise Refused("root is not a MgmtTree")
    pps: dict[str, Any] | None = None
    seen_dtd = False
    for child in root:
        tag = _local(child.tag)
        if tag == "VerDTD":
            if seen_dtd:
                raise Refused("duplicate VerDTD")
            seen_dtd = True
        elif tag == "Node":
            if pps is not None:
                raise Refused("multiple Node elements under MgmtTree")
            pps = _pps_node(child)
        else:
            raise Refused(f"unknown node {tag}")
    if pps is None:
        raise Refused("no PPS node")
    return pps


def _pps_node(element: ET.Element) -> dict[str, Any]:
    name: str | None = None
    config: dict[str, Any] | None = None
    update: int | None = None
    for child in element:
        tag = _local(child.tag)
        if tag == "RTProperties":
            types = list(child)
            if len(types) != 1 or _local(types[0].tag) != "Type" or len(list(types[0])) != 1:
                raise Refused("RTProperties must hold one Type with one DDFName")
            ddf = next(iter(types[0]))
            if _local(ddf.tag) != "DDFName" or list(ddf) or _text(ddf) != PPS_URN:
                raise Refused(f"unknown URN {_text(ddf)!r}")
        elif tag == "Node":
            node = _build(child)
            if node.name == "UpdateIdentifier":
                if update is not None:
                    raise Refused("multiple UpdateIdentifier nodes")
                update = _int(_leaf(node))
            elif config is None:
                config = _fields(node, INSTANCE)
            else:
                raise Refused("multiple PPS instances")
        elif tag == "NodeName":
            if name is not None:
                raise Refused("duplicate NodeName")
            name = _text(child)
            if name != "PerProviderSubscription":
                raise Refused(f"unexpected NodeName {name!r}")
        else:
            raise Refused(f"unknown tag under the PPS node: {tag}")
    if config is None:
        raise Refused("no PPS instance")
    if update is not None:
        config["UpdateIdentifier"] = update
    return config


# -- validate() (R1) ------------------------------------------------------------------------------------

def _bytes(text: str) -> int:
    return len(text.encode("utf-8"))


def validate(parsed: dict[str, Any]) -> None:
    """PasspointConfiguration.validate() for an R1 profile with its certificates; Refused on failure."""
    pps = parsed["pps"]
    home, cred = pps.get("HomeSP"), pps.get("Credential")
    if home is None or cred is None:
        raise Refused("HomeSP and Credential are required")
    for key in ("FQDN", "FriendlyName"):
        if not home.get(key) or _bytes(home[key]) > 255:
            raise Refused(f"HomeSP {key} missing or longer than 255 bytes")
    ois = home.get("RoamingConsortiumOI", [])
    if len(ois) > 36 or any(not 0 <= oi <= 2**40 - 1 for oi in ois):
        raise Refused("RoamingConsortiumOI: more than 36 OIs or an OI longer than 5 octets")
    names = pps.get("Extension", {}).get("Android", {}).get("AAAServerTrustedNames", [])
    if len(names) > 16 or any(_bytes(n) > 255 for n in names):
        raise Refused("AAAServerTrustedNames: more than 16 names or a name longer than 255 bytes")
    if not cred.get("Realm") or _bytes(cred["Realm"]) > 253:
        raise Refused("Credential Realm missing or longer than 253 bytes")
    kinds = [k for k in ("UsernamePassword", "DigitalCertificate", "SIM") if k in cred]
    if len(kinds) != 1:
        raise Refused(f"exactly one credential type is needed, found {kinds}")
    if "ca" not in parsed:
        raise Refused("missing CA certificate (required for R1)")
    if kinds == ["UsernamePassword"]:
        user = cred["UsernamePassword"]
        if not user.get("Username") or _bytes(user["Username"]) > 63:
            raise Refused("Username missing or longer than 63 bytes")
        if not user.get("Password") or _bytes(user["Password"]) > 255:
            raise Refused("Password missing or longer than 255 bytes")
        method = user.get("EAPMethod", {})
        if method.get("EAPType") != 21:
            raise Refused("UsernamePassword needs EAPType 21 (EAP-TTLS)")
        if method.get("InnerMethod") not in ("PAP", "MS-CHAP", "MS-CHAP-V2"):
            raise Refused(f"unsupported InnerMethod {method.get('InnerMethod')!r}")
    elif kinds == ["DigitalCertificate"]:
        cert = cred["DigitalCertificate"]
        if cert.get("CertificateType") != "x509v3" or len(cert.get("CertSHA256Fingerprint", b"")) != 32:
            raise Refused("DigitalCertificate needs CertificateType x509v3 and a 32-byte SHA-256 fingerprint")
        key, chain = parsed.get("pkcs12", (None, []))
        if key is None:
            raise Refused("missing client private key")
        if not any(c.fingerprint(hashes.SHA256()) == cert["CertSHA256Fingerprint"] for c in chain):
            raise Refused("no client certificate matches CertSHA256Fingerprint")
    else:
        sim = cred["SIM"]
        if not re.fullmatch(r"\d{1,15}|\d{0,14}\*", sim.get("IMSI", "")) or sim.get("EAPType") not in (18, 23, 50):
            raise Refused("SIM needs an IMSI (digits, optional trailing *) and EAPType 18, 23 or 50")


def password(parsed: dict[str, Any]) -> str:
    """The password as PasspointProvider uses it: base64-decoded, the raw string when that fails."""
    raw = str(parsed["pps"]["Credential"]["UsernamePassword"]["Password"])
    try:
        return base64.b64decode(raw, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return raw
