"""Apple configuration profiles (``.mobileconfig``) for iOS, iPadOS and macOS, CMS-signed.

One Wi-Fi payload (``com.apple.wifi.managed``) with the Hotspot 2.0 keys, one root-certificate payload
per trusted EAP server CA (named by ``PayloadCertificateAnchorUUID``, so the device trusts exactly
these CAs and asks nothing), and for EAP-TLS one PKCS#12 identity payload. Username profiles use
TTLS with MSCHAPv2 inside (the inner method Apple devices handle everywhere) or PEAP; the server
is pinned by name (``TLSTrustedServerNames``), never by certificate. UUIDs are derived from the
inputs, so the same device credential always gives the same payload identities (a re-download
replaces the installed profile instead of adding a second one). plistlib writes the XML; the
signature is CMS SignedData from cryptography's PKCS#7 builder (opaque, not detached, DER).
"""

from __future__ import annotations

import hashlib
import plistlib
import uuid
from datetime import UTC

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12

from tsunagaru.passpoint.profiles.model import (
    CertificateCredential,
    DeviceCredential,
    EapMethod,
    PasswordCredential,
    Profile,
    ProfileSettings,
    SigningIdentity,
    check_credential,
)

CONTENT_TYPE = "application/x-apple-aspen-config"
EAP_TYPES = {EapMethod.TLS: 13, EapMethod.TTLS: 21, EapMethod.PEAP: 25}


def _uuid(settings: ProfileSettings, credential: DeviceCredential, kind: str) -> str:
    namespace = uuid.uuid5(uuid.NAMESPACE_DNS, settings.identifier)
    return str(uuid.uuid5(namespace, f"{kind}\x00{settings.realm}\x00{credential.username}")).upper()


def _tag(credential: DeviceCredential) -> str:
    """A short stable tag of the device credential for payload identifiers (not the username itself)."""
    return hashlib.sha256(credential.username.encode()).hexdigest()[:12]


def _ca_payloads(settings: ProfileSettings, credential: DeviceCredential) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    stem = f"{settings.identifier}.{_tag(credential)}"
    for ca in settings.ca_certificates:
        fingerprint = ca.fingerprint(hashes.SHA256()).hex()[:16]
        out.append({
            "PayloadType": "com.apple.security.root",
            "PayloadVersion": 1,
            "PayloadIdentifier": f"{stem}.ca.{fingerprint}",
            "PayloadUUID": _uuid(settings, credential, f"ca:{fingerprint}"),
            "PayloadDisplayName": ca.subject.rfc4514_string()[:200],
            "PayloadCertificateFileName": f"ca-{fingerprint}.cer",
            "PayloadContent": ca.public_bytes(serialization.Encoding.DER),
        })
    return out


def _identity_payload(settings: ProfileSettings, credential: CertificateCredential,
                      password: str) -> dict[str, object]:
    # Apple devices read PKCS#12 protected with the classic PBE (3DES, SHA-1 MAC); a password is needed.
    encryption = (serialization.PrivateFormat.PKCS12.encryption_builder()
                  .kdf_rounds(50000)
                  .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
                  .hmac_hash(hashes.SHA1())
                  .build(password.encode()))
    data = pkcs12.serialize_key_and_certificates(credential.username.encode(), credential.key,
                                                 credential.certificate, list(credential.chain) or None, encryption)
    return {
        "PayloadType": "com.apple.security.pkcs12",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"{settings.identifier}.{_tag(credential)}.identity",
        "PayloadUUID": _uuid(settings, credential, "identity"),
        "PayloadDisplayName": credential.username,
        "PayloadCertificateFileName": "device.p12",
        "PayloadContent": data,
        "Password": password,
    }


