"""A throw-away RadSec test PKI made with ``cryptography``: one CA, a server and a client certificate.

The server certificate carries serverAuth and SANs ``localhost``, ``idp.radsec.test`` and IP
127.0.0.1 / ::1; the client certificate carries clientAuth and ``anp.radsec.test``. Helpers that
bring their own PKI (the federation PKI) build a :class:`PkiPaths` from their files instead.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SERVER_NAME = "idp.radsec.test"
CLIENT_NAME = "anp.radsec.test"


@dataclass(frozen=True)
class PkiPaths:
    """PEM files a RadSec peer needs: the CA to trust, and a certificate/key for each direction."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Tsunagaru RadSec tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    path.chmod(0o600)
    return path


def _issue(
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
    eku: list[x509.ObjectIdentifier] | None = None,
    san: list[x509.GeneralName] | None = None,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if not ca:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
        )
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def make_pki(folder: Path) -> PkiPaths:
    """Write ca.pem, server.pem/.key and client.pem/.key into ``folder`` (created if missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("Tsunagaru RadSec Test CA")
    ca_cert = _issue(ca_name, ca_key, ca_name, ca_key, ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = _issue(
        _name(SERVER_NAME),
        server_key,
        ca_name,
        ca_key,
        ca=False,
        eku=[ExtendedKeyUsageOID.SERVER_AUTH],
        san=[
            x509.DNSName(SERVER_NAME),
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("::1")),
        ],
    )
    client_key = ec.generate_private_key(ec.SECP256R1())
    client_cert = _issue(
        _name(CLIENT_NAME),
        client_key,
        ca_name,
        ca_key,
        ca=False,
        eku=[ExtendedKeyUsageOID.CLIENT_AUTH],
        san=[x509.DNSName(CLIENT_NAME)],
    )
    (folder / "ca.pem").write_bytes(_pem(ca_cert))
    (folder / "server.pem").write_bytes(_pem(server_cert))
    (folder / "client.pem").write_bytes(_pem(client_cert))
    return PkiPaths(
        ca=folder / "ca.pem",
        server_cert=folder / "server.pem",
        server_key=_write_key(folder / "server.key", server_key),
        client_cert=folder / "client.pem",
        client_key=_write_key(folder / "client.key", client_key),
    )
