"""From a device's credential to the profile file its platform opens: the glue between the portal and the
pure builders in :mod:`tsunagaru.passpoint.profiles` (Apple, Android, Windows, wpa_supplicant).

The realm's side (:class:`~tsunagaru.passpoint.profiles.model.ProfileSettings`) and the portal's signing
identity are loaded once. The wpa_supplicant download is one self-contained file: the Passpoint ``cred``
block and a ``network`` block (for a named SSID or an 802.1X port), with the CA, and for EAP-TLS the
client certificate and key, as ``blob-base64-`` entries, so nothing else has to be copied next to it.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePath

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tsunagaru.passpoint.profiles import android, apple, windows, wpa_supplicant
from tsunagaru.passpoint.profiles.model import (
    CertificateCredential,
    DeviceCredential,
    FriendlyName,
    ProfileError,
    ProfileSettings,
    SigningIdentity,
)
from tsunagaru.secretfile import write_private, write_public
from tsunagaru.web.enrol.platforms import KINDS, Platform
from tsunagaru.web.enrol.service import BuiltProfile

SIGNING_CERT = "profile-signing.pem"
SIGNING_KEY = "profile-signing.key"
CA_BLOB = "openroaming-ca"
_PLACEHOLDER = {"ca": PurePath("/@ca@"), "cert": PurePath("/@cert@"), "key": PurePath("/@key@")}


def load_or_make_signer(folder: Path, now: datetime, name: str = "Tsunagaru profile signing") -> SigningIdentity:
    """The portal's profile-signing identity in ``folder`` (RSA: Windows' XML-DSig needs it), made once.

    Self-signed is enough for a demo and for the tests' verifiers; a deployment puts a certificate from a
    CA that devices trust in the same two files.
    """
    cert_path, key_path = folder / SIGNING_CERT, folder / SIGNING_KEY
    if cert_path.exists() and key_path.exists():
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ProfileError(f"{key_path} is not an RSA key")
        return SigningIdentity(cert, key)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=825))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
            .sign(key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    write_private(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))
    write_public(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return SigningIdentity(cert, key)


def realm_settings(realm: str, ca_pem: bytes, server_names: tuple[str, ...] = (),
                   names: tuple[tuple[str, str], ...] = (("en", "Tsunagaru City Wi-Fi"), ("ja", "つながるシティWi-Fi")),
                   home_fqdn: str | None = None) -> ProfileSettings:
    cas = tuple(x509.load_pem_x509_certificates(ca_pem))
    return ProfileSettings(realm=realm, home_fqdn=home_fqdn or realm,
                           friendly_names=tuple(FriendlyName(lang, text) for lang, text in names),
                           ca_certificates=cas, server_names=server_names or (realm,))


@dataclass(frozen=True)
class ProfileFactory:
    """Builds the profile a platform opens; callable as the service's ``make_profile``."""

    settings: ProfileSettings
    signer: SigningIdentity | None
    ssid: str = "Tsunagaru OpenRoaming"

    def __call__(self, platform: Platform, credential: DeviceCredential) -> BuiltProfile:
        kind = KINDS[platform]
        if platform in (Platform.IOS, Platform.MACOS):
            built = apple.build(self.settings, credential, self.signer,
                                p12_password=secrets.token_urlsafe(12) if isinstance(credential, CertificateCredential)
                                else "")
            return BuiltProfile(built.content_type, built.filename, built.data)
        if platform is Platform.WPA_SUPPLICANT:
            return BuiltProfile(kind.content_type, "openroaming-wpa_supplicant.conf",
                                self.wpa_supplicant(credential).encode("utf-8"))
        if platform is Platform.ANDROID:
            built = android.build(self.settings, credential, now=datetime.now(UTC))
        else:
            if self.signer is None:
                raise ProfileError("Windows provisioning files must be signed")
            built = windows.build(self.settings, credential, self.signer)
        return BuiltProfile(built.content_type, built.filename, built.data)

    def wpa_supplicant(self, credential: DeviceCredential, *, wired: bool = False) -> str:
        paths: dict[str, PurePath | None] = {"ca_cert": _PLACEHOLDER["ca"], "client_cert": None, "private_key": None}
        blobs = [(CA_BLOB, b"".join(ca.public_bytes(serialization.Encoding.DER)
                                    for ca in self.settings.ca_certificates[:1]))]
        if isinstance(credential, CertificateCredential):
            paths["client_cert"], paths["private_key"] = _PLACEHOLDER["cert"], _PLACEHOLDER["key"]
            blobs.append(("openroaming-cert", credential.certificate.public_bytes(serialization.Encoding.DER)))
            blobs.append(("openroaming-key", credential.key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())))
        cred = wpa_supplicant.cred_block(self.settings, credential, **paths)  # type: ignore[arg-type]
        network = wpa_supplicant.network_block(self.settings, credential, ssid=None if wired else self.ssid,
                                               wired=wired, **paths)  # type: ignore[arg-type]
        text = ("# Tsunagaru OpenRoaming credential for wpa_supplicant (interworking=1 hs20=1 for Passpoint)\n"
                + "".join(f"blob-base64-{name}={{\n{_b64(data)}}}\n" for name, data in blobs)
                + cred + network)
        for placeholder, blob in ((_PLACEHOLDER["ca"], CA_BLOB), (_PLACEHOLDER["cert"], "openroaming-cert"),
                                  (_PLACEHOLDER["key"], "openroaming-key")):
            text = text.replace(f'"{placeholder}"', f'"blob://{blob}"')
        return text


def _b64(data: bytes) -> str:
    encoded = base64.b64encode(data).decode("ascii")
    return "".join(encoded[i:i + 64] + "\n" for i in range(0, len(encoded), 64))
