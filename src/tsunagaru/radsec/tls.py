"""TLS for RadSec: contexts with the RFC 6614 / radiusdtls-bis profile, peer facts, the verify hook.

Profile: TLS 1.2 minimum (1.3 preferred: OpenSSL negotiates the highest common version), mutual
certificate authentication, no renegotiation, ALPN ``radius/1.0`` offered and accepted but never
required (peers without ALPN keep working), SNI set to the peer name by the client.

Certificate *policy* (federation policy OID, EKU for the direction, revocation) is not this module's
business: a ``verify_peer(chain, peer)`` hook runs after the handshake and may refuse the peer. The
chain comes from OpenSSL's verified chain. Python exposes it publicly only from 3.13
(``SSLObject.get_verified_chain``); on 3.10-3.12 the same method exists on the private ``_sslobj``
and we use it there (``_ssl`` is CPython's own module, so it is stable in practice). If neither exists
we hand the hook the leaf alone (``getpeercert(binary_form=True)``). We stay on the stdlib ``ssl``
instead of pyOpenSSL because asyncio's TLS transport only takes ``ssl.SSLContext``.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ALPN_RADIUS = "radius/1.0"


@dataclass(frozen=True, slots=True)
class PeerInfo:
    """Who is on the other end of a RadSec connection, as the handshake established it."""

    host: str
    port: int
    server_name: str | None  # the SNI we sent (client side) or received (server side)
    tls_version: str | None = None
    cipher: str | None = None
    alpn: str | None = None
    names: tuple[str, ...] = ()  # the SAN dNSNames of the peer's certificate (who an AP is)


#: Return None to accept the peer, or a reason to refuse it (the connection is then closed).
VerifyPeer = Callable[[list[bytes], PeerInfo], "str | None"]

StrPath = str | Path


def _base(ctx: ssl.SSLContext, certfile: StrPath, keyfile: StrPath | None, cafile: StrPath) -> ssl.SSLContext:
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.options |= ssl.OP_NO_RENEGOTIATION | ssl.OP_NO_COMPRESSION
    ctx.load_cert_chain(str(certfile), str(keyfile) if keyfile is not None else None)
    ctx.load_verify_locations(cafile=str(cafile))
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.set_alpn_protocols([ALPN_RADIUS])
    return ctx


def client_context(
    *, certfile: StrPath, keyfile: StrPath | None, cafile: StrPath, check_hostname: bool = True
) -> ssl.SSLContext:
    """Context for connecting to a RadSec server with our client certificate.

    ``check_hostname`` matches the server certificate against the SNI name we connect with; turn it
    off when peers are authorised by policy (dynamic discovery) and do that in ``verify_peer``.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = check_hostname
    return _base(ctx, certfile, keyfile, cafile)


def server_context(*, certfile: StrPath, keyfile: StrPath | None, cafile: StrPath) -> ssl.SSLContext:
    """Context for a RadSec listener: the client must present a certificate that chains to ``cafile``."""
    ctx = _base(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER), certfile, keyfile, cafile)
    ctx.set_servername_callback(_remember_sni)
    return ctx


def _remember_sni(sslobj: ssl.SSLSocket | ssl.SSLObject, server_name: str | None, _ctx: Any) -> None:
    sslobj.radsec_sni = server_name  # type: ignore[union-attr]  # read back by peer_info()


def peer_chain(sslobj: ssl.SSLObject) -> list[bytes]:
    """The peer's verified certificate chain, leaf first, as DER (see the module docstring)."""
    getter = getattr(sslobj, "get_verified_chain", None)
    if getter is None:
        getter = getattr(getattr(sslobj, "_sslobj", None), "get_verified_chain", None)
    if getter is not None:
        chain = getter()
        if chain:
            return [c if isinstance(c, bytes) else c.public_bytes(ssl._ssl.ENCODING_DER) for c in chain]  # type: ignore[attr-defined]
    leaf = sslobj.getpeercert(binary_form=True)
    return [leaf] if leaf else []


def peer_info(sslobj: ssl.SSLObject, address: tuple[Any, ...], server_name: str | None = None) -> PeerInfo:
    cipher = sslobj.cipher()
    return PeerInfo(
        host=str(address[0]),
        port=int(address[1]),
        server_name=server_name if server_name is not None else getattr(sslobj, "radsec_sni", None),
        tls_version=sslobj.version(),
        cipher=cipher[0] if cipher else None,
        alpn=sslobj.selected_alpn_protocol(),
        names=_san_dns_names(sslobj.getpeercert(binary_form=True)),
    )


def _san_dns_names(der: bytes | None) -> tuple[str, ...]:
    if not der:
        return ()
    from cryptography import x509

    try:
        cert = x509.load_der_x509_certificate(der)
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        return ()
    return tuple(n.lower() for n in san.get_values_for_type(x509.DNSName))


def refuse_own_certificate(certfile: StrPath) -> VerifyPeer:
    """A hook that refuses a peer presenting our own leaf certificate: we connected to ourselves.

    Dynamic discovery can route a realm back to the proxy that asked (a loop); the certificate is the
    one identity that survives NAT and aliases, so compare it rather than addresses.
    """
    pem = Path(certfile).read_text()
    end = "-----END CERTIFICATE-----"
    own = ssl.PEM_cert_to_DER_cert(pem[: pem.index(end) + len(end)])

    def hook(chain: list[bytes], peer: PeerInfo) -> str | None:
        return "peer presents our own certificate (connection to ourselves)" if chain[:1] == [own] else None

    return hook


def all_of(*hooks: VerifyPeer) -> VerifyPeer:
    """Combine hooks (e.g. federation policy and loop detection); the first refusal wins."""

    def hook(chain: list[bytes], peer: PeerInfo) -> str | None:
        for h in hooks:
            reason = h(chain, peer)
            if reason is not None:
                return reason
        return None

    return hook


def check_peer(sslobj: ssl.SSLObject, info: PeerInfo, verify_peer: VerifyPeer | None) -> str | None:
    """Run the policy hook; None means accepted. The context's CA check has already passed."""
    if verify_peer is None:
        return None
    try:
        return verify_peer(peer_chain(sslobj), info)
    except Exception as exc:  # a crashing policy must refuse, never accept
        return f"verify_peer raised {type(exc).__name__}: {exc}"
