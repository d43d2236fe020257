"""The IdP's user CA: it signs the client certificates users present in EAP-TLS.

Kept apart from the federation PKI on purpose: this CA's only job is to vouch for this IdP's own users
to this IdP's own EAP server, so it stays small and local (EC P-256, one level, files in the state
folder). Revocation is not published as a CRL: the EAP server asks the store about each certificate.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tsunagaru.secretfile import private_dir, write_private, write_public

CA_CERT_FILE = "user-ca.pem"
CA_KEY_FILE = "user-ca.key"
CA_DAYS = 3650
BACKDATE = timedelta(minutes=5)  # tolerate clocks a little behind ours


class UserCAError(Exception):
    """The user CA's files are missing, unreadable, or the request cannot be issued."""


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


class UserCA:
    """A self-signed CA certificate and its key."""

    def __init__(self, certificate: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
        self.certificate = certificate
        self.key = key

    @classmethod
    def create(cls, *, now: datetime, name: str = "Tsunagaru IdP user CA", days: int = CA_DAYS) -> UserCA:
        key = ec.generate_private_key(ec.SECP256R1())
        ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(_name(name))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(now + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(cert_sign=True), critical=True)
            .add_extension(ski, critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(cert, key)

    @classmethod
    def load(cls, state_dir: Path) -> UserCA:
        try:
            cert = x509.load_pem_x509_certificate((state_dir / CA_CERT_FILE).read_bytes())
            key = serialization.load_pem_private_key((state_dir / CA_KEY_FILE).read_bytes(), password=None)
        except (OSError, ValueError) as exc:
            raise UserCAError(f"cannot read the user CA in {state_dir}: {exc}") from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise UserCAError(f"{state_dir / CA_KEY_FILE} is not an EC key")
        return cls(cert, key)

    @classmethod
    def load_or_create(cls, state_dir: Path, *, now: datetime) -> UserCA:
        """The CA in ``state_dir``, made and saved there on first use."""
        if (state_dir / CA_CERT_FILE).exists():
            return cls.load(state_dir)
        ca = cls.create(now=now)
        ca.save(state_dir)
        return ca

    def save(self, state_dir: Path) -> None:
        private_dir(state_dir)
        key_pem = self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        write_private(state_dir / CA_KEY_FILE, key_pem)
        write_public(state_dir / CA_CERT_FILE, self.certificate.public_bytes(serialization.Encoding.PEM))

    def issue(
        self, username: str, days: int, now: datetime
    ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        """A fresh key and a client certificate (CN = ``username``, EKU clientAuth) valid ``days`` days."""
        if days < 1:
            raise UserCAError("a certificate must be valid for at least one day")
        not_after = min(now + timedelta(days=days), self.certificate.not_valid_after_utc)
        key = ec.generate_private_key(ec.SECP256R1())
        ca_ski = self.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(username))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(cert_sign=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
            )
            .sign(self.key, hashes.SHA256())
        )
        return cert, key

    def to_pkcs12(self, certificate: x509.Certificate, key: ec.EllipticCurvePrivateKey, name: str) -> bytes:
        """PKCS#12 with an empty password (what Passpoint profiles carry), the CA included."""
        return pkcs12.serialize_key_and_certificates(
            name.encode("utf-8"), key, certificate, [self.certificate], serialization.NoEncryption()
        )


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )
