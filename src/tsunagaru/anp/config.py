r"""The ANP's configuration: one TOML file, parsed into frozen dataclasses.

Parsing is pure (text in, objects out); every problem raises :class:`ConfigError` naming the key path
(``clients[2].network``) and what is wrong, so an operator can fix the file without reading code.
Relative paths are relative to the file. SIGHUP reloads clients, routes, realm lists and decoration;
listeners, TLS and discovery need a restart.

    [anp]
    wbaid = "CITY:JP"                       # our WBAID: Operator-Name 4CITY:JP on every request
    offered_service = "OpenRoaming Bronze"  # WBA-Offered-Service (optional)
    request_cui = true                      # ask IdPs for a CUI when the AP did not
    listen_auth = "0.0.0.0:1812"            # RADIUS/UDP from access points
    listen_acct = "0.0.0.0:1813"
    listen_radsec = "0.0.0.0:2083"          # RadSec from access points (optional)
    metrics = "127.0.0.1:9812"              # Prometheus /metrics (optional)
    request_timeout = 4.0                   # per request, across failover; then Reject-Reason 22
    spool = "/var/lib/tsunagaru/anp-spool.sqlite"   # durable accounting queue
    spool_max_pending = 1000000             # records waiting to be forwarded (per worker); past it, not acknowledged
    spool_max_age = 604800                  # seconds a record may wait; then deleted, counted and logged
    activity_db = "postgresql://..."        # optional: per-AP activity for the dashboard (the registry's store)
    activity_interval = 300                 # seconds per activity record (one upsert per AP per interval)
    activity_key_file = "activity.key"      # key of the hashed user/session ids (made 0600 on first start)
    node = "anp-1"                          # this ANP's name in the IdP health rows (default: the host name;
                                            # pre-fork workers add /wN)
    peer_rows = 256                         # (realm, RadSec peer) rows this node publishes with the activity;
                                            # beyond, one row of realm "other"
    max_peers = 10000                       # RadSec peers (from discovery) the pool keeps state for
    peer_idle_timeout = 600                 # a peer no request used for this long is forgotten
    peer_give_up = 900                      # a discovered peer down this long is given up (found again on demand)
    clients_files = ["registry-clients.toml"]  # more [[clients]] from files others write (optional, see load)
    clients_db = "postgresql://anp@db/tsunagaru"  # or the registry's store itself: its active APs become clients,
                                            # followed live (NOTIFY, else polling; tsunagaru.anp.registry_clients)
    clients_secrets = "/etc/tsunagaru/ap-secrets"  # the folder of the APs' secret references (file:NAME)
    clients_poll = 10                       # seconds between checks of the change counter (the fallback bound)
    disaster_realms = ["disaster.idp.tsunagaru.test"]  # the disaster credential's realms: accepted only from
                                            # clients with disaster_until in the future, else Reject-Reason 42

    [tls]                                   # our federation identity towards IdPs
    certificate = "anp.pem"                 # member certificate + chain (clientAuth)
    key = "anp.key"
    roots = ["federation-roots.pem"]        # every federation root trusted, side by side
    crls = ["federation.crl"]               # a named CRL that is missing, unreadable or out of date refuses peers
    require_crl = false                     # true: refuse a peer whose issuer has no CRL here at all
    ap_roots = ["city-ap-ca.pem"]           # CAs of RadSec access points (required with listen_radsec; never
                                            # the federation roots: a federation member is no AP of ours)
    ap_crls = ["city-ap-ca.crl"]
    ap_certificate = "anp-ap.pem"           # presented to RadSec access points (serverAuth; default: certificate)
    ap_key = "anp-ap.key"

    [discovery]                             # RFC 7585; turn off to use static routes only
    enabled = true
    nameservers = ["127.0.0.1:53"]          # default: the system resolver
    zone_file = "realms.zone"               # offline source instead of DNS (labs, the demo)
    ttl_floor = 60
    ttl_ceiling = 86400
    negative_ttl = 300
    timeout = 0.8                           # an undiscoverable realm is rejected within 1 s
    require_nai_realm = false               # true: a discovered peer's certificate must name the realm (NAIRealm)

    [[clients]]                             # access points and controllers; most specific network wins
    name = "shinjuku-aps"
    network = "10.20.0.0/16"
    secret = "..."
    require_message_authenticator = true    # BlastRADIUS; false only for old APs (logged as a warning)
    nas_identifier = 'ap-[0-9]+\.shinjuku'  # optional full-match pattern
    rate = 200                              # requests per second (token bucket), burst below
    burst = 400
    location_information = "0000000000000000000000000000000000000000000000"   # RFC 5580 4.2, hex (optional)
    location_data = "00004a500105546f6b796f"  # RFC 5580 4.3, hex: index 0, civic JP, A1 "Tokyo" (optional)
    site = "shinjuku-gyoen"                 # the site registry's key for these APs (optional, carried along)
    certificate_name = "*.aps.shinjuku.city.example"  # RadSec APs: the SAN dNSName that makes an AP this client
    disaster_until = 1796000000             # epoch seconds (UTC), a number: the end of the active incident
                                            # these APs are in (the registry export writes it; optional)
    disaster_session_timeout = 21600        # until then, an Access-Accept's Session-Timeout is at least this
                                            # (cut at disaster_until; the incident's policy, from the export)

    [[routes]]                              # static routes win over discovery: exact, *.suffix, ~regex
    realm = "*.partner.example"
    peers = ["radsec.partner.example:2083/radsec.partner.example"]   # host:port/certificate name (required)
    accounting_peers = []
    name = "partner"                        # for logs (default: the realm pattern)
    any_member = false                      # true: accept any federation member without a name (warned at start)
    balance = "failover"                    # "spread": the peers are equal IdP nodes of one realm; new
                                            # conversations spread over the up ones, a conversation stays on
                                            # the node its State names (docs: IdP nodes)

    [realms]
    allow = []                              # empty: every realm
    deny = ['~.*\.invalid']
"""

