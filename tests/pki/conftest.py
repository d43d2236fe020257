"""In-memory federations shared by the PKI tests (built once per session: CA keys take a moment)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from tsunagaru.pki import CertKey, issue_member, make_intermediate, make_root
from tsunagaru.pki.names import LEGACY_POLICY_OID, POLICY_OID

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Federation:
    root: CertKey
    policy: CertKey
    issuing: CertKey

    def member(self, role: str = "idp", **kwargs: object) -> CertKey:
        fqdn = str(kwargs.pop("fqdn", f"radsec.{role}.example"))
        wbaid = str(kwargs.pop("wbaid", "EXAMPLE:JP"))
        when = kwargs.pop("now", NOW)
        assert isinstance(when, datetime)
        kwargs.setdefault("realms", [f"{role}.example"])
        return issue_member(self.issuing, fqdn, wbaid, role, when, **kwargs)  # type: ignore[arg-type]


def make_federation(name: str, legacy: bool = False) -> Federation:
    oids = (LEGACY_POLICY_OID,) if legacy else (POLICY_OID,)
    root = make_root(name, NOW)
    policy = make_intermediate(root, f"{name} Policy CA", NOW, path_length=1, policy_oids=oids)
    issuing = make_intermediate(policy, f"{name} Issuing CA", NOW, path_length=0, policy_oids=oids)
    return Federation(root, policy, issuing)


@pytest.fixture(scope="session")
def fed_a() -> Federation:
    return make_federation("Federation A")


@pytest.fixture(scope="session")
def fed_b() -> Federation:
    return make_federation("Federation B")


@pytest.fixture(scope="session")
def fed_legacy() -> Federation:
    return make_federation("Legacy Federation", legacy=True)
