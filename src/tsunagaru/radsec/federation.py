"""The federation policy as a RadSec ``verify_peer`` hook (roots, EKU, policy OID, CRL, names).

With dynamic discovery a peer is authorised by its certificate's place in the federation PKI, not
by a configured name; when we connected to an SRV target, that name must be in the certificate's
SANs (never the CN). CRLs and roots are files that an operator's tooling replaces (a CRL lasts days):
:class:`TrustFiles` reads them again when they change, so a revocation reaches new handshakes without
a restart, and hands the new CRLs to the TLS contexts it serves (``on_change``), so OpenSSL checks them
in the handshake too, in both directions.

Fail closed: a configured CRL that goes missing or cannot be read makes every peer check fail with a
log line naming the file (roots that cannot be read keep the last good ones: a root does not expire in
days); an out-of-date CRL refuses the peers its issuer signed (:mod:`tsunagaru.pki.revocation`).
"""

from __future__ import annotations

import logging
import os
import ssl
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

    def __init__(self, roots: Sequence[Path], crls: Sequence[Path] = (), own: Sequence[Path] = (), *,
                 require_crl: bool = False, require_policy: bool = True) -> None:
        self.roots, self.crls, self.own = tuple(roots), tuple(crls), tuple(own)
        self.require_crl, self.require_policy = require_crl, require_policy
        self.problem: str | None = None  # set while a configured CRL cannot be read: every check fails
        self.contexts: list[ssl.SSLContext] = []  # TLS contexts that get the CRLs again when they change
        self._stamp = self._stamps()
        self._trust = self._load()

    def _load(self) -> Trust:
        return Trust.from_files(list(self.roots), crls=list(self.crls), own_certificates=list(self.own),
                                require_crl=self.require_crl, require_policy=self.require_policy)

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
                self._trust = self._load()
                self.problem = None
                log.info("federation roots or CRLs changed: reloaded")
                for ctx in self.contexts:
                    load_crls(ctx, self.crls)
            except (PkiError, OSError, ssl.SSLError) as exc:
                unreadable = [str(p) for p in self.crls if not _readable(p)]
                if unreadable or any(str(p) in str(exc) for p in self.crls):
                    self.problem = f"configured CRL unreadable ({', '.join(unreadable) or exc}): peers are refused"
                    log.error("radsec: %s", self.problem)
                else:
                    log.error("federation roots unreadable, keeping the previous ones: %s", exc)
        return self._trust


def _readable(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return bool(f.read(1))
    except OSError:
        return False


def load_crls(ctx: ssl.SSLContext, crls: Sequence[Path], *, whole_chain: bool = False) -> None:
    """Give OpenSSL the CRLs so the handshake itself refuses a revoked certificate (a leaf whose issuer
    has no CRL here fails too: revocation was asked for). ``whole_chain``: every CA needs one."""
    if not crls:
        return
    for path in crls:
        ctx.load_verify_locations(cafile=str(path))
    ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_CHAIN if whole_chain else ssl.VERIFY_CRL_CHECK_LEAF


def federation_check(trust: Trust | TrustFiles | Callable[[], Trust],
                     direction: Literal["server", "client"]) -> VerifyPeer:
    """``direction`` is what the peer is to us: ``server`` (we connected) or ``client`` (it connected)."""
    files = trust if isinstance(trust, TrustFiles) else None
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
        if files is not None and files.problem is not None:
            return f"CRL_UNAVAILABLE: {files.problem}"
        return None if result.ok else f"{result.reason.name}: {result.message}"

    return hook