from __future__ import annotations

import ipaddress
import re
import socket
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tsunagaru.anp.clients import Client
from tsunagaru.anp.decorate import Decoration
from tsunagaru.anp.routing import PeerAddress, RealmPattern, StaticRoute
from tsunagaru.anp.spool import DEFAULT_MAX_AGE, DEFAULT_MAX_PENDING
from tsunagaru.tomlconf import ConfigError, Listen, TomlReader, check_keys, hostport, parse_toml, read_text

__all__ = ["AnpConfig", "ConfigError", "DiscoveryConfig", "Listen", "PoolConfig", "TlsConfig", "load", "parse"]

@dataclass(frozen=True, slots=True)
class TlsConfig:
    certificate: Path | None = None
    key: Path | None = None
    roots: tuple[Path, ...] = ()
    crls: tuple[Path, ...] = ()
    ap_roots: tuple[Path, ...] = ()  # CAs of access points that speak RadSec to us (default: roots)
    ap_certificate: Path | None = None  # what we present to RadSec access points (default: certificate)
    ap_key: Path | None = None
    ap_crls: tuple[Path, ...] = ()
    require_crl: bool = False


@dataclass(frozen=True, slots=True)
class DiscoveryConfig:
    enabled: bool = True
    nameservers: tuple[Listen, ...] = ()
    zone_file: Path | None = None
    ttl_floor: float = 60.0
    ttl_ceiling: float = 86400.0
    negative_ttl: float = 300.0
    timeout: float = 0.8
    require_nai_realm: bool = False


@dataclass(frozen=True, slots=True)
class PoolConfig:
    max_peers: int = 10_000
    idle_timeout: float = 600.0
    give_up: float = 900.0


_TOP = ("anp", "tls", "discovery", "clients", "routes", "realms")
_ANP = ("wbaid", "offered_service", "request_cui", "listen_auth", "listen_acct", "listen_radsec", "metrics",
        "request_timeout", "spool", "spool_max_pending", "spool_max_age",
        "max_peers", "peer_idle_timeout", "peer_give_up", "clients_files",
        "activity_db", "activity_interval", "activity_key_file", "node", "peer_rows", "disaster_realms", "clients_db",
        "clients_secrets", "clients_poll")
