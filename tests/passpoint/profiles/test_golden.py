"""Golden files: what each builder writes for fixed inputs, kept in tests/passpoint/profiles/golden/ for a
person to read and review (signatures and PKCS#12 are random by design, so the unsigned documents are
compared). ``TSUNAGARU_UPDATE_GOLDEN=1`` rewrites them after an intended change.

The fixed inputs: an EAP CA and a device certificate stored as PEM in golden/ (made once), their keys
derived from fixed numbers (test-only, nothing secret), and a fixed clock.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePath

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from lxml import etree

from tsunagaru.passpoint.profiles import android, apple, windows
from tsunagaru.passpoint.profiles import wpa_supplicant as wpas
from tsunagaru.passpoint.profiles.model import (
    CertificateCredential,
    DeviceCredential,
    EapMethod,
    FriendlyName,
    InnerMethod,
    PasswordCredential,
    ProfileSettings,
)

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("TSUNAGARU_UPDATE_GOLDEN") == "1"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
REALM = "idp.tsunagaru.test"
CA_KEY = ec.derive_private_key(0x7A55_0001, ec.SECP256R1())
DEVICE_KEY = ec.derive_private_key(0x7A55_0002, ec.SECP256R1())


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _fixed_cert(name: str, build: x509.CertificateBuilder, key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    path = GOLDEN / name
    if not path.exists():
        path.write_bytes(build.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
    return x509.load_pem_x509_certificate(path.read_bytes())


def _inputs() -> tuple[ProfileSettings, PasswordCredential, CertificateCredential]:
    base = x509.CertificateBuilder().not_valid_before(NOW).not_valid_after(NOW + timedelta(days=3650))
    ca = _fixed_cert("input-ca.pem", base.subject_name(_name("Golden EAP CA")).issuer_name(_name("Golden EAP CA"))
                     .public_key(CA_KEY.public_key()).serial_number(1)
                     .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True), CA_KEY)
    device = _fixed_cert("input-device.pem", base.subject_name(_name(f"d-golden2@{REALM}")).issuer_name(ca.subject)
                         .public_key(DEVICE_KEY.public_key()).serial_number(2)
                         .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False),
                         CA_KEY)
    settings = ProfileSettings(realm=REALM, home_fqdn=REALM,
                               friendly_names=(FriendlyName("en", "Tsunagaru OpenRoaming"),),
                               ca_certificates=(ca,), server_names=(REALM,))
    ttls = PasswordCredential(f"d-golden1@{REALM}", "golden-password", EapMethod.TTLS, InnerMethod.MSCHAPV2,
                              expires_at=NOW + timedelta(days=365))
    tls = CertificateCredential(f"d-golden2@{REALM}", device, DEVICE_KEY, (ca,))
    return settings, ttls, tls


def _render(kind: str) -> bytes:
    settings, ttls, tls = _inputs()
    credential: DeviceCredential = tls if "-tls" in kind else ttls
    paths = {"ca_cert": PurePath("/etc/tsunagaru/ca.pem")}
    if credential is tls:
        paths |= {"client_cert": PurePath("/etc/tsunagaru/device.pem"),
                  "private_key": PurePath("/etc/tsunagaru/device.key")}
    if kind == "apple-ttls.mobileconfig":
        return apple.build(settings, ttls, None).data
    if kind.startswith("android-"):
        return android.pps_mo(settings, credential, now=NOW)
    if kind == "windows-ttls.xml":
        return etree.tostring(windows.document(settings, ttls), pretty_print=True, xml_declaration=True,
                              encoding="UTF-8")
    return (wpas.cred_block(settings, credential, **paths)  # type: ignore[arg-type]
            + wpas.network_block(settings, credential, ssid="OpenRoaming", **paths)).encode()  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["apple-ttls.mobileconfig", "android-ttls.pps.xml", "android-tls.pps.xml",
                                  "windows-ttls.xml", "wpa_supplicant-ttls.conf", "wpa_supplicant-tls.conf"])
def test_golden(kind: str) -> None:
    rendered = _render(kind)
    path = GOLDEN / kind
    if UPDATE or not path.exists():
        path.write_bytes(rendered)
    assert rendered == path.read_bytes(), f"{kind} changed: review it and rerun with TSUNAGARU_UPDATE_GOLDEN=1"
