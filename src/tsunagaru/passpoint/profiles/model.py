"""What a device profile is made from: the IdP realm's settings and one device credential.

Both are frozen dataclasses checked when they are made, so every builder (Apple, Android, Windows,
wpa_supplicant) can trust its inputs and stays a plain function from these to bytes. A profile trusts
the EAP server's CA (one or more: both during a CA rotation) and pins the server *names*; it never
carries the server certificate, so renewing that certificate breaks no profile.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

DEFAULT_RCOIS = ("5A03BA0000", "004096")  # OpenRoaming settlement-free (all identity types) + legacy
MAX_RCOIS = 36  # AOSP HomeSp and hostap MAX_ROAMING_CONS
MAX_NAMES = 16  # AOSP MAX_NUMBER_OF_ENTRIES (AAA server trusted names, trust roots)
MAX_STRING = 255
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_HEX = re.compile(r"^(?:[0-9A-Fa-f]{2})+$")


class ProfileError(ValueError):
    """The settings or the credential cannot make a valid profile (what is wrong is in the message)."""


class EapMethod(StrEnum):
    TTLS = "ttls"
    PEAP = "peap"
    TLS = "tls"


class InnerMethod(StrEnum):
    """Phase-2 methods a username/password credential can use (TTLS: all; PEAP: MSCHAPv2 only)."""

    PAP = "PAP"
    MSCHAPV2 = "MSCHAPv2"


def check_fqdn(name: str, what: str) -> str:
    """A DNS name (no trailing dot, no wildcard), lower-cased; ProfileError otherwise."""
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise ProfileError(f"{what} {name!r} is not a DNS name")
    return name.lower()


def check_rcoi(text: str) -> str:
    """An RCOI as hex (3 or 5 octets: what every client here accepts), upper case."""
    value = text.strip()
    if not _HEX.match(value) or len(value) not in (6, 10):
        raise ProfileError(f"RCOI {text!r} is not 3 or 5 octets of hex")
    return value.upper()


def _check_text(value: str, what: str, limit: int = MAX_STRING) -> str:
    if not value or len(value.encode()) > limit or any(ord(c) < 0x20 or c == "\x7f" for c in value):
        raise ProfileError(f"{what} must be 1-{limit} bytes of printable text")
    return value


@dataclass(frozen=True)
class FriendlyName:
    """An operator name in one language (ISO 639 code such as ``en`` or ``ja``)."""

    lang: str
    text: str

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*", self.lang):
            raise ProfileError(f"friendly name language {self.lang!r} is not a language code")
        _check_text(self.text, "a friendly name", 252)
        if self.text != self.text.strip():
            raise ProfileError("a friendly name has no leading or trailing spaces (Android trims them away)")


@dataclass(frozen=True)
class ProfileSettings:
    """The IdP realm's side of every profile.

    ``ca_certificates`` are what devices trust for the EAP server (during a CA rotation: old and new);
    ``server_names`` the names the server certificate must carry (pinned, never the certificate itself).
    ``identifier`` is the reverse-DNS stem of Apple payload identifiers.
    """

    realm: str
    home_fqdn: str
    friendly_names: tuple[FriendlyName, ...]
    ca_certificates: tuple[x509.Certificate, ...]
    server_names: tuple[str, ...]
    rcois: tuple[str, ...] = DEFAULT_RCOIS
    anonymous_identity: str = ""
    methods: frozenset[EapMethod] = frozenset(EapMethod)
    identifier: str = "jp.tsunagaru.openroaming"
    organisation: str = "Tsunagaru"
    tls_min: str = "1.2"
    tls_max: str = "1.3"

    def __post_init__(self) -> None:
        object.__setattr__(self, "realm", check_fqdn(self.realm, "realm"))
        object.__setattr__(self, "home_fqdn", check_fqdn(self.home_fqdn, "home FQDN"))
        if not self.friendly_names:
            raise ProfileError("at least one friendly name is needed")
        if not self.ca_certificates or len(self.ca_certificates) > MAX_NAMES:
            raise ProfileError(f"1-{MAX_NAMES} EAP server CA certificates are needed")
        for ca in self.ca_certificates:
            _check_ca(ca)
        if not self.server_names or len(self.server_names) > MAX_NAMES:
            raise ProfileError(f"1-{MAX_NAMES} EAP server names are needed")
        object.__setattr__(self, "server_names", tuple(check_fqdn(n, "server name") for n in self.server_names))
        rcois = tuple(dict.fromkeys(check_rcoi(r) for r in self.rcois))
        if not rcois or len(rcois) > MAX_RCOIS:
            raise ProfileError(f"1-{MAX_RCOIS} RCOIs are needed")
        object.__setattr__(self, "rcois", rcois)
        anonymous = self.anonymous_identity or f"anonymous@{self.realm}"
        local, at, anon_realm = anonymous.rpartition("@")
        if not at or anon_realm.lower() != self.realm or not re.fullmatch(r"[A-Za-z0-9._-]*", local):
            raise ProfileError(f"the outer identity {anonymous!r} must be an anonymous name @{self.realm}")
        object.__setattr__(self, "anonymous_identity", anonymous)
        if not self.methods:
            raise ProfileError("at least one EAP method is needed")
        if not re.fullmatch(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+", self.identifier):
            raise ProfileError(f"identifier {self.identifier!r} is not reverse-DNS")
        _check_text(self.organisation, "the organisation")
        if (self.tls_min, self.tls_max) not in (("1.2", "1.2"), ("1.2", "1.3"), ("1.3", "1.3")):
            raise ProfileError("TLS versions must be 1.2 or 1.3, minimum not above maximum")

    @property
    def friendly_name(self) -> str:
        """The first (default) friendly name."""
        return self.friendly_names[0].text


def _check_ca(ca: x509.Certificate) -> None:
    try:
        constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is None or not constraints.ca:
        raise ProfileError(f"{ca.subject.rfc4514_string()} is not a CA certificate: profiles trust the CA, "
                           "never the server certificate")


@dataclass(frozen=True)
class PasswordCredential:
    """A per-device username (a full NAI, ``name@realm``) and password for EAP-TTLS or PEAP."""

    username: str
    password: str = field(repr=False)
    method: EapMethod = EapMethod.TTLS
    inner: InnerMethod = InnerMethod.MSCHAPV2
    expires_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.method is EapMethod.TLS:
            raise ProfileError("a password credential uses TTLS or PEAP")
        if self.method is EapMethod.PEAP and self.inner is not InnerMethod.MSCHAPV2:
            raise ProfileError("PEAP carries MSCHAPv2 only")
        _check_nai(self.username)
        _check_text(self.password, "the password")
        if self.expires_at is not None and self.expires_at.tzinfo is None:
            raise ProfileError("expires_at must be an aware datetime")


@dataclass(frozen=True)
class CertificateCredential:
    """An EAP-TLS client certificate and key (from the IdP's user CA) for one device.

    ``username`` is the identity the device sends (the certificate's CN, a full NAI); ``chain`` the CA
    certificates that issued it (put into the PKCS#12 so the device can present the chain).
    """

    username: str
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey = field(repr=False)
    chain: tuple[x509.Certificate, ...] = ()

    def __post_init__(self) -> None:
        _check_nai(self.username)
        if not _key_matches(self.certificate, self.key):
            raise ProfileError("the private key does not belong to the certificate")

    @property
    def method(self) -> EapMethod:
        return EapMethod.TLS

    @property
    def expires_at(self) -> datetime:
        return self.certificate.not_valid_after_utc


def _key_matches(cert: x509.Certificate, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bool:
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    return cert.public_key().public_bytes(*spki) == key.public_key().public_bytes(*spki)


DeviceCredential = PasswordCredential | CertificateCredential


def _check_nai(username: str) -> None:
    local, at, realm = username.rpartition("@")
    if not at or not local or len(username.encode()) > 63 or any(c.isspace() or ord(c) < 0x21 for c in username):
        raise ProfileError("the username must be a NAI name@realm of at most 63 bytes (Android's limit)")
    check_fqdn(realm, "the username's realm")


def check_credential(settings: ProfileSettings, credential: DeviceCredential) -> None:
    """The credential's method is offered and its realm is the settings' realm."""
    if credential.method not in settings.methods:
        raise ProfileError(f"method {credential.method.value} is not offered by this realm")
    if credential.username.rpartition("@")[2].lower() != settings.realm:
        raise ProfileError(f"the username is not in realm {settings.realm}")


@dataclass(frozen=True)
class SigningIdentity:
    """The portal's profile-signing certificate, its key and the chain up to (not including) a root.

    Apple profiles are CMS-signed with it; Windows needs an RSA key (XML-DSig rsa-sha256).
    """

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey = field(repr=False)
    chain: tuple[x509.Certificate, ...] = ()

    def __post_init__(self) -> None:
        if not _key_matches(self.certificate, self.key):
            raise ProfileError("the signing key does not belong to the signing certificate")


@dataclass(frozen=True)
class Profile:
    """A built profile as the portal serves it: the bytes, their Content-Type and a file name."""

    content_type: str
    filename: str
    data: bytes = field(repr=False)