def _eap(settings: ProfileSettings, credential: DeviceCredential, anchors: list[str]) -> dict[str, object]:
    eap: dict[str, object] = {
        "AcceptEAPTypes": [EAP_TYPES[credential.method]],
        "UserName": credential.username,
        "TLSTrustedServerNames": list(settings.server_names),
        "PayloadCertificateAnchorUUID": anchors,
        "TLSMinimumVersion": settings.tls_min,
        "TLSMaximumVersion": settings.tls_max,
    }
    if isinstance(credential, PasswordCredential):
        eap["UserPassword"] = credential.password
        eap["OuterIdentity"] = settings.anonymous_identity
        if credential.method is EapMethod.TTLS:
            eap["TTLSInnerAuthentication"] = credential.inner.value
    else:
        eap["TLSCertificateIsRequired"] = True
        if settings.tls_min == "1.3":  # Apple requires an outer identity with TLS 1.3 only
            eap["OuterIdentity"] = settings.anonymous_identity
    return eap


def build_plist(
    settings: ProfileSettings,
    credential: DeviceCredential,
    *,
    p12_password: str = "",
    description: str = "",
) -> dict[str, object]:
    """The profile as a dictionary (before plist encoding and signing); see :func:`build`."""
    check_credential(settings, credential)
    stem = f"{settings.identifier}.{_tag(credential)}"
    cas = _ca_payloads(settings, credential)
    wifi: dict[str, object] = {
        "PayloadType": "com.apple.wifi.managed",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"{stem}.wifi",
        "PayloadUUID": _uuid(settings, credential, "wifi"),
        "PayloadDisplayName": settings.friendly_name,
        "AutoJoin": True,
        "CaptiveBypass": False,
        "EncryptionType": "WPA2",  # WPA2 or WPA3 since iOS 16 / macOS 13
        "HIDDEN_NETWORK": False,
        "ProxyType": "None",
        "IsHotspot": True,
        "ServiceProviderRoamingEnabled": True,
        "DomainName": settings.home_fqdn,
        "DisplayedOperatorName": settings.friendly_name,
        "RoamingConsortiumOIs": list(settings.rcois),
        "NAIRealmNames": [settings.realm],
        "EAPClientConfiguration": _eap(settings, credential, [str(p["PayloadUUID"]) for p in cas]),
    }
    content: list[dict[str, object]] = [wifi, *cas]
    if isinstance(credential, CertificateCredential):
        if not p12_password:
            raise ValueError("an EAP-TLS profile needs a PKCS#12 password (Apple will not import without one)")
        identity = _identity_payload(settings, credential, p12_password)
        wifi["PayloadCertificateUUID"] = identity["PayloadUUID"]
        content.append(identity)
    top: dict[str, object] = {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": stem,
        "PayloadUUID": _uuid(settings, credential, "profile"),
        "PayloadDisplayName": settings.friendly_name,
        "PayloadOrganization": settings.organisation,
        "PayloadDescription": description or f"OpenRoaming Wi-Fi ({settings.realm})",
        "PayloadRemovalDisallowed": False,
        "PayloadContent": content,
    }
    if credential.expires_at is not None:
        # plistlib writes naive datetimes as UTC (<date>...Z</date>)
        top["RemovalDate"] = credential.expires_at.astimezone(UTC).replace(tzinfo=None, microsecond=0)
    return top


def sign(data: bytes, signer: SigningIdentity) -> bytes:
    """CMS SignedData (DER) holding ``data`` itself, signed with SHA-256, the signer's chain included."""
    builder = pkcs7.PKCS7SignatureBuilder().set_data(data).add_signer(signer.certificate, signer.key, hashes.SHA256())
    for cert in signer.chain:
        builder = builder.add_certificate(cert)
    return builder.sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])


def build(
    settings: ProfileSettings,
    credential: DeviceCredential,
    signer: SigningIdentity | None,
    *,
    p12_password: str = "",
    description: str = "",
) -> Profile:
    """The ``.mobileconfig``: signed when ``signer`` is given (what the portal serves), else plain XML.

    ``p12_password`` protects the PKCS#12 in EAP-TLS profiles (it travels inside the same profile;
    Apple refuses an unprotected one).
    """
    plist = build_plist(settings, credential, p12_password=p12_password, description=description)
    body = plistlib.dumps(plist, fmt=plistlib.FMT_XML, sort_keys=False)
    if signer is not None:
        body = sign(body, signer)
    return Profile(CONTENT_TYPE, "openroaming.mobileconfig", body)
