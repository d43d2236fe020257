"""Android Passpoint R1 profiles: ``application/x-wifi-config`` (what the browser hands to the Wi-Fi
installer), the format AOSP's ``ConfigParser`` and ``PpsMoParser`` read.

The body is base64 of a MIME multipart holding the PPS MO (SyncML DDF 1.2 XML), the EAP server CA
(one: AOSP's install path keeps a single CA certificate per profile) and, for EAP-TLS, the client
key and chain as a PKCS#12 without a password. AOSP rejects the whole profile for one unknown node
under HomeSP or Credential, so only nodes its parser knows are written; the password is base64, dates
are ``yyyy-MM-ddTHH:mm:ssZ``, and the server names go to ``Extension/Android/AAAServerTrustedNames``.
Android Passpoint takes EAP-TTLS (PAP, MS-CHAP-V2) and EAP-TLS only: PEAP is refused here.
The XML is written with ElementTree and the MIME text by hand, because AOSP's reader is stricter
than the email package's writer (exact header names, ``--boundary--`` last, base64 everywhere).
"""

from __future__ import annotations

import base64
import hashlib
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from tsunagaru.passpoint.profiles.model import (
    CertificateCredential,
    DeviceCredential,
    EapMethod,
    InnerMethod,
    PasswordCredential,
    Profile,
    ProfileError,
    ProfileSettings,
    check_credential,
)

CONTENT_TYPE = "application/x-wifi-config"
PPS_URN = "urn:wfa:mo:hotspot2dot0-perprovidersubscription:1.0"
INNER = {InnerMethod.MSCHAPV2: "MS-CHAP-V2", InnerMethod.PAP: "PAP"}
EAP_TTLS = 21


def _node(parent: ET.Element, name: str, value: str | None = None) -> ET.Element:
    node = ET.SubElement(parent, "Node")
    ET.SubElement(node, "NodeName").text = name
    if value is not None:
        ET.SubElement(node, "Value").text = value
    return node


def _date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pps_mo(settings: ProfileSettings, credential: DeviceCredential, *, now: datetime) -> bytes:
    """The PerProviderSubscription MO (UTF-8 XML) for one credential, issued ``now``."""
    check_credential(settings, credential)
    if credential.method is EapMethod.PEAP:
        raise ProfileError("Android Passpoint profiles take EAP-TTLS or EAP-TLS, not PEAP")
    tree = ET.Element("MgmtTree", {"xmlns": "syncml:dmddf1.2"})
    ET.SubElement(tree, "VerDTD").text = "1.2"
    pps = ET.SubElement(tree, "Node")
    ET.SubElement(pps, "NodeName").text = "PerProviderSubscription"
    ET.SubElement(ET.SubElement(ET.SubElement(pps, "RTProperties"), "Type"), "DDFName").text = PPS_URN
    instance = _node(pps, "i001")
    home = _node(instance, "HomeSP")
    _node(home, "FriendlyName", settings.friendly_name)
    _node(home, "FQDN", settings.home_fqdn)
    _node(home, "RoamingConsortiumOI", ",".join(settings.rcois).lower())
    cred = _node(instance, "Credential")
    _node(cred, "CreationDate", _date(now))
    if credential.expires_at is not None:
        _node(cred, "ExpirationDate", _date(credential.expires_at))
    _node(cred, "Realm", settings.realm)
    if isinstance(credential, PasswordCredential):
        user = _node(cred, "UsernamePassword")
        _node(user, "Username", credential.username)
        _node(user, "Password", base64.b64encode(credential.password.encode()).decode())
        _node(user, "MachineManaged", "true")
        eap = _node(user, "EAPMethod")
        _node(eap, "EAPType", str(EAP_TTLS))
        _node(eap, "InnerMethod", INNER[credential.inner])
    else:
        cert = _node(cred, "DigitalCertificate")
        _node(cert, "CertificateType", "x509v3")
        _node(cert, "CertSHA256Fingerprint", credential.certificate.fingerprint(hashes.SHA256()).hex())
    android = _node(_node(instance, "Extension"), "Android")
    _node(_node(android, "AAAServerTrustedNames"), "FQDN", ";".join(settings.server_names))
    ET.indent(tree)
    return bytes(ET.tostring(tree, encoding="utf-8", xml_declaration=False)) + b"\n"


def _b64_lines(data: bytes) -> str:
    encoded = base64.b64encode(data).decode()
    return "\n".join(encoded[i:i + 76] for i in range(0, len(encoded), 76))


def client_pkcs12(credential: CertificateCredential) -> bytes:
    """Key, certificate and issuing chain as PKCS#12 without a password (Android loads it with an empty one)."""
    return pkcs12.serialize_key_and_certificates(credential.username.encode(), credential.key, credential.certificate,
                                                 list(credential.chain) or None, serialization.NoEncryption())


def build(settings: ProfileSettings, credential: DeviceCredential, *, now: datetime) -> Profile:
    """The ``application/x-wifi-config`` body (base64 text) for one device credential.

    The CA part is ``settings.ca_certificates[0]``: Android keeps one CA per profile, so during a CA
    rotation put first the CA the EAP server's certificate currently chains to (see docs/profiles.md).
    """
    profile = pps_mo(settings, credential, now=now)
    parts = [("application/x-passpoint-profile; charset=UTF-8", profile),
             ("application/x-x509-ca-cert", settings.ca_certificates[0].public_bytes(serialization.Encoding.DER))]
    if isinstance(credential, CertificateCredential):
        parts.append(("application/x-pkcs12", client_pkcs12(credential)))
    boundary = "tsunagaru-" + hashlib.sha256(b"".join(data for _, data in parts)).hexdigest()[:24]
    lines = ["MIME-Version: 1.0", f"Content-Type: multipart/mixed; boundary={boundary}",
             "Content-Transfer-Encoding: base64", ""]
    for content_type, data in parts:
        lines += [f"--{boundary}", f"Content-Type: {content_type}", "Content-Transfer-Encoding: base64", "",
                  _b64_lines(data)]
    lines += [f"--{boundary}--", ""]
    body = base64.encodebytes("\n".join(lines).encode("ascii"))
    return Profile(CONTENT_TYPE, "openroaming.config", body)
