"""The federation policy as a RadSec ``verify_peer`` hook (roots, EKU, policy OID, CRL, names).

With dynamic discovery a peer is authorised by its certificate's place in the federation PKI, not
by a configured name; when we connected to an SRV target, that name must be in the certificate's
SANs (never the CN).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from tsunagaru.pki import Trust
from tsunagaru.radsec.tls import PeerInfo, VerifyPeer


def federation_check(trust: Trust, direction: Literal["server", "client"]) -> VerifyPeer:
    """``direction`` is what the peer is to us: ``server`` (we connected) or ``client`` (it connected)."""

    def hook(chain: list[bytes], peer: PeerInfo) -> str | None:
        names = [peer.server_name] if direction == "server" and peer.server_name else None
        result = trust.check(chain, direction=direction, now=datetime.now(UTC), expected_names=names)
        return None if result.ok else f"{result.reason.name}: {result.message}"

    return hook
