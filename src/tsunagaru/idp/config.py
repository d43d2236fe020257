"""The IdP's configuration: one TOML file, parsed into :class:`IdpSettings` and the listeners.

Parsing is pure (text in, objects out; files are only named, not read, except the CUI key by
:func:`load`); every problem raises :class:`ConfigError` naming the key path (``radsec.roots[1]``)
and what is wrong, as the ANP's configuration does. Relative paths are relative to the file.

    [idp]
    realms = ["idp.example"]            # realms this IdP answers for; others get Reject-Reason 11
    db = "sqlite:///idp.sqlite"         # SQLAlchemy URL of the user store
    eap_certificate = "eap-server.pem"  # chain, leaf first
    eap_key = "eap-server.key"
    user_ca = "user-ca.pem"             # EAP-TLS client certificates must chain to it
    cui_key_file = "cui.key"            # secret for Chargeable-User-Identity
    wbaid = "EXAMPLEIDP:JP"             # sent as WBA-Identity-Provider
    session_timeout = 86400
    methods = ["ttls", "peap", "tls"]   # offered in this order
    fragment_size = 1398                # TLS data per EAP packet, at most; a NAS's Framed-MTU lowers it
    tls13_tunnels = false               # TTLS/PEAP may use TLS 1.3 (RFC 9427)
    eap_tls13 = true                    # EAP-TLS may use TLS 1.3 (RFC 9190); false: TLS 1.2 for all
    cache_ttl = 30                      # seconds a user/certificate lookup is trusted (max 60)
    metrics = "127.0.0.1:9813"          # Prometheus /metrics (optional)
    log_key_file = "log.key"            # key for redacted identities (made 0600 on first start)
    node_id = "idp-1"                   # several nodes for one realm: this one's name, carried in State
                                        # so that the ANP routes a conversation back (1-32 of A-Z a-z 0-9 - _ .)

    [radsec]                            # federation peers (optional)
    listen = "0.0.0.0:2083"
    certificate = "idp-radsec.pem"
    key = "idp-radsec.key"
    roots = ["federation-roots.pem"]
    crls = []

    [udp]                               # local NASes (optional; at least one listener)
    listen = "127.0.0.1:1812"
    secret = "..."
    allowed = "127.0.0.0/8"
"""

from __future__ import annotations

import ipaddress
import tomllib
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from tsunagaru.eap.packet import EapType
from tsunagaru.eap.tls_config import DEFAULT_FRAGMENT
from tsunagaru.idp.settings import (
    DEFAULT_CACHE_TTL,
    DEFAULT_METHODS,
    MAX_CACHE_TTL,
    IdpSettings,
    RadSecListen,
    UdpListen,
)
from tsunagaru.radius.node_state import valid_node_id
from tsunagaru.tomlconf import ConfigError, Listen, TomlReader, hostport

#: The largest ``fragment_size`` whose Access-Challenge still fits a RADIUS packet (4096 octets, RFC 2865):
#: 3800 octets of TLS data make a 3810-octet EAP packet, 16 EAP-Message attributes (3842 octets), and the
#: header, Message-Authenticator and State leave about 100 octets to spare.
MAX_FRAGMENT = 3800

METHODS = {"tls": EapType.TLS, "ttls": EapType.TTLS, "peap": EapType.PEAP, "mschapv2": EapType.MSCHAPV2}
_IDP_KEYS = {"realms", "db", "eap_certificate", "eap_key", "user_ca", "cui_key_file", "wbaid", "session_timeout",
             "methods", "fragment_size", "tls13_tunnels", "eap_tls13", "cache_ttl", "max_sessions", "metrics",
             "log_key_file", "node_id"}
_RADSEC_KEYS = {"listen", "certificate", "key", "roots", "crls"}
_UDP_KEYS = {"listen", "secret", "allowed"}

__all__ = ["ConfigError", "IdpConfig", "load", "parse"]


@dataclass(frozen=True, slots=True)
class IdpConfig:
    """Everything ``tsunagaru idp serve`` needs; ``settings.cui_key`` is empty until :func:`load` reads it."""

    settings: IdpSettings
    realms: tuple[str, ...]
    db_url: str
    cui_key_file: Path
    cache_ttl: timedelta
    radsec: RadSecListen | None
    udp: UdpListen | None
    metrics: Listen | None = None
    log_key_file: Path = Path("log.key")


