"""The federation policy as a RadSec ``verify_peer`` hook (roots, EKU, policy OID, CRL, names).

With dynamic discovery a peer is authorised by its certificate's place in the federation PKI, not
by a configured name; when we connected to an SRV target, that name must be in the certificate's
SANs (never the CN). CRLs and roots are files that an operator's tooling replaces (a CRL lasts days):
:class:`TrustFiles` reads them again when they change, so a revocation reaches new handshakes without
a restart; a file that cannot be read keeps the last good trust and logs why.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from tsunagaru.pki import Trust
from tsunagaru.pki.errors import PkiError
from tsunagaru.radsec.tls import PeerInfo, VerifyPeer

log = logging.getLogger("tsunagaru.radsec")


class TrustFiles:
    """A :class:`Trust` loaded from files and reloaded when any of them changes (checked per handshake)."""

    def __init__(self, roots: Sequence[Path], crls: Sequence[Path] = (), own: Sequence[Path] = ()) -> None:
        self.roots, self.crls, self.own = tuple(roots), tuple(crls), tuple(own)
        self._stamp = self._stamps()
        self._trust = Trust.from_files(list(self.roots), crls=list(self.crls), own_certificates=list(self.own))

    def _stamps(self) -> tuple[tuple[int, int], ...]:
        out = []
        for path in (*self.roots, *self.crls, *self.own):
            try:
                st = os.stat(path)
                out.append((st.st_mtime_ns, st.st_size))
            except OSError:
                out.append((-1, -1))
        return tuple(out)

    def current(self) -> Trust:
        stamp = self._stamps()
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self._trust = Trust.from_files(list(self.roots), crls=list(self.crls),
                                               own_certificates=list(self.own))
                log.info("federation roots or CRLs changed: reloaded")
            except (PkiError, OSError) as exc:
                log.error("federation roots or CRLs unreadable, keeping the previous ones: %s", exc)
        return self._trust


def federation_check(trust: Trust | TrustFiles | Callable[[], Trust],
                     direction: Literal["server", "client"]) -> VerifyPeer:
    """``direction`` is what the peer is to us: ``server`` (we connected) or ``client`` (it connected)."""
    if isinstance(trust, Trust):
        fixed = trust
        current: Callable[[], Trust] = lambda: fixed  # noqa: E731
    elif isinstance(trust, TrustFiles):
        current = trust.current
    else:
        current = trust

    def hook(chain: list[bytes], peer: PeerInfo) -> str | None:
        names = [peer.server_name] if direction == "server" and peer.server_name else None
        result = current().check(chain, direction=direction, now=datetime.now(UTC), expected_names=names)
        return None if result.ok else f"{result.reason.name}: {result.message}"

    return hook
