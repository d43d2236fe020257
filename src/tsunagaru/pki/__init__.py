"""Federation PKI: build the OpenRoaming-shaped hierarchy, issue member certificates, verify peers.

    from tsunagaru.pki import FederationPKI, verify_peer, Reason
    pki = FederationPKI.create(folder, "Test Federation", now)
    idp = pki.issue_member("radsec.idp.example", "EXAMPLE:JP", "idp", realms=["idp.example"], now=now)
    result = verify_peer(idp.credential.with_chain, roots=[pki.root.cert], direction="server", now=now)
    result.ok, result.reason, result.message, result.steps

Everything here is pure (time is an argument) except :class:`FederationPKI`, which keeps its folder.
"""

from tsunagaru.pki.build import (
    CertKey,
    KeyType,
    build_certificate,
    issue_member,
    make_intermediate,
    make_root,
    new_key,
    sign_csr,
)
from tsunagaru.pki.crl import CrlSource, make_crl
from tsunagaru.pki.eapca import export_pkcs12, issue_server_certificate, issue_user_certificate, make_eap_ca
from tsunagaru.pki.errors import MalformedInput, PkiError
from tsunagaru.pki.names import LEGACY_POLICY_OID, NAI_REALM_OID, POLICY_OID, Role, Wbaid
from tsunagaru.pki.pem import (
    load_cert_and_key,
    read_crls,
    read_csr,
    read_pem_certificates,
    read_private_key,
    write_cert_and_key,
    write_pem_bundle,
)
from tsunagaru.pki.store import FederationPKI, MemberFiles
from tsunagaru.pki.tls import Trust, der_chain_from_pyopenssl, der_chain_from_ssl, verify_der_chain
from tsunagaru.pki.verdict import PeerIdentity, Reason, VerifyResult
from tsunagaru.pki.verify import verify_peer

__all__ = [
    "LEGACY_POLICY_OID",
    "NAI_REALM_OID",
    "POLICY_OID",
    "CertKey",
    "CrlSource",
    "FederationPKI",
    "KeyType",
    "MalformedInput",
    "MemberFiles",
    "PeerIdentity",
    "PkiError",
    "Reason",
    "Role",
    "Trust",
    "VerifyResult",
    "Wbaid",
    "build_certificate",
    "der_chain_from_pyopenssl",
    "der_chain_from_ssl",
    "export_pkcs12",
    "issue_member",
    "issue_server_certificate",
    "issue_user_certificate",
    "load_cert_and_key",
    "make_crl",
    "make_eap_ca",
    "make_intermediate",
    "make_root",
    "new_key",
    "read_crls",
    "read_csr",
    "read_pem_certificates",
    "read_private_key",
    "sign_csr",
    "verify_der_chain",
    "verify_peer",
    "write_cert_and_key",
    "write_pem_bundle",
]
