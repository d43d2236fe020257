"""Shared inputs for the profile tests: an EAP CA, the portal's signing identity, settings, credentials."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tsunagaru.idp.user_ca import UserCA
from tsunagaru.passpoint.profiles.model import (
    CertificateCredential,
    EapMethod,
    FriendlyName,
    InnerMethod,
    PasswordCredential,
    ProfileSettings,
    SigningIdentity,
)
from tsunagaru.pki.build import CertKey, issue_leaf, self_signed_ca
from tsunagaru.pki.eapca import issue_server_certificate, make_eap_ca

SPECS = Path("/work/shared/profile-specs")
REALM = "idp.tsunagaru.test"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def required(program: str) -> str:
    """The path of a third-party checker; the test fails (never skips) when it is missing."""
    path = shutil.which(program)
    assert path is not None, f"{program} is not installed: scripts/install-deps.sh test installs it"
    return path


@dataclass(frozen=True)
class ProfilePki:
    eap_ca: CertKey
    server: CertKey
    user_ca: UserCA
    signing_ca: CertKey
    signer: SigningIdentity


def make_signer(now: datetime, name: str = "Tsunagaru profile signing") -> tuple[CertKey, SigningIdentity]:
    ca = self_signed_ca(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} CA")]), now, days=30)
    leaf = issue_leaf(ca, x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]), now, days=30,
                      key_type="rsa", usages=(ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.CODE_SIGNING))
    return ca, SigningIdentity(leaf.cert, leaf.key, ())  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def pki() -> ProfilePki:
    eap_ca = make_eap_ca("Tsunagaru Test IdP", NOW)
    server = issue_server_certificate(eap_ca, REALM, NOW)
    signing_ca, signer = make_signer(NOW)
    return ProfilePki(eap_ca, server, UserCA.create(now=NOW), signing_ca, signer)


def settings_for(*cas: x509.Certificate) -> ProfileSettings:
    return ProfileSettings(
        realm=REALM, home_fqdn=REALM,
        friendly_names=(FriendlyName("en", "Tsunagaru OpenRoaming"), FriendlyName("ja", "つながる OpenRoaming")),
        ca_certificates=cas, server_names=(REALM,),
    )


@pytest.fixture(scope="session")
def settings(pki: ProfilePki) -> ProfileSettings:
    return settings_for(pki.eap_ca.cert)


@pytest.fixture(scope="session")
def ttls(pki: ProfilePki) -> PasswordCredential:
    return PasswordCredential(f"d-3f9a2c@{REALM}", "Zq8-random-device-password", EapMethod.TTLS,
                              InnerMethod.MSCHAPV2, expires_at=NOW + timedelta(days=365))


@pytest.fixture(scope="session")
def tls(pki: ProfilePki) -> CertificateCredential:
    cert, key = pki.user_ca.issue(f"d-77b1e0@{REALM}", 365, NOW)
    return CertificateCredential(f"d-77b1e0@{REALM}", cert, key, (pki.user_ca.certificate,))
