"""Turn each built profile back into what its device would do, as an eapol_test network block.

A phone cannot run in a test, but its profile's contents can: these read the profile the way the
platform does (the plist's EAP dictionary and anchor payloads, AOSP's parsed PPS MO and its parts,
Windows' EapTtls settings, wpa_supplicant's own block) and write the equivalent wpa_supplicant
network, so eapol_test logs in with exactly what the profile says — trust anchors and pinned server
names included — and nothing else.
"""

from __future__ import annotations

import plistlib
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from lxml import etree

from tests.passpoint.profiles import aosp
from tsunagaru.passpoint.profiles import windows

EAP_NAMES = {13: "TLS", 21: "TTLS", 25: "PEAP"}
APPLE_INNER = {"MSCHAPv2": "auth=MSCHAPV2", "PAP": "auth=PAP"}
ANDROID_INNER = {"MS-CHAP-V2": "auth=MSCHAPV2", "PAP": "auth=PAP"}


def _q(text: str) -> str:
    assert '"' not in text and "\n" not in text
    return f'"{text}"'


def _phase1(tls_min: str, tls_max: str) -> str:
    flags = ["tls_disable_tlsv1_0=1", "tls_disable_tlsv1_1=1", f"tls_disable_tlsv1_2={int(tls_min == '1.3')}",
             f"tls_disable_tlsv1_3={int(tls_max == '1.2')}"]
    return " ".join(flags)


def _write_pem(folder: Path, name: str, certs: list[x509.Certificate]) -> Path:
    path = folder / name
    path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs))
    return path


def from_apple(body: bytes, folder: Path) -> str:
    """An unsigned .mobileconfig (or the content openssl cms -verify wrote out) as a network block."""
    profile: dict[str, Any] = plistlib.loads(body)
    payloads = {p["PayloadUUID"]: p for p in profile["PayloadContent"]}
    (wifi,) = [p for p in payloads.values() if p["PayloadType"] == "com.apple.wifi.managed"]
    eap = wifi["EAPClientConfiguration"]
    anchors = [x509.load_der_x509_certificate(payloads[uuid]["PayloadContent"])
               for uuid in eap["PayloadCertificateAnchorUUID"]]
    (method,) = eap["AcceptEAPTypes"]
    lines = ["key_mgmt=IEEE8021X", "eapol_flags=0", f"eap={EAP_NAMES[method]}", f"identity={_q(eap['UserName'])}",
             f"ca_cert={_q(str(_write_pem(folder, 'apple-anchors.pem', anchors)))}",
             f"domain_match={_q(';'.join(eap['TLSTrustedServerNames']))}",
             f"phase1={_q(_phase1(eap['TLSMinimumVersion'], eap['TLSMaximumVersion']))}"]
    if "OuterIdentity" in eap:
        lines.append(f"anonymous_identity={_q(eap['OuterIdentity'])}")
    if method == 13:
        identity = payloads[wifi["PayloadCertificateUUID"]]
        p12 = folder / "apple-identity.p12"
        p12.write_bytes(identity["PayloadContent"])
        lines += [f"private_key={_q(str(p12))}", f"private_key_passwd={_q(identity['Password'])}"]
    else:
        lines.append(f"password={_q(eap['UserPassword'])}")
        lines.append(f"phase2={_q(APPLE_INNER[eap.get('TTLSInnerAuthentication', 'MSCHAPv2')])}")
    return "\n".join(lines)


def from_android(body: bytes, folder: Path) -> str:
    """An x-wifi-config as AOSP's PasspointProvider turns it into a WifiEnterpriseConfig."""
    parsed = aosp.parse(aosp.WIFI_CONFIG, body)
    aosp.validate(parsed)
    pps = parsed["pps"]
    cred = pps["Credential"]
    names = pps["Extension"]["Android"]["AAAServerTrustedNames"]
    ca = _write_pem(folder, "android-ca.pem", [parsed["ca"]])
    lines = ["key_mgmt=IEEE8021X", "eapol_flags=0", f"ca_cert={_q(str(ca))}",
             f"domain_suffix_match={_q(';'.join(names))}"]
    if "UsernamePassword" in cred:
        user = cred["UsernamePassword"]
        lines += ["eap=TTLS", f"identity={_q(user['Username'])}", f"password={_q(aosp.password(parsed))}",
                  f"anonymous_identity={_q('anonymous@' + cred['Realm'])}",
                  f"phase2={_q(ANDROID_INNER[user['EAPMethod']['InnerMethod']])}"]
    else:
        key, chain = parsed["pkcs12"]
        p12 = folder / "android-client.p12"
        p12.write_bytes(pkcs12.serialize_key_and_certificates(b"c", key, chain[0], chain[1:] or None,
                                                              serialization.BestAvailableEncryption(b"x")))
        cn = chain[0].subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
        lines += ["eap=TLS", f"identity={_q(str(cn))}", f"private_key={_q(str(p12))}", 'private_key_passwd="x"']
    return "\n".join(lines)


def from_windows(body: bytes, folder: Path, machine_roots: list[x509.Certificate]) -> str:
    """A CarrierProvisioning file; ``machine_roots`` stands for the CAs in the Windows root store
    (TrustedRootCAHash picks among them by SHA-1 thumbprint)."""
    root = etree.fromstring(body)
    ttls = root.find(f".//{{{windows.NS_TTLS}}}EapTtls")
    user = root.find(f".//{{{windows.NS_TTLS_USER}}}EapTtls")
    assert ttls is not None and user is not None
    wanted = {h.text for h in ttls.iter(f"{{{windows.NS_TTLS}}}TrustedRootCAHash")}
    trusted = [c for c in machine_roots if c.fingerprint(hashes.SHA1()).hex() in wanted]
    inner = "auth=MSCHAPV2" if ttls.find(f".//{{{windows.NS_TTLS}}}MSCHAPv2Authentication") is not None else "auth=PAP"
    username, password = (c.text or "" for c in user)
    lines = ["key_mgmt=IEEE8021X", "eapol_flags=0", "eap=TTLS", f"identity={_q(username)}",
             f"password={_q(password)}", f"ca_cert={_q(str(_write_pem(folder, 'windows-roots.pem', trusted)))}",
             f"domain_match={_q(ttls.findtext(f'.//{{{windows.NS_TTLS}}}ServerNames') or '')}",
             f"anonymous_identity={_q(ttls.findtext(f'.//{{{windows.NS_TTLS}}}AnonymousIdentity') or '')}",
             f"phase2={_q(inner)}"]
    return "\n".join(lines)


def inner_block(network: str) -> str:
    """The lines inside a ``network={...}`` block (what tests.eap.eapol.eapol_test takes)."""
    body = network.strip()
    assert body.startswith("network={") and body.endswith("}")
    return "\n".join(line.strip() for line in body[len("network={"):-1].strip().splitlines())
