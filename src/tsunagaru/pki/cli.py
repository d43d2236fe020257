"""``tsunagaru pki``: run a federation PKI from a folder, and explain certificates and verdicts.

Exit codes: 0 done (for ``verify``: accepted), 1 refused by ``verify``, 2 bad usage or unreadable input,
with a one-line reason on stderr. The clock is read here, at the edge; the library takes ``now``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from tsunagaru.pki.crl import crl_number
from tsunagaru.pki.errors import PkiError
from tsunagaru.pki.explain import describe
from tsunagaru.pki.names import Role
from tsunagaru.pki.pem import (
    certificates_pem,
    load_file,
    read_crls,
    read_csr,
    read_pem_certificates,
    write_file,
)
from tsunagaru.pki.store import FederationPKI, parse_serial
from tsunagaru.pki.verify import verify_peer

Handler = Callable[[argparse.Namespace], int]


def _now(args: argparse.Namespace) -> datetime:
    text = getattr(args, "at", None)
    if not text:
        return datetime.now(UTC)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise PkiError(f"--at {text!r} is not an ISO date/time such as 2030-01-31T12:00Z") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _init(args: argparse.Namespace) -> int:
    pki = FederationPKI.create(args.dir, args.name, _now(args), key_type="rsa" if args.rsa else "ec")
    print(f"created federation PKI '{pki.name}' in {pki.directory}")
    print(f"  root (trust this): {pki.root_path}")
    print(f"  member chain:      {pki.chain_path}")
    print(f"  CRLs:              {pki.crl_path}")
    print(f"  member keys:       {'RSA-2048' if args.rsa else 'EC P-256'}")
    return 0


def _issue(args: argparse.Namespace) -> int:
    pki = FederationPKI.load(args.dir)
    done = pki.issue_member(
        args.fqdn,
        args.wbaid,
        args.role,
        now=_now(args),
        realms=args.realm or [],
        out_prefix=args.out,
        days=args.days,
    )
    print(f"issued {args.role} certificate for {args.fqdn} (WBAID {args.wbaid})")
    print(f"  serial:      {done.credential.cert.serial_number:x}")
    print(f"  certificate: {done.cert_path} (with its chain)")
    print(f"  key:         {done.key_path} (mode 0600)")
    return 0


def _sign_csr(args: argparse.Namespace) -> int:
    pki = FederationPKI.load(args.dir)
    csr = read_csr(load_file(args.csr, "CSR"))
    cert = pki.sign_csr(csr, args.role, now=_now(args), wbaid=args.wbaid, days=args.days)
    write_file(args.out, certificates_pem([cert, pki.issuing_ca.cert, pki.policy_ca.cert]))
    print(
        f"signed {args.csr} as {args.role}: serial {cert.serial_number:x}, written to {args.out} (with chain)"
    )
    return 0


def _revoke(args: argparse.Namespace) -> int:
    pki = FederationPKI.load(args.dir)
    entry = pki.revoke(parse_serial(args.serial), now=_now(args))
    print(f"revoked serial {entry['serial']} ({entry['subject']}); CRLs republished to {pki.crl_path}")
    return 0


def _crl(args: argparse.Namespace) -> int:
    pki = FederationPKI.load(args.dir)
    path = pki.publish_crl(_now(args))
    revoked = len(pki.index["revoked"])
    print(f"published CRL number {pki.index['crl_number']} ({revoked} revoked) to {path}")
    return 0


def _show(args: argparse.Namespace) -> int:
    data = load_file(args.file, "file")
    now = _now(args)
    if b"-----BEGIN X509 CRL" in data:
        for crl in read_crls(data):
            print(f"CRL from {crl.issuer.rfc4514_string()} (number {crl_number(crl)})")
            print(f"  this update: {crl.last_update_utc:%Y-%m-%d %H:%M} UTC")
            print(
                f"  next update: {crl.next_update_utc:%Y-%m-%d %H:%M} UTC"
                if crl.next_update_utc
                else "  none"
            )
            print(f"  revoked:     {', '.join(f'{r.serial_number:x}' for r in crl) or 'nothing'}")
        return 0
    certs = read_pem_certificates(data)
    for position, cert in enumerate(certs, start=1):
        title = "certificate" if len(certs) == 1 else f"certificate {position} of {len(certs)}"
        print(f"{title}:")
        for line in describe(cert, now):
            print(f"  {line}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    chain = read_pem_certificates(load_file(args.file, "certificate"))
    roots = [c for path in args.roots for c in read_pem_certificates(load_file(path, "roots"))]
    crls = [c for path in args.crl or [] for c in read_crls(load_file(path, "CRL"))]
    result = verify_peer(
        chain,
        roots=roots,
        direction=args.direction,
        now=_now(args),
        crls=crls,
        expected_names=args.name or None,
        require_crl=args.require_crl,
    )
    print(f"verifying {args.file} as a {args.direction} against {len(roots)} root(s):")
    print(result.explain())
    return 0 if result.ok else 1


def _guard(handler: Handler) -> Handler:
    """Operator mistakes become one line on stderr and exit code 2, not a traceback."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except (PkiError, OSError) as exc:
            print(f"tsunagaru pki {args.pki_command}: {exc}", file=sys.stderr)
            return 2

    return run


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pki = subparsers.add_parser("pki", help="federation PKI: create, issue, revoke, show, verify")
    sub = pki.add_subparsers(dest="pki_command", metavar="ACTION", required=True)
    roles = [r.value for r in Role]

    def add(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        parser = sub.add_parser(name, help=help_text, description=help_text)
        parser.add_argument("--at", metavar="TIME", help="act as if it were this ISO time (default: now)")
        parser.set_defaults(func=_guard(handler))
        return parser

    p = add("init", _init, "create root, policy CA and issuing CA in a new folder")
    p.add_argument("dir", type=Path)
    p.add_argument("--name", default="Tsunagaru Test Federation", help="federation name in the CA subjects")
    p.add_argument("--rsa", action="store_true", help="give members RSA-2048 keys (default EC P-256)")

    p = add("issue", _issue, "issue a member certificate (key generated here)")
    p.add_argument("dir", type=Path)
    p.add_argument("--fqdn", required=True, help="the member's host name (CN and dNSName)")
    p.add_argument("--wbaid", required=True, help="WBAID such as EXAMPLE:JP (optionally SUBID.EXAMPLE:JP)")
    p.add_argument("--role", required=True, choices=roles, help="idp: server, anp: client, hub: both")
    p.add_argument("--realm", action="append", help="NAI realm served (repeatable)")
    p.add_argument("--out", help="write PREFIX.pem and PREFIX.key (default DIR/members/FQDN-ROLE)")
    p.add_argument("--days", type=int, default=365)

    p = add("sign-csr", _sign_csr, "issue a member certificate for a CSR")
    p.add_argument("dir", type=Path)
    p.add_argument("csr", type=Path)
    p.add_argument("--role", required=True, choices=roles)
    p.add_argument("--out", required=True, type=Path, help="where to write the certificate and chain")
    p.add_argument("--wbaid", help="WBAID, when the CSR's subject has no UID")
    p.add_argument("--days", type=int, default=365)

    p = add("revoke", _revoke, "revoke a certificate by serial (hex) and republish the CRLs")
    p.add_argument("dir", type=Path)
    p.add_argument("serial")

    p = add("crl", _crl, "publish fresh CRLs (new number and nextUpdate)")
    p.add_argument("dir", type=Path)

    p = add("show", _show, "explain a certificate, chain or CRL file in plain words")
    p.add_argument("file", type=Path)

    p = add("verify", _verify, "verify a peer chain as RadSec would, step by step")
    p.add_argument("file", type=Path, help="the peer's certificate followed by its chain (PEM)")
    p.add_argument(
        "--roots", required=True, type=Path, action="append", help="PEM file of trusted roots (repeatable)"
    )
    p.add_argument("--direction", choices=["server", "client"], default="server", help="the peer's side")
    p.add_argument("--crl", action="append", type=Path, help="CRL file(s) to check revocation against")
    p.add_argument("--name", action="append", help="expected SRV target or realm (repeatable)")
    p.add_argument("--require-crl", action="store_true", help="refuse when a CA's CRL is missing or stale")