_TLS = ("certificate", "key", "roots", "crls", "require_crl", "ap_roots", "ap_crls", "ap_certificate", "ap_key")
_DISCOVERY = ("enabled", "nameservers", "zone_file", "ttl_floor", "ttl_ceiling", "negative_ttl", "timeout",
              "require_nai_realm")
_CLIENT = ("name", "network", "secret", "require_message_authenticator", "nas_identifier", "rate", "burst",
           "location_information", "location_data", "site", "certificate_name", "disaster_until",
           "disaster_session_timeout")
_ROUTE = ("realm", "peers", "accounting_peers", "name", "any_member", "balance")
_REALMS = ("allow", "deny")

DEFAULT_AUTH = Listen("127.0.0.1", 1812)
DEFAULT_ACCT = Listen("127.0.0.1", 1813)


@dataclass(frozen=True, slots=True)
class AnpConfig:
    auth: Listen = DEFAULT_AUTH
    acct: Listen = DEFAULT_ACCT
    radsec: Listen | None = None  # RadSec from APs that can do it
    metrics: Listen | None = None
    request_timeout: float = 4.0
    spool: Path = Path("anp-spool.sqlite")
    spool_max_pending: int = DEFAULT_MAX_PENDING
    spool_max_age: float = DEFAULT_MAX_AGE
    activity_db: str | None = None  # where per-AP activity goes (tsunagaru.anp.activity); None: not recorded
    activity_interval: int = 300
    activity_key_file: Path = Path("activity.key")
    node: str = ""  # this ANP's name in the IdP health rows; "" until parsed: the host name
    peer_rows: int = 256
    decoration: Decoration = field(default_factory=Decoration)
    disaster_realms: frozenset[str] = frozenset()  # lower case
    clients: tuple[Client, ...] = ()
    clients_db: str | None = None  # the registry's store: its APs are clients too (tsunagaru.anp.registry_clients)
    clients_secrets: Path | None = None
    clients_poll: float = 10.0
    routes: tuple[StaticRoute, ...] = ()
    allow: tuple[RealmPattern, ...] = ()
    deny: tuple[RealmPattern, ...] = ()
    tls: TlsConfig = field(default_factory=TlsConfig)
    discovery: DiscoveryConfig = field(default_factory=DiscoveryConfig)
    pool: PoolConfig = field(default_factory=PoolConfig)
    warnings: tuple[str, ...] = ()


def load(path: str | Path) -> AnpConfig:
    p = Path(path)
    text = read_text(p)
    return parse(text + included_clients(text, p.parent), base=p.parent)


def included_clients(text: str, base: Path) -> str:
    """The ``[[clients]]`` tables of the files named in ``anp.clients_files``, as TOML text to append.

    The site registry exports its access points to such a file (``tsunagaru sites anp-export``) and
    signals a reload; an included file may hold nothing but ``[[clients]]`` tables, so whoever writes it
    cannot change routes or TLS. A file that does not exist yet adds no clients.
    """
    try:
        names = tomllib.loads(text).get("anp", {}).get("clients_files", [])
    except (tomllib.TOMLDecodeError, AttributeError):
        return ""  # parse() reports the main file's problem
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ConfigError("anp.clients_files", "must be a list of file names")
    parts = []
    for i, name in enumerate(names):
        path = base / name
        try:
            included = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            continue
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"anp.clients_files[{i}]", f"cannot read {path}: {exc}") from None
        try:
            keys = set(tomllib.loads(included))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"anp.clients_files[{i}]", f"{path} is not valid TOML: {exc}") from None
        if keys - {"clients"}:
            raise ConfigError(f"anp.clients_files[{i}]", f"{path} may hold only [[clients]] tables")
        parts.append("\n" + included)
    return "".join(parts)


