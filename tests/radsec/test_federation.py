"""The federation hook sees a CRL that changed on disk without a restart (and survives a broken file)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding

from tsunagaru.pki import FederationPKI
from tsunagaru.radsec.federation import TrustFiles, federation_check
from tsunagaru.radsec.tls import PeerInfo


def test_revocation_reaches_the_hook_when_the_crl_file_changes(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    pki = FederationPKI.create(tmp_path / "fed", "Test Federation", now)
    member = pki.issue_member("idp.example.test", "IDP:JP", "idp", now=now)
    chain = [c.public_bytes(Encoding.DER) for c in member.credential.with_chain]
    crl = pki.publish_crl(now)
    trust = TrustFiles([pki.root_path], [crl])
    hook = federation_check(trust, "server")
    peer = PeerInfo("127.0.0.1", 2083, "idp.example.test")
    assert hook(chain, peer) is None

    pki.revoke(member.credential.cert.serial_number, now=now)
    os.utime(crl, ns=(1, 1))  # whatever the clock's resolution, the file looks changed
    pki.publish_crl(now)
    refusal = hook(chain, peer)
    assert refusal is not None and refusal.startswith("REVOKED")

    crl.write_text("not a CRL")  # a broken file keeps the last good trust
    assert (hook(chain, peer) or "").startswith("REVOKED")
