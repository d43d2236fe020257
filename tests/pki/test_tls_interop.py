"""Federation certificates in real TLS: mutual authentication between an IdP and an ANP certificate.

openssl's s_server/s_client are the independent peers; Python's ``ssl`` is our side. After each
handshake the chain the peer presented goes through ``der_chain_from_ssl`` and ``verify_der_chain``,
as the RadSec layer will do.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import subprocess
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.procs import free_port, need, running, wait_log
from tsunagaru.pki import (
    FederationPKI,
    MemberFiles,
    Reason,
    Trust,
    der_chain_from_pyopenssl,
    der_chain_from_ssl,
    verify_der_chain,
)

pytestmark = pytest.mark.interop


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> tuple[FederationPKI, MemberFiles, MemberFiles]:
    now = datetime.now(UTC)  # real peers check validity against the real clock
    pki = FederationPKI.create(tmp_path_factory.mktemp("tls") / "fed", "TLS Federation", now)
    idp = pki.issue_member("radsec.idp.example", "IDP:JP", "idp", realms=["idp.example"], now=now)
    anp = pki.issue_member("proxy.anp.example", "ANP:JP", "anp", now=now)
    return pki, idp, anp


def _context(side: int, me: MemberFiles, pki: FederationPKI, version: ssl.TLSVersion) -> ssl.SSLContext:
    ctx = ssl.SSLContext(side)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = version
    ctx.load_cert_chain(me.cert_path, me.key_path)
    ctx.load_verify_locations(pki.root_path)
    ctx.verify_mode = ssl.CERT_REQUIRED
    if side == ssl.PROTOCOL_TLS_CLIENT:
        ctx.check_hostname = False  # names are checked on the SAN by verify_der_chain, never by CN
    return ctx


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_anp_client_verifies_idp_server(
    fed: tuple[FederationPKI, MemberFiles, MemberFiles], tmp_path: Path, version: ssl.TLSVersion
) -> None:
    need("openssl")
    pki, idp, anp = fed
    port = free_port(socket.SOCK_STREAM)
    argv = [
        "openssl",
        "s_server",
        "-accept",
        f"127.0.0.1:{port}",
        "-naccept",
        "1",
        "-www",
        "-cert",
        str(idp.cert_path),
        "-cert_chain",
        str(pki.chain_path),
        "-key",
        str(idp.key_path),
        "-CAfile",
        str(pki.root_path),
        "-Verify",
        "4",
        "-verify_return_error",
    ]
    log = tmp_path / "s_server.log"
    with running(argv, log, stdin=subprocess.DEVNULL) as proc:
        wait_log(log, "ACCEPT", proc=proc)
        ctx = _context(ssl.PROTOCOL_TLS_CLIENT, anp, pki, version)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, ctx.wrap_socket(raw) as tls:
            chain = der_chain_from_ssl(tls)
            negotiated = tls.version()
            tls.sendall(b"GET / HTTP/1.0\r\n\r\n")
            assert tls.recv(64).startswith(b"HTTP/1.0 200")
        wait_log(log, "CN = proxy.anp.example, UID = ANP:JP", proc=proc)  # the server saw our client cert
    assert negotiated == ("TLSv1.2" if version == ssl.TLSVersion.TLSv1_2 else "TLSv1.3")
    assert len(chain) == 3
    now = datetime.now(UTC)
    crls = pki.crls()
    result = verify_der_chain(
        chain,
        roots=[pki.root.cert],
        direction="server",
        now=now,
        crls=crls,
        own_certificates=[anp.credential.cert],
        expected_names=["idp.example"],
    )
    assert result.ok, result.explain()
    assert result.peer is not None and result.peer.wbaid == "IDP:JP"
    wrong_way = verify_der_chain(chain, roots=[pki.root.cert], direction="client", now=now)
    assert wrong_way.reason is Reason.WRONG_USAGE


def test_idp_server_verifies_anp_client(
    fed: tuple[FederationPKI, MemberFiles, MemberFiles], tmp_path: Path
) -> None:
    need("openssl")
    pki, idp, anp = fed
    ctx = _context(ssl.PROTOCOL_TLS_SERVER, idp, pki, ssl.TLSVersion.TLSv1_3)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(15)
    port = listener.getsockname()[1]
    seen: dict[str, object] = {}

    def serve() -> None:
        try:
            conn, _ = listener.accept()
            with ctx.wrap_socket(conn, server_side=True) as tls:
                seen["chain"] = der_chain_from_ssl(tls)
                tls.sendall(b"hello anp\n")
        except Exception as exc:  # reported by the assertion below, not lost in the thread
            seen["error"] = exc

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    argv = [
        "openssl",
        "s_client",
        "-connect",
        f"127.0.0.1:{port}",
        "-cert",
        str(anp.cert_path),
        "-cert_chain",
        str(pki.chain_path),
        "-key",
        str(anp.key_path),
        "-CAfile",
        str(pki.root_path),
        "-verify_return_error",
        "-quiet",
    ]
    done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=20, check=False)
    thread.join(20)
    listener.close()
    assert "error" not in seen, seen.get("error")
    assert b"hello anp" in done.stdout, done.stderr
    chain = seen["chain"]
    assert isinstance(chain, list) and len(chain) == 3  # OpenSSL omits the client's leaf; it is put back
    trust = Trust.from_files([pki.root_path], crls=[pki.crl_path], own_certificates=[idp.cert_path])
    result = trust.check(chain, direction="client", now=datetime.now(UTC))
    assert result.ok, result.explain()
    assert result.peer is not None and result.peer.wbaid == "ANP:JP"
    assert any("not on the CRL" in step for step in result.steps)
    without_intermediates = trust.check(chain[:1], direction="client", now=datetime.now(UTC))
    assert without_intermediates.reason is Reason.UNKNOWN_ROOT


def test_pyopenssl_memory_handshake_chains(fed: tuple[FederationPKI, MemberFiles, MemberFiles]) -> None:
    """Both sides in memory (no socket): the adapter returns leaf-first chains on client and server."""
    from OpenSSL import SSL

    pki, idp, anp = fed

    def side(me: MemberFiles) -> SSL.Context:
        ctx = SSL.Context(SSL.TLS_METHOD)
        ctx.set_min_proto_version(SSL.TLS1_2_VERSION)
        ctx.use_certificate_chain_file(str(me.cert_path))
        ctx.use_privatekey_file(str(me.key_path))
        ctx.load_verify_locations(str(pki.root_path))
        ctx.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT, lambda *args: bool(args[-1]))
        return ctx

    server, client = SSL.Connection(side(idp), None), SSL.Connection(side(anp), None)
    server.set_accept_state()
    client.set_connect_state()
    for _ in range(20):  # bounded pumping of handshake bytes between the two memory BIOs
        for conn in (client, server):
            with contextlib.suppress(SSL.WantReadError):
                conn.do_handshake()
        for src, dst in ((client, server), (server, client)):
            with contextlib.suppress(SSL.WantReadError):
                dst.bio_write(src.bio_read(65536))
        if client.get_peer_certificate() is not None and server.get_peer_certificate() is not None:
            break
    now = datetime.now(UTC)
    at_client = der_chain_from_pyopenssl(client)
    at_server = der_chain_from_pyopenssl(server)
    assert verify_der_chain(at_client, roots=[pki.root.cert], direction="server", now=now).ok
    assert verify_der_chain(at_server, roots=[pki.root.cert], direction="client", now=now).ok
