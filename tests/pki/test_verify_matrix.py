"""Bad certificates and chains, each refused with the right reason; and the chains that must pass.

Each negative case has exactly one defect, so the reason (and the words in the message) prove that the
check meant for it fired, not an earlier one by accident.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from tests.pki.conftest import NOW, Federation, make_federation
from tsunagaru.pki import (
    CertKey,
    Reason,
    build_certificate,
    issue_member,
    make_crl,
    make_intermediate,
    new_key,
    verify_der_chain,
    verify_peer,
)
from tsunagaru.pki.names import LEGACY_POLICY_OID, POLICY_OID, Role, Wbaid, member_subject, subject_alt_names


@dataclass
class Case:
    chain: list[x509.Certificate]
    options: dict[str, Any] = field(default_factory=dict)


Builder = Callable[[Federation, Federation], Case]


def reissue(ca: CertKey, parent: CertKey, *, start: Any, days: int) -> CertKey:
    """The same CA (name and key) certified again with another validity: an old copy of an intermediate."""
    cert = build_certificate(
        subject=ca.cert.subject,
        public_key=ca.key.public_key(),
        issuer=parent,
        signing_key=parent.key,
        now=start,
        days=days,
        ca=True,
        path_length=0,
        policy_oids=(POLICY_OID,),
    )
    return CertKey(cert, ca.key, ca.chain)


def sub_ca(parent: CertKey, name: str, **kwargs: Any) -> CertKey:
    key = new_key("ca")
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    opts: dict[str, Any] = {"ca": True, "policy_oids": (POLICY_OID,), **kwargs}
    cert = build_certificate(
        subject=subject,
        public_key=key.public_key(),
        issuer=parent,
        signing_key=parent.key,
        now=NOW,
        days=365,
        **opts,
    )
    return CertKey(cert, key, (parent.cert, *parent.chain))


def unknown_root(a: Federation, b: Federation) -> Case:
    return Case(b.member().with_chain)


def missing_intermediates(a: Federation, b: Federation) -> Case:
    return Case([a.member().cert])


def impostor_root_same_names(a: Federation, b: Federation) -> Case:
    fake = make_federation("Federation A")  # same names as A, other keys
    return Case([*fake.member().with_chain, fake.root.cert])


def self_signed_leaf(a: Federation, b: Federation) -> Case:
    key = new_key("ec")
    cert = build_certificate(
        subject=member_subject("radsec.idp.example", Wbaid.parse("EXAMPLE:JP")),
        public_key=key.public_key(),
        issuer=None,
        signing_key=key,
        now=NOW,
        days=365,
        ca=False,
        policy_oids=(POLICY_OID,),
        usages=Role.IDP.usages,
        san=subject_alt_names(["radsec.idp.example"], []),
    )
    return Case([cert, *a.issuing.with_chain])


def broken_signature(a: Federation, b: Federation) -> Case:
    forger = CertKey(a.issuing.cert, new_key("ca"), a.issuing.chain)  # right name, wrong key
    return Case(issue_member(forger, "radsec.idp.example", "EXAMPLE:JP", "idp", NOW).with_chain)


def missing_policy_leaf(a: Federation, b: Federation) -> Case:
    return Case(a.member(policy_oids=()).with_chain)


def missing_policy_intermediate(a: Federation, b: Federation) -> Case:
    bare = make_intermediate(a.policy, "Policy-less Issuing CA", NOW, path_length=0, policy_oids=())
    return Case(issue_member(bare, "radsec.idp.example", "EXAMPLE:JP", "idp", NOW).with_chain)


def wrong_usage_anp_as_server(a: Federation, b: Federation) -> Case:
    return Case(a.member("anp").with_chain, {"direction": "server"})


def wrong_usage_idp_as_client(a: Federation, b: Federation) -> Case:
    return Case(a.member("idp").with_chain, {"direction": "client"})


def expired_leaf(a: Federation, b: Federation) -> Case:
    return Case(a.member(now=NOW - timedelta(days=400), days=365).with_chain)


def not_yet_valid_leaf(a: Federation, b: Federation) -> Case:
    return Case(a.member(now=NOW + timedelta(days=2)).with_chain)


def expired_intermediate(a: Federation, b: Federation) -> Case:
    old = reissue(a.issuing, a.policy, start=NOW - timedelta(days=60), days=30)
    return Case([a.member().cert, old.cert, a.policy.cert])


def revoked_leaf(a: Federation, b: Federation) -> Case:
    leaf = a.member()
    crl = make_crl(a.issuing, [(leaf.cert.serial_number, NOW)], NOW, number=1)
    return Case(leaf.with_chain, {"crls": [crl]})


def revoked_intermediate(a: Federation, b: Federation) -> Case:
    crl = make_crl(a.policy, [(a.issuing.cert.serial_number, NOW)], NOW, number=1)
    return Case(a.member().with_chain, {"crls": [crl]})


def name_mismatch(a: Federation, b: Federation) -> Case:
    return Case(a.member().with_chain, {"expected_names": ["other-idp.example"]})


def cn_only_name(a: Federation, b: Federation) -> Case:
    key = new_key("ec")
    cert = build_certificate(
        subject=member_subject("idp.example", Wbaid.parse("EXAMPLE:JP")),
        public_key=key.public_key(),
        issuer=a.issuing,
        signing_key=a.issuing.key,
        now=NOW,
        days=365,
        ca=False,
        policy_oids=(POLICY_OID,),
        usages=Role.IDP.usages,
    )
    return Case([cert, *a.issuing.with_chain], {"expected_names": ["idp.example"]})


def own_certificate(a: Federation, b: Federation) -> Case:
    mine = a.member()
    return Case(mine.with_chain, {"own_certificates": [mine.cert]})


def own_key_reissued(a: Federation, b: Federation) -> Case:
    mine = a.member()
    again = build_certificate(
        subject=mine.cert.subject,
        public_key=mine.key.public_key(),
        issuer=a.issuing,
        signing_key=a.issuing.key,
        now=NOW,
        days=30,
        ca=False,
        policy_oids=(POLICY_OID,),
        usages=Role.IDP.usages,
    )
    return Case([again, *a.issuing.with_chain], {"own_certificates": [mine.cert]})


def intermediate_without_basic_constraints(a: Federation, b: Federation) -> Case:
    rogue = sub_ca(a.policy, "No BasicConstraints CA", ca=None)
    return Case(issue_member(rogue, "radsec.idp.example", "EXAMPLE:JP", "idp", NOW).with_chain)


def member_used_as_ca(a: Federation, b: Federation) -> Case:
    rogue = sub_ca(a.issuing, "Member acting as CA", ca=False)
    return Case(issue_member(rogue, "radsec.idp.example", "EXAMPLE:JP", "idp", NOW).with_chain)


def pathlen_violation(a: Federation, b: Federation) -> Case:
    extra = sub_ca(a.issuing, "CA below the issuing CA")
    return Case(issue_member(extra, "radsec.idp.example", "EXAMPLE:JP", "idp", NOW).with_chain)


def root_pathlen_violation(a: Federation, b: Federation) -> Case:
    key = new_key("ca")
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Strict Root")])
    cert = build_certificate(
        subject=name,
        public_key=key.public_key(),
        issuer=None,
        signing_key=key,
        now=NOW,
        days=3650,
        ca=True,
        path_length=1,
    )
    root = CertKey(cert, key)
    policy = make_intermediate(root, "Strict Policy CA", NOW, path_length=1)
    issuing = make_intermediate(policy, "Strict Issuing CA", NOW, path_length=0)
    leaf = issue_member(issuing, "radsec.idp.example", "EXAMPLE:JP", "idp", NOW)
    return Case(leaf.with_chain, {"roots": [cert]})


def chain_too_long(a: Federation, b: Federation) -> Case:
    ca = sub_ca(a.root, "Level 1")
    for level in range(2, 8):
        ca = sub_ca(ca, f"Level {level}")
    return Case(issue_member(ca, "radsec.idp.example", "EXAMPLE:JP", "idp", NOW).with_chain)


def ca_as_peer(a: Federation, b: Federation) -> Case:
    return Case(a.issuing.with_chain)


def empty_chain(a: Federation, b: Federation) -> Case:
    return Case([])


def crl_required_but_missing(a: Federation, b: Federation) -> Case:
    return Case(a.member().with_chain, {"require_crl": True})


def crl_required_but_stale(a: Federation, b: Federation) -> Case:
    old = NOW - timedelta(days=30)
    crls = [make_crl(ca, [], old, number=1) for ca in (a.issuing, a.policy, a.root)]
    return Case(a.member().with_chain, {"require_crl": True, "crls": crls})


NEGATIVE: list[tuple[Builder, Reason, str]] = [
    (unknown_root, Reason.UNKNOWN_ROOT, "neither one of our roots"),
    (missing_intermediates, Reason.UNKNOWN_ROOT, "does not send its intermediate"),
    (impostor_root_same_names, Reason.UNKNOWN_ROOT, "not one of our roots"),
    (self_signed_leaf, Reason.SELF_SIGNED, "self-signed"),
    (broken_signature, Reason.BAD_SIGNATURE, "does not verify"),
    (missing_policy_leaf, Reason.MISSING_POLICY, "the peer's certificate"),
    (missing_policy_intermediate, Reason.MISSING_POLICY, "intermediate CA 'Policy-less Issuing CA'"),
    (wrong_usage_anp_as_server, Reason.WRONG_USAGE, "serverAuth"),
    (wrong_usage_idp_as_client, Reason.WRONG_USAGE, "clientAuth"),
    (expired_leaf, Reason.EXPIRED, "the peer's certificate"),
    (not_yet_valid_leaf, Reason.NOT_YET_VALID, "not valid before"),
    (expired_intermediate, Reason.EXPIRED, "intermediate CA 'Federation A Issuing CA'"),
    (revoked_leaf, Reason.REVOKED, "the peer's certificate"),
    (revoked_intermediate, Reason.REVOKED, "intermediate CA 'Federation A Issuing CA'"),
    (name_mismatch, Reason.NAME_MISMATCH, "other-idp.example"),
    (cn_only_name, Reason.NAME_MISMATCH, "CN 'idp.example' is never used"),
    (own_certificate, Reason.OWN_CERTIFICATE, "loops back"),
    (own_key_reissued, Reason.OWN_CERTIFICATE, "same key"),
    (intermediate_without_basic_constraints, Reason.NOT_A_CA, "not marked as a CA"),
    (member_used_as_ca, Reason.NOT_A_CA, "Member acting as CA"),
    (pathlen_violation, Reason.PATH_TOO_LONG, "pathLenConstraint"),
    (root_pathlen_violation, Reason.PATH_TOO_LONG, "root 'Strict Root' allows 1"),
    (chain_too_long, Reason.PATH_TOO_LONG, "longer than"),
    (ca_as_peer, Reason.LEAF_IS_CA, "is a CA certificate"),
    (empty_chain, Reason.EMPTY_CHAIN, "no certificate"),
    (crl_required_but_missing, Reason.CRL_UNAVAILABLE, "no CRL"),
    (crl_required_but_stale, Reason.CRL_UNAVAILABLE, "out of date"),
]


def _verify(case: Case, fed: Federation) -> Any:
    options: dict[str, Any] = {"roots": [fed.root.cert], "direction": "server", "now": NOW, **case.options}
    return verify_peer(case.chain, **options)


@pytest.mark.parametrize(("build", "reason", "words"), NEGATIVE, ids=[c[0].__name__ for c in NEGATIVE])
def test_refused_with_the_right_reason(
    build: Builder, reason: Reason, words: str, fed_a: Federation, fed_b: Federation
) -> None:
    result = _verify(build(fed_a, fed_b), fed_a)
    assert not result.ok
    assert result.reason is reason, result.message
    assert words in result.message
    assert result.peer is None


def test_the_matrix_is_large_and_every_reason_but_ok_and_malformed_is_covered() -> None:
    assert len(NEGATIVE) >= 12
    covered = {reason for _, reason, _ in NEGATIVE}
    assert set(Reason) - covered == {Reason.OK, Reason.MALFORMED}


def test_malformed_der_is_refused_not_raised(fed_a: Federation) -> None:
    leaf = fed_a.member()
    chain = [leaf.cert.public_bytes(Encoding.DER), b"\x30\x03garbage"]
    result = verify_der_chain(chain, roots=[fed_a.root.cert], direction="server", now=NOW)
    assert (result.ok, result.reason) == (False, Reason.MALFORMED)
    assert "certificate 2 of the chain" in result.message


# --- chains that must pass --------------------------------------------------------------------------


def test_both_roots_trusted_side_by_side(fed_a: Federation, fed_b: Federation) -> None:
    roots = [fed_a.root.cert, fed_b.root.cert]
    for fed in (fed_a, fed_b):
        result = verify_peer(fed.member().with_chain, roots=roots, direction="server", now=NOW)
        assert result.ok, result.explain()
        assert result.path[-1] == fed.root.cert


def test_legacy_policy_oid_is_accepted(fed_legacy: Federation) -> None:
    leaf = fed_legacy.member(policy_oids=(LEGACY_POLICY_OID,))
    result = verify_peer(leaf.with_chain, roots=[fed_legacy.root.cert], direction="server", now=NOW)
    assert result.ok, result.explain()
    assert any("legacy policy" in step for step in result.steps)


@pytest.mark.parametrize("direction", ["server", "client"])
def test_hub_is_accepted_in_both_directions(fed_a: Federation, direction: Any) -> None:
    hub = fed_a.member("hub", fqdn="hub.example", realms=[])
    result = verify_peer(hub.with_chain, roots=[fed_a.root.cert], direction=direction, now=NOW)
    assert result.ok, result.explain()
    assert result.peer is not None and set(result.peer.roles) == {Role.IDP, Role.ANP, Role.HUB}


def test_anp_as_client_with_fresh_crls_and_identity(fed_a: Federation) -> None:
    anp = fed_a.member("anp", fqdn="proxy.anp.example", wbaid="CITY.TOKYO:JP", realms=[])
    crls = [make_crl(ca, [], NOW, number=1) for ca in (fed_a.issuing, fed_a.policy, fed_a.root)]
    result = verify_peer(
        anp.with_chain,
        roots=[fed_a.root.cert],
        direction="client",
        now=NOW,
        crls=crls,
        require_crl=True,
        own_certificates=[fed_a.member().cert],
    )
    assert result.ok, result.explain()
    assert result.peer is not None and result.peer.wbaid == "CITY.TOKYO:JP"
    assert result.reason is Reason.OK and len(result.path) == 4


def test_rsa_leaf_unordered_chain_with_root_included(fed_a: Federation) -> None:
    leaf = fed_a.member(key_type="rsa")
    chain = [leaf.cert, fed_a.root.cert, fed_a.policy.cert, fed_a.issuing.cert]
    assert verify_peer(chain, roots=[fed_a.root.cert], direction="server", now=NOW).ok


@pytest.mark.parametrize("name", ["idp.example", "RADSEC.IDP.EXAMPLE", "radsec.idp.example."])
def test_names_match_san_dns_or_nai_realm(fed_a: Federation, name: str) -> None:
    result = verify_peer(
        fed_a.member().with_chain, roots=[fed_a.root.cert], direction="server", now=NOW, expected_names=[name]
    )
    assert result.ok, result.explain()


def test_forged_crl_neither_revokes_nor_counts(fed_a: Federation) -> None:
    leaf = fed_a.member()
    forger = CertKey(fed_a.issuing.cert, new_key("ca"))
    forged = make_crl(forger, [(leaf.cert.serial_number, NOW)], NOW, number=99)
    result = verify_peer(leaf.with_chain, roots=[fed_a.root.cert], direction="server", now=NOW, crls=[forged])
    assert result.ok
    assert any("not signed by its key" in step for step in result.steps)


def test_stale_crl_still_revokes_without_strict_mode(fed_a: Federation) -> None:
    leaf = fed_a.member()
    stale = make_crl(fed_a.issuing, [(leaf.cert.serial_number, NOW)], NOW - timedelta(days=30), number=1)
    result = verify_peer(leaf.with_chain, roots=[fed_a.root.cert], direction="server", now=NOW, crls=[stale])
    assert result.reason is Reason.REVOKED
    assert any("out of date" in step for step in result.steps)