def load(path: str | Path) -> IdpConfig:
    """Read and parse ``path``, then read the CUI key it names."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(p), f"cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError("(file)", f"not UTF-8 text (octet {exc.start}): save it as UTF-8") from None
    cfg = parse(text, base=p.parent)
    try:
        key = cfg.cui_key_file.read_bytes()
    except OSError as exc:
        raise ConfigError("idp.cui_key_file", f"cannot read {cfg.cui_key_file}: {exc.strerror}") from None
    if len(key) < 16:
        raise ConfigError("idp.cui_key_file", f"{cfg.cui_key_file} holds {len(key)} octets; need at least 16")
    return replace(cfg, settings=replace(cfg.settings, cui_key=key))


def parse(text: str, base: Path = Path(".")) -> IdpConfig:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("(file)", f"not valid TOML: {exc}") from None
    r = _Reader(base)
    unknown = set(doc) - {"idp", "radsec", "udp"}
    if unknown:
        raise ConfigError(sorted(unknown)[0], "unknown table or key (expected [idp], [radsec], [udp])")
    idp = r.table(doc, "idp", _IDP_KEYS, required=True)
    radsec_t = r.table(doc, "radsec", _RADSEC_KEYS)
    udp_t = r.table(doc, "udp", _UDP_KEYS)
    wbaid = r.wbaid(idp, "idp.wbaid")
    ttl = r.number(idp, "idp.cache_ttl", DEFAULT_CACHE_TTL.total_seconds(), lo=0,
                   hi=MAX_CACHE_TTL.total_seconds())
    settings = IdpSettings(
        eap_certificate=r.path(idp, "idp.eap_certificate"),
        eap_key=r.path(idp, "idp.eap_key"),
        user_ca=r.path(idp, "idp.user_ca") if "user_ca" in idp else None,
        cui_key=b"",
        wbaid=wbaid,
        session_timeout=int(r.number(idp, "idp.session_timeout", 86400, lo=0, hi=7 * 86400)),
        methods=r.methods(idp),
        fragment_size=int(r.number(idp, "idp.fragment_size", DEFAULT_FRAGMENT, lo=64, hi=MAX_FRAGMENT)),
        tls13_tunnels=r.boolean(idp, "idp.tls13_tunnels", False),
        eap_tls13=r.boolean(idp, "idp.eap_tls13", True),
        max_sessions=int(r.number(idp, "idp.max_sessions", 10000, lo=1, hi=10_000_000)),
        node_id=r.node_id(idp),
    )
    if EapType.TLS in settings.methods and settings.user_ca is None:
        raise ConfigError("idp.user_ca", "is required when methods include \"tls\" (EAP-TLS)")
    realms = r.realms(idp)
    settings = replace(settings, realms=realms)
    cfg = IdpConfig(
        settings=settings,
        realms=realms,
        db_url=r.required(idp, "idp.db"),
        cui_key_file=r.path(idp, "idp.cui_key_file"),
        cache_ttl=timedelta(seconds=ttl),
        radsec=r.radsec(radsec_t) if "radsec" in doc else None,
        udp=r.udp(udp_t) if "udp" in doc else None,
        metrics=hostport(r.required(idp, "idp.metrics"), "idp.metrics", default_port=9813)
        if "metrics" in idp else None,
        log_key_file=r.resolve(r.string(idp, "idp.log_key_file") or "log.key"),
    )
    if cfg.radsec is None and cfg.udp is None:
        raise ConfigError("radsec", "no listener: add a [radsec] or a [udp] table")
    return cfg


class _Reader(TomlReader):
    @staticmethod
    def table(doc: dict[str, Any], key: str, known: set[str], *, required: bool = False) -> dict[str, Any]:
        if key not in doc and required:
            raise ConfigError(key, f"the [{key}] table is required")
        value = doc.get(key, {})
        if not isinstance(value, dict):
            raise ConfigError(key, "must be a table")
        extra = sorted(set(value) - known)
        if extra:
            raise ConfigError(f"{key}.{extra[0]}", f"unknown key (known: {', '.join(sorted(known))})")
        return value

    def path(self, parent: dict[str, Any], key: str) -> Path:
        return self.resolve(self.required(parent, key))

    def node_id(self, idp: dict[str, Any]) -> str | None:
        node = self.string(idp, "idp.node_id")
        if node is not None and not valid_node_id(node):
            raise ConfigError("idp.node_id", f"{node!r} is not a node id: 1-32 ASCII letters, digits, '-', '_', '.'")
        return node

    def realms(self, idp: dict[str, Any]) -> tuple[str, ...]:
        realms = self.strings(idp, "idp.realms")
        if not realms:
            raise ConfigError("idp.realms", "name at least one realm this IdP serves")
        for i, realm in enumerate(realms):
            if "@" in realm or " " in realm or "." not in realm:
                raise ConfigError(f"idp.realms[{i}]", f"{realm!r} is not a realm like idp.example")
        return tuple(r.lower() for r in realms)

    def methods(self, idp: dict[str, Any]) -> tuple[int, ...]:
        if "methods" not in idp:
            return DEFAULT_METHODS
        names = self.strings(idp, "idp.methods")
        if not names:
            raise ConfigError("idp.methods", "name at least one EAP method")
        out: list[int] = []
        for i, name in enumerate(names):
            method = METHODS.get(name.lower())
            if method is None:
                raise ConfigError(f"idp.methods[{i}]", f"{name!r} is not one of {', '.join(METHODS)}")
            if method in out:
                raise ConfigError(f"idp.methods[{i}]", f"{name!r} is listed twice")
            out.append(method)
        return tuple(out)

    def radsec(self, t: dict[str, Any]) -> RadSecListen:
        where = hostport(self.required(t, "radsec.listen"), "radsec.listen", default_port=2083)
        roots = tuple(self.resolve(x) for x in self.strings(t, "radsec.roots"))
        if not roots:
            raise ConfigError("radsec.roots", "name the federation root(s) that client certificates must chain to")
        crls = tuple(self.resolve(x) for x in self.strings(t, "radsec.crls"))
        return RadSecListen(where.host, where.port, self.path(t, "radsec.certificate"), self.path(t, "radsec.key"),
                            roots, crls)

    def udp(self, t: dict[str, Any]) -> UdpListen:
        where = hostport(self.required(t, "udp.listen"), "udp.listen", default_port=1812)
        secret = self.required(t, "udp.secret")
        allowed = self.string(t, "udp.allowed") or "127.0.0.0/8"
        try:
            ipaddress.ip_network(allowed, strict=False)
        except ValueError:
            raise ConfigError("udp.allowed", f"{allowed!r} is not an IP network like 127.0.0.0/8") from None
        return UdpListen(where.host, where.port, secret.encode(), allowed)
