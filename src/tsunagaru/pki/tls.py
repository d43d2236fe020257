"""Bridge from a finished TLS handshake to :func:`verify_peer`.

The RadSec layer lets OpenSSL do the handshake (with the federation roots as trust store), then takes the
chain the peer presented, as DER, and asks :func:`verify_der_chain` for the federation verdict (policy
OID, EKU, CRL, not-ourselves), closing the connection when it is refused. Nothing here opens a socket.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from tsunagaru.pki.pem import load_file, read_crls, read_pem_certificates
from tsunagaru.pki.revocation import CrlInput
from tsunagaru.pki.verdict import Reason, VerifyResult
from tsunagaru.pki.verify import Direction, verify_peer


def verify_der_chain(
    der_chain: Sequence[bytes],
    *,
    roots: Sequence[x509.Certificate],
    direction: Direction,
    now: datetime,
    crls: Sequence[CrlInput] = (),
    own_certificates: Sequence[x509.Certificate] = (),
    expected_names: Sequence[str] | None = None,
    require_crl: bool = False,
    require_policy: bool = True,
    strict_stale: bool = False,
) -> VerifyResult:
    """Like :func:`verify_peer`, for the DER certificates a peer presented (leaf first)."""
    chain: list[x509.Certificate] = []
    for position, der in enumerate(der_chain):
        try:
            chain.append(x509.load_der_x509_certificate(der))
        except ValueError as exc:
            what = "the peer's certificate" if position == 0 else f"certificate {position + 1} of the chain"
            return VerifyResult(False, Reason.MALFORMED, f"{what} is not valid DER: {exc}")
    return verify_peer(
        chain,
        roots=roots,
        direction=direction,
        now=now,
        crls=crls,
        own_certificates=own_certificates,
        expected_names=expected_names,
        require_crl=require_crl,
        require_policy=require_policy,
        strict_stale=strict_stale,
    )


@dataclass
class Trust:
    """What a RadSec endpoint trusts, held once and asked per connection: the federation roots (both,
    side by side), CRL sources it keeps fresh, and its own certificates (to spot loops)."""

    roots: list[x509.Certificate]
    crls: list[CrlInput] = field(default_factory=list)
    own_certificates: list[x509.Certificate] = field(default_factory=list)
    require_crl: bool = False
    require_policy: bool = True  # False for access points under a city CA (no federation policy OID)
    #: out-of-date CRLs refuse (on when CRL files are configured: they were meant to be checked)
    strict_stale: bool = False

    @classmethod
    def from_files(
        cls,
        roots: Sequence[Path | str],
        *,
        crls: Sequence[Path | str] = (),
        own_certificates: Sequence[Path | str] = (),
        require_crl: bool = False,
        require_policy: bool = True,
    ) -> Trust:
        """Load PEM bundles; raises :class:`~tsunagaru.pki.errors.MalformedInput` on unreadable files."""
        return cls(
            [c for path in roots for c in read_pem_certificates(load_file(path, "roots"))],
            [c for path in crls for c in read_crls(load_file(path, "CRL"))],
            [read_pem_certificates(load_file(path, "own certificate"))[0] for path in own_certificates],
            require_crl,
            require_policy,
            bool(crls),
        )

    def check(
        self,
        der_chain: Sequence[bytes],
        *,
        direction: Direction,
        now: datetime,
        expected_names: Sequence[str] | None = None,
    ) -> VerifyResult:
        """The federation verdict on a chain a peer presented in a handshake."""
        return verify_der_chain(
            der_chain,
            roots=self.roots,
            direction=direction,
            now=now,
            crls=self.crls,
            own_certificates=self.own_certificates,
            expected_names=expected_names,
            require_crl=self.require_crl,
            require_policy=self.require_policy,
            strict_stale=self.strict_stale,
        )


def _as_der(item: Any) -> bytes:
    return item if isinstance(item, bytes) else bytes(item.public_bytes(ssl._ssl.ENCODING_DER))  # type: ignore[attr-defined]


def der_chain_from_ssl(tls: ssl.SSLSocket | ssl.SSLObject) -> list[bytes]:
    """The chain the peer sent, leaf first, from a stdlib socket or an asyncio transport's
    ``get_extra_info("ssl_object")``. Python 3.13 has ``get_unverified_chain``; 3.10-3.12 keep it on
    the private ``_sslobj``. OpenSSL leaves the client's own certificate out on the server side, so it is
    put back in front when missing."""
    getter = getattr(tls, "get_unverified_chain", None)
    if getter is None:
        getter = getattr(getattr(tls, "_sslobj", None), "get_unverified_chain", None)
    chain = [_as_der(c) for c in (getter() or [])] if getter is not None else []
    leaf = tls.getpeercert(binary_form=True)
    if leaf and (not chain or chain[0] != leaf):
        chain.insert(0, leaf)
    return chain


def der_chain_from_pyopenssl(conn: Any) -> list[bytes]:
    """The same for an ``OpenSSL.SSL.Connection`` after its handshake."""
    leaf = conn.get_peer_certificate(as_cryptography=True)
    rest = conn.get_peer_cert_chain(as_cryptography=True) or []
    chain = [c.public_bytes(Encoding.DER) for c in rest]
    if leaf is not None:
        der = leaf.public_bytes(Encoding.DER)
        if not chain or chain[0] != der:
            chain.insert(0, der)
    return chain
