"""Read and write PEM bundles, keys and CRLs.

Bundles hold several objects (a chain, both federation roots, the CRLs of every CA in one file), which
cryptography's single-object loaders do not read, so the splitting is done here. Private keys are
written readable by their owner only (0600), created that way rather than chmod-ed afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tsunagaru.pki.build import CertKey, PrivateKey
from tsunagaru.pki.errors import MalformedInput
from tsunagaru.secretfile import write_private, write_public

T = TypeVar("T")
_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n.*?-----END \1-----", re.DOTALL)


def pem_blocks(data: bytes, label: str) -> list[bytes]:
    """Every PEM block of type ``label`` (e.g. ``CERTIFICATE``), in file order."""
    return [m.group(0) for m in _BLOCK.finditer(data) if m.group(1).decode() == label]


def read_pem_certificates(data: bytes) -> list[x509.Certificate]:
    """Certificates from PEM text (any number) or from one DER certificate."""
    return _read_many(data, "CERTIFICATE", x509.load_pem_x509_certificate, x509.load_der_x509_certificate)


def read_crls(data: bytes) -> list[x509.CertificateRevocationList]:
    """CRLs from PEM text (any number, e.g. one per CA) or from one DER CRL."""
    return _read_many(data, "X509 CRL", x509.load_pem_x509_crl, x509.load_der_x509_crl)


def _read_many(
    data: bytes, label: str, from_pem: Callable[[bytes], T], from_der: Callable[[bytes], T]
) -> list[T]:
    if b"-----BEGIN" not in data:
        try:
            return [from_der(data)]
        except ValueError:
            raise MalformedInput(f"no PEM {label} block, and not a DER {label.lower()} either") from None
    blocks = pem_blocks(data, label)
    if not blocks:
        raise MalformedInput(f"no {label} block in the PEM text")
    try:
        return [from_pem(b) for b in blocks]
    except ValueError:
        raise MalformedInput(f"a PEM {label} block is damaged (it does not decode)") from None


def read_csr(data: bytes) -> x509.CertificateSigningRequest:
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_csr(data)
        return x509.load_der_x509_csr(data)
    except ValueError as exc:
        raise MalformedInput(f"not a certificate signing request: {exc}") from None


def read_private_key(data: bytes) -> PrivateKey:
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise MalformedInput(f"not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise MalformedInput("only EC and RSA private keys are used in the federation")
    return key


def load_file(path: Path | str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise MalformedInput(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def certificates_pem(certs: Iterable[x509.Certificate]) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def crls_pem(crls: Iterable[x509.CertificateRevocationList]) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in crls)


def private_key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def write_file(path: Path | str, data: bytes, *, private: bool = False) -> Path:
    """Write atomically (:mod:`tsunagaru.secretfile`); ``private`` files are 0600 from their first byte."""
    return write_private(path, data) if private else write_public(path, data)


def write_pem_bundle(path: Path | str, certs: Iterable[x509.Certificate]) -> Path:
    return write_file(path, certificates_pem(certs))


def write_cert_and_key(item: CertKey, cert_path: Path | str, key_path: Path | str) -> tuple[Path, Path]:
    """The certificate followed by its intermediates (what a TLS server or client presents), and its key."""
    return write_pem_bundle(cert_path, item.with_chain), write_file(
        key_path, private_key_pem(item.key), private=True
    )


def load_cert_and_key(cert_path: Path | str, key_path: Path | str) -> CertKey:
    certs = read_pem_certificates(load_file(cert_path, "certificate"))
    return CertKey(certs[0], read_private_key(load_file(key_path, "private key")), tuple(certs[1:]))