def parse(text: str, base: Path = Path(".")) -> AnpConfig:
    doc = parse_toml(text)
    check_keys(doc, "", _TOP)
    r = _Reader(base)
    anp = r.table(doc, "anp", _ANP)
    warnings: list[str] = []
    clients = tuple(r.client(c, f"clients[{i}]", warnings) for i, c in enumerate(r.array(doc, "clients")))
    routes = tuple(r.route(c, f"routes[{i}]", warnings) for i, c in enumerate(r.array(doc, "routes")))
    realms = r.table(doc, "realms", _REALMS)
    cfg = AnpConfig(
        auth=r.listen(anp, "anp.listen_auth", "127.0.0.1:1812") or Listen("127.0.0.1", 1812),
        acct=r.listen(anp, "anp.listen_acct", "127.0.0.1:1813") or Listen("127.0.0.1", 1813),
        radsec=r.listen(anp, "anp.listen_radsec", None),
        metrics=r.listen(anp, "anp.metrics", None),
        request_timeout=r.number(anp, "anp.request_timeout", 4.0, lo=0.1, hi=60),
        spool=r.path(anp, "anp.spool", "anp-spool.sqlite"),
        spool_max_pending=int(r.number(anp, "anp.spool_max_pending", DEFAULT_MAX_PENDING, lo=1, hi=100_000_000)),
        spool_max_age=r.number(anp, "anp.spool_max_age", DEFAULT_MAX_AGE, lo=60, hi=90 * 86400),
        activity_db=r.string(anp, "anp.activity_db"),
        activity_interval=int(r.number(anp, "anp.activity_interval", 300, lo=10, hi=3600)),
        activity_key_file=r.path(anp, "anp.activity_key_file", "activity.key"),
        node=_node_name(r.string(anp, "anp.node")),
        peer_rows=int(r.number(anp, "anp.peer_rows", 256, lo=2, hi=10_000)),
        decoration=r.decoration(anp),
        disaster_realms=frozenset(x.lower() for x in r.strings(anp, "anp.disaster_realms")),
        clients=clients,
        clients_db=r.string(anp, "anp.clients_db"),
        clients_secrets=r.opt_path(anp, "anp.clients_secrets"),
        clients_poll=r.number(anp, "anp.clients_poll", 10.0, lo=0.5, hi=60),
        routes=routes,
        allow=tuple(r.pattern(x, f"realms.allow[{i}]") for i, x in enumerate(r.items(realms, "realms.allow"))),
        deny=tuple(r.pattern(x, f"realms.deny[{i}]") for i, x in enumerate(r.items(realms, "realms.deny"))),
        tls=r.tls(r.table(doc, "tls", _TLS)),
        discovery=r.discovery(r.table(doc, "discovery", _DISCOVERY)),
        pool=PoolConfig(int(r.number(anp, "anp.max_peers", 10_000, lo=1, hi=1e6)),
                        r.number(anp, "anp.peer_idle_timeout", 600, lo=0.1, hi=86400),
                        r.number(anp, "anp.peer_give_up", 900, lo=0.1, hi=7 * 86400)),
        warnings=tuple(warnings),
    )
    _check_whole(cfg)
    return cfg


def _node_name(value: str | None) -> str:
    """``anp.node``, or the host name: printable, at most 64 characters (it is a key in the store)."""
    if value is None:
        value = socket.gethostname() or "anp"
    elif not value or len(value) > 64 or not value.isprintable():
        raise ConfigError("anp.node", "must be 1-64 printable characters")
    return value[:64]


def _check_whole(cfg: AnpConfig) -> None:
    """What no single key shows: clients at all, unique names, a sane TTL range, AP roots for RadSec."""
    if not cfg.clients and cfg.clients_db is None:
        raise ConfigError("clients", "no RADIUS clients: add at least one [[clients]] table (or anp.clients_db)")
    if cfg.clients_db is not None and cfg.clients_secrets is None:
        raise ConfigError("anp.clients_secrets", "needed with anp.clients_db: the folder of the APs' secrets "
                          "(file:NAME)")
    seen: dict[str, int] = {}
    for i, client in enumerate(cfg.clients):
        if client.name in seen:
            raise ConfigError(f"clients[{i}].name", f"{client.name!r} is already the name of "
                              f"clients[{seen[client.name]}] (names key rate limits and duplicate detection: "
                              "they must be unique)")
        seen[client.name] = i
    d = cfg.discovery
    if d.ttl_floor > d.ttl_ceiling:
        raise ConfigError("discovery.ttl_floor", f"{d.ttl_floor:g} is above discovery.ttl_ceiling ({d.ttl_ceiling:g})")
    if cfg.radsec is not None and not cfg.tls.ap_roots:
        raise ConfigError("tls.ap_roots", "anp.listen_radsec needs the CAs of the access points (tls.ap_roots); the "
                          "federation roots are never used for APs")
    if cfg.tls.ap_crls and not cfg.tls.ap_roots:
        raise ConfigError("tls.ap_crls", "needs tls.ap_roots")


