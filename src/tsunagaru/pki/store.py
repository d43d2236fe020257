"""A federation PKI kept in a folder, so the CLI, the demo and tests share one layout::

    DIR/root.pem  root.key              self-signed federation root (keys are 0600)
    DIR/policy-ca.pem  policy-ca.key    policy CA (pathlen 1)
    DIR/issuing-ca.pem issuing-ca.key   issuing CA (pathlen 0): signs member certificates
    DIR/chain.pem                       issuing CA + policy CA: what members send after their own cert
    DIR/crl.pem                         the current CRL of each CA (issuing, policy, root)
    DIR/index.json                      name, leaf key type, CRL number, issued and revoked serials
    DIR/members/<fqdn>-<role>.pem/.key  member certificates (cert + chain) and keys, by default

Two federations side by side are two folders; trust both by putting both ``root.pem`` in one bundle.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509

from tsunagaru.pki.build import CertKey, KeyType, issue_member, make_intermediate, make_root, sign_csr
from tsunagaru.pki.crl import make_crl
from tsunagaru.pki.errors import MalformedInput, PkiError
from tsunagaru.pki.names import Role, common_name
from tsunagaru.pki.pem import (
    crls_pem,
    load_cert_and_key,
    load_file,
    read_crls,
    write_cert_and_key,
    write_file,
    write_pem_bundle,
)

CA_FILES = {"root": "root", "policy": "policy-ca", "issuing": "issuing-ca"}


@dataclass(frozen=True)
class MemberFiles:
    """A member certificate just issued, and where it was written."""

    credential: CertKey
    cert_path: Path
    key_path: Path


def parse_serial(text: str) -> int:
    """Serials are written in hex (as ``pki show`` prints them); colons and a 0x prefix are allowed."""
    cleaned = text.strip().lower().replace(":", "").removeprefix("0x")
    try:
        return int(cleaned, 16)
    except ValueError:
        raise PkiError(f"invalid serial {text!r}: expected hexadecimal, as printed by 'pki show'") from None


class FederationPKI:
    """Root, policy CA and issuing CA with their index; every method takes ``now`` explicitly."""

    def __init__(self, directory: Path, cas: dict[str, CertKey], index: dict[str, Any]) -> None:
        self.directory = directory
        self.root, self.policy_ca, self.issuing_ca = cas["root"], cas["policy"], cas["issuing"]
        self.index = index

    @property
    def name(self) -> str:
        return str(self.index["name"])

    @property
    def key_type(self) -> KeyType:
        return "rsa" if self.index.get("key_type") == "rsa" else "ec"

    @property
    def root_path(self) -> Path:
        return self.directory / "root.pem"

    @property
    def crl_path(self) -> Path:
        return self.directory / "crl.pem"

    @property
    def chain_path(self) -> Path:
        return self.directory / "chain.pem"

    @classmethod
    def create(
        cls, directory: Path | str, name: str, now: datetime, *, key_type: KeyType = "ec"
    ) -> FederationPKI:
        directory = Path(directory)
        if (directory / "root.pem").exists():
            raise PkiError(f"{directory} already holds a PKI (root.pem exists); refusing to overwrite it")
        root = make_root(name, now)
        policy = make_intermediate(root, f"{name} Policy CA", now, path_length=1)
        issuing = make_intermediate(policy, f"{name} Issuing CA", now, path_length=0, days=1825)
        index: dict[str, Any] = {
            "version": 1,
            "name": name,
            "key_type": key_type,
            "crl_number": 0,
            "issued": [],
            "revoked": [],
        }
        pki = cls(directory, {"root": root, "policy": policy, "issuing": issuing}, index)
        pki._record(policy.cert, "root", "policy-ca")
        pki._record(issuing.cert, "policy", "issuing-ca")
        for ca, stem in CA_FILES.items():
            item = pki._ca(ca)
            write_cert_and_key(
                CertKey(item.cert, item.key), directory / f"{stem}.pem", directory / f"{stem}.key"
            )
        write_pem_bundle(pki.chain_path, [issuing.cert, policy.cert])
        pki.publish_crl(now)
        return pki

    @classmethod
    def load(cls, directory: Path | str) -> FederationPKI:
        directory = Path(directory)
        try:
            index = json.loads(load_file(directory / "index.json", "PKI index"))
        except json.JSONDecodeError as exc:
            raise MalformedInput(f"{directory / 'index.json'} is not valid JSON: {exc}") from None
        cas = {
            ca: load_cert_and_key(directory / f"{stem}.pem", directory / f"{stem}.key")
            for ca, stem in CA_FILES.items()
        }
        # The CA files hold one certificate each; the issuing CA's chain is the policy CA.
        issuing = cas["issuing"]
        cas["issuing"] = CertKey(issuing.cert, issuing.key, (cas["policy"].cert,))
        return cls(directory, cas, index)

    def _ca(self, which: str) -> CertKey:
        return {"root": self.root, "policy": self.policy_ca, "issuing": self.issuing_ca}[which]

    def _record(self, cert: x509.Certificate, ca: str, role: str) -> None:
        self.index["issued"].append(
            {
                "serial": f"{cert.serial_number:x}",
                "ca": ca,
                "role": role,
                "subject": cert.subject.rfc4514_string(),
                "not_after": cert.not_valid_after_utc.isoformat(),
            }
        )
        self._save_index()

    def _save_index(self) -> None:
        write_file(self.directory / "index.json", json.dumps(self.index, indent=2).encode() + b"\n")

    def issue_member(
        self,
        fqdn: str,
        wbaid: str,
        role: Role | str,
        *,
        now: datetime,
        realms: list[str] | tuple[str, ...] = (),
        out_prefix: Path | str | None = None,
        key_type: KeyType | None = None,
        days: int = 365,
    ) -> MemberFiles:
        """Issue, record and write ``PREFIX.pem`` (cert + chain) and ``PREFIX.key`` (0600)."""
        role = role if isinstance(role, Role) else Role.parse(role)
        item = issue_member(
            self.issuing_ca,
            fqdn,
            wbaid,
            role,
            now,
            realms=realms,
            key_type=key_type or self.key_type,
            days=days,
        )
        prefix = (
            Path(out_prefix) if out_prefix else self.directory / "members" / f"{fqdn.lower()}-{role.value}"
        )
        cert_path, key_path = write_cert_and_key(item, f"{prefix}.pem", f"{prefix}.key")
        self._record(item.cert, "issuing", role.value)
        return MemberFiles(item, cert_path, key_path)

    def sign_csr(
        self,
        csr: x509.CertificateSigningRequest,
        role: Role | str,
        *,
        now: datetime,
        wbaid: str | None = None,
        days: int = 365,
    ) -> x509.Certificate:
        role = role if isinstance(role, Role) else Role.parse(role)
        cert = sign_csr(self.issuing_ca, csr, role, now, wbaid=wbaid, days=days)
        self._record(cert, "issuing", role.value)
        return cert

    def revoke(self, serial: int, *, now: datetime) -> dict[str, Any]:
        """Revoke a serial this PKI issued (members or the issuing CA) and republish the CRLs."""
        wanted = f"{serial:x}"
        entry = next((e for e in self.index["issued"] if e["serial"] == wanted), None)
        if entry is None:
            raise PkiError(f"serial {wanted} was not issued by this PKI ({self.directory})")
        if any(r["serial"] == wanted for r in self.index["revoked"]):
            raise PkiError(f"serial {wanted} ({entry['subject']}) is already revoked")
        self.index["revoked"].append({"serial": wanted, "ca": entry["ca"], "at": now.isoformat()})
        self.publish_crl(now)
        return dict(entry)

    def crls(self) -> list[x509.CertificateRevocationList]:
        return read_crls(load_file(self.crl_path, "CRL"))

    def publish_crl(self, now: datetime) -> Path:
        """Write a fresh CRL for each CA (new number, nextUpdate a week ahead)."""
        self.index["crl_number"] = int(self.index.get("crl_number", 0)) + 1
        crls = []
        for ca in ("issuing", "policy", "root"):
            revoked = [
                (int(r["serial"], 16), datetime.fromisoformat(r["at"]))
                for r in self.index["revoked"]
                if r["ca"] == ca
            ]
            crls.append(make_crl(self._ca(ca), revoked, now, number=self.index["crl_number"]))
        self._save_index()
        return write_file(self.crl_path, crls_pem(crls))

    def describe(self) -> str:
        return f"{self.name}: root '{common_name(self.root.cert)}' in {self.directory}"
