"""Test certificates made with `cryptography`: a CA, a server cert (serverAuth), client certs (clientAuth)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_client_cert: Path  # signed by a CA the server does not trust
    other_client_key: Path


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _issue(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool = False,
    eku: x509.ObjectIdentifier | None = None,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    b = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        b = b.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    if eku is not None:
        b = b.add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
    if subject.startswith("radius."):
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def _write(
    folder: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> tuple[Path, Path]:
    cp, kp = folder / f"{stem}.pem", folder / f"{stem}.key"
    cp.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    kp.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cp, kp


def make_pki(folder: Path) -> Pki:
    folder.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _issue("Tsunagaru Test EAP CA", ca_key, _name("Tsunagaru Test EAP CA"), ca_key, ca=True)
    ca_path, _ = _write(folder, "ca", ca, ca_key)
    skey = ec.generate_private_key(ec.SECP256R1())
    server = _issue(
        "radius.idp.tsunagaru.test", skey, ca.subject, ca_key, eku=ExtendedKeyUsageOID.SERVER_AUTH
    )
    sc, sk = _write(folder, "server", server, skey)
    ckey = ec.generate_private_key(ec.SECP256R1())
    client = _issue("alice@idp.tsunagaru.test", ckey, ca.subject, ca_key, eku=ExtendedKeyUsageOID.CLIENT_AUTH)
    cc, ck = _write(folder, "alice", client, ckey)
    rogue_key = ec.generate_private_key(ec.SECP256R1())
    rogue_name = _name("Rogue CA")
    okey = ec.generate_private_key(ec.SECP256R1())
    other = _issue(
        "alice@idp.tsunagaru.test", okey, rogue_name, rogue_key, eku=ExtendedKeyUsageOID.CLIENT_AUTH
    )
    oc, ok = _write(folder, "rogue-alice", other, okey)
    return Pki(ca_path, sc, sk, cc, ck, oc, ok)