class _Reader(TomlReader):
    @staticmethod
    def table(parent: dict[str, Any], key: str, known: tuple[str, ...]) -> dict[str, Any]:
        value = parent.get(key, {})
        if not isinstance(value, dict):
            raise ConfigError(key, "must be a table")
        check_keys(value, key, known)
        return value

    @staticmethod
    def array(parent: dict[str, Any], key: str) -> list[dict[str, Any]]:
        value = parent.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise ConfigError(key, f"must be an array of tables ([[{key}]])")
        for i, item in enumerate(value):
            check_keys(item, f"{key}[{i}]", _CLIENT if key == "clients" else _ROUTE)
        return value

    def path(self, parent: dict[str, Any], key: str, default: str) -> Path:
        return self.resolve(self.string(parent, key, default) or default)

    def opt_path(self, parent: dict[str, Any], key: str) -> Path | None:
        value = self.string(parent, key)
        return None if value is None else self.path(parent, key, value)

    def listen(self, parent: dict[str, Any], key: str, default: str | None) -> Listen | None:
        value = self.string(parent, key, default)
        if value is None:
            return None
        return hostport(value, key, default_port=0)

    def client(self, c: dict[str, Any], key: str, warnings: list[str]) -> Client:
        name = self.required(c, f"{key}.name")
        net_text = self.required(c, f"{key}.network")
        try:
            network = ipaddress.ip_network(net_text, strict=False)
        except ValueError:
            raise ConfigError(f"{key}.network", f"{net_text!r} is not an IP address or CIDR") from None
        secret = self.required(c, f"{key}.secret")
        require_ma = self.boolean(c, f"{key}.require_message_authenticator", True)
        if not require_ma:
            warnings.append(f"{key} ({name}): Message-Authenticator not required - open to BlastRADIUS "
                            "(CVE-2024-3596); upgrade the access point and remove this override")
        pattern = self.string(c, f"{key}.nas_identifier")
        try:
            nas_re = re.compile(pattern) if pattern else None
        except re.error as exc:
            raise ConfigError(f"{key}.nas_identifier", f"bad regular expression: {exc}") from None
        cert_name = self.string(c, f"{key}.certificate_name")
        return Client(name, network, secret.encode(), require_ma, nas_re,
                      self.number(c, f"{key}.rate", 200.0, lo=1, hi=1e6),
                      int(self.number(c, f"{key}.burst", 400, lo=1, hi=1e7)), self.string(c, f"{key}.site"),
                      self.location(c, key), cert_name.lower() if cert_name else None,
                      self.disaster_until(c, f"{key}.disaster_until"),
                      self.disaster_session_timeout(c, f"{key}.disaster_session_timeout"))

    def disaster_until(self, c: dict[str, Any], key: str) -> float | None:
        """Epoch seconds (an integer, UTC) chosen over ISO-8601: no time zone to get wrong, one comparison."""
        return None if c.get("disaster_until") is None else self.number(c, key, 0, lo=0, hi=2**40)

    def disaster_session_timeout(self, c: dict[str, Any], key: str) -> int | None:
        """Seconds (1 min to 72 h, the longest incident); applied only while ``disaster_until`` is ahead."""
        if c.get("disaster_session_timeout") is None:
            return None
        return int(self.number(c, key, 0, lo=60, hi=72 * 3600))

    def location(self, c: dict[str, Any], key: str) -> tuple[bytes, bytes | None] | None:
        info = self.hex(c, f"{key}.location_information")
        data = self.hex(c, f"{key}.location_data")
        if data is not None and info is None:
            raise ConfigError(f"{key}.location_data", "needs location_information (RFC 5580 4.3 refers to it)")
        return None if info is None else (info, data)

    def hex(self, c: dict[str, Any], key: str) -> bytes | None:
        text = self.string(c, key)
        if text is None:
            return None
        try:
            value = bytes.fromhex(text)
        except ValueError:
            raise ConfigError(key, "must be hexadecimal octets (the RFC 5580 encoding)") from None
        if not 0 < len(value) <= 253:
            raise ConfigError(key, "must be 1 to 253 octets")
        return value

    def route(self, c: dict[str, Any], key: str, warnings: list[str]) -> StaticRoute:
        pattern = self.pattern(self.required(c, f"{key}.realm"), f"{key}.realm")
        peers = self.peers(c, f"{key}.peers")
        if not peers:
            raise ConfigError(f"{key}.peers", "needs at least one host:port")
        acct = self.peers(c, f"{key}.accounting_peers")
        any_member = self.boolean(c, f"{key}.any_member", False)
        for field_name, group in (("peers", peers), ("accounting_peers", acct)):
            for i, peer in enumerate(group):
                if peer.name is None and not any_member:
                    raise ConfigError(f"{key}.{field_name}[{i}]", f"'{peer.host}:{peer.port}' has no certificate "
                                      "name: write host:port/name (the name the IdP's certificate carries), or "
                                      "set any_member = true to accept any federation member for this route")
        if any_member and any(p.name is None for p in (*peers, *acct)):
            warnings.append(f"{key} ({pattern.text}): any_member = true - any federation member is accepted as "
                            "this route's identity provider; name the certificate (host:port/name) instead")
        balance = self.string(c, f"{key}.balance") or "failover"
        if balance not in ("failover", "spread"):
            raise ConfigError(f"{key}.balance", f"{balance!r} is neither \"failover\" nor \"spread\"")
        return StaticRoute(pattern, peers, self.string(c, f"{key}.name") or pattern.text, acct,
                           spread=balance == "spread")

    def peers(self, c: dict[str, Any], key: str) -> tuple[PeerAddress, ...]:
        out = []
        for i, item in enumerate(self.items(c, key)):
            if not isinstance(item, str):
                raise ConfigError(f"{key}[{i}]", "must be a string host:port[/name]")
            address, _, name = item.partition("/")
            hp = hostport(address, f"{key}[{i}]", default_port=2083)
            out.append(PeerAddress(hp.host, hp.port, name or None))
        return tuple(out)

    @staticmethod
    def pattern(value: Any, key: str) -> RealmPattern:
        if not isinstance(value, str):
            raise ConfigError(key, "must be a string")
        try:
            return RealmPattern.parse(value)
        except (ValueError, re.error) as exc:
            raise ConfigError(key, str(exc)) from None

    def decoration(self, anp: dict[str, Any]) -> Decoration:
        wbaid = self.wbaid(anp, "anp.wbaid")
        return Decoration(wbaid, self.string(anp, "anp.offered_service"), self.boolean(anp, "anp.request_cui", True))

    def tls(self, t: dict[str, Any]) -> TlsConfig:
        return TlsConfig(self.opt_path(t, "tls.certificate"), self.opt_path(t, "tls.key"),
                         self.paths(t, "tls.roots"), self.paths(t, "tls.crls"), self.paths(t, "tls.ap_roots"),
                         self.opt_path(t, "tls.ap_certificate"), self.opt_path(t, "tls.ap_key"),
                         self.paths(t, "tls.ap_crls"), self.boolean(t, "tls.require_crl", False))

    def discovery(self, d: dict[str, Any]) -> DiscoveryConfig:
        servers = tuple(hostport(x, f"discovery.nameservers[{i}]", 53)
                        for i, x in enumerate(self.strings(d, "discovery.nameservers")))
        return DiscoveryConfig(
            self.boolean(d, "discovery.enabled", True), servers, self.opt_path(d, "discovery.zone_file"),
            self.number(d, "discovery.ttl_floor", 60, lo=0, hi=86400),
            self.number(d, "discovery.ttl_ceiling", 86400, lo=1, hi=7 * 86400),
            self.number(d, "discovery.negative_ttl", 300, lo=0, hi=86400),
            self.number(d, "discovery.timeout", 0.8, lo=0.05, hi=30),
            self.boolean(d, "discovery.require_nai_realm", False),
        )
