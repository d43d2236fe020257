"""The configuration reference (docs/config-reference.md), made from the tables the parsers check keys with.

Each file's parser (``anp/config.py``, ``idp/config.py``, ``web/config.py``) refuses keys that are not in
its key tables (``_ANP``, ``_IDP_KEYS``, ...); this module pairs every key of those tables with its type,
default and meaning. :func:`render` refuses to write the reference when a parser table and the entries
here differ (a key added to a parser without a line here, or a line for a key the parser dropped), so
``tsunagaru config reference --check`` and the test that runs it fail when the doc is stale. The test
also checks each default against the parser: a file with ``key = DEFAULT`` parses to the same settings
as the file without the key. The agent takes no file: its flags are read from its argparse parser.

    tsunagaru config reference --output docs/config-reference.md
    tsunagaru config reference --check docs/config-reference.md   # exit 1 when stale
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tsunagaru.anp import config as anp_config
from tsunagaru.idp import config as idp_config
from tsunagaru.web import config as web_config
from tsunagaru.web.enrol import config as enrol_config

REQUIRED = "required"


@dataclass(frozen=True)
class Key:
    """One key: ``default`` is a TOML literal (checked against the parser), None when optional without
    one, or REQUIRED."""

    name: str
    type: str
    default: str | None
    meaning: str


@dataclass(frozen=True)
class Table:
    header: str  # "[anp]" or "[[clients]]"
    parser_keys: tuple[str, ...]  # the parser's own key table
    keys: tuple[Key, ...]
    note: str = ""


@dataclass(frozen=True)
class ConfigFile:
    title: str
    file: str
    parser: str  # module whose parse() reads it
    intro: str
    tables: tuple[Table, ...]


class StaleReference(ValueError):
    """The entries here and a parser's key table differ."""


def K(name: str, type_: str, default: str | None, meaning: str) -> Key:
    return Key(name, type_, default, meaning)


ADDR, SECS, PATH = "host:port", "number (seconds)", "path"
ANP = ConfigFile("ANP proxy", "anp.toml", "tsunagaru.anp.config", (
    "`tsunagaru anp run --config anp.toml [--workers N]`. Relative paths are relative to the file. SIGHUP "
    "reloads clients, routes, realm lists and decoration; listeners, TLS and discovery need a restart."), (
    Table("[anp]", anp_config._ANP, (
        K("wbaid", "string (WBAID)", None, "our WBAID, e.g. `CITY:JP`: Operator-Name `4CITY:JP` on every request"),
        K("offered_service", "string", None, "WBA-Offered-Service sent to IdPs (e.g. `OpenRoaming Bronze`)"),
        K("request_cui", "boolean", "true", "ask IdPs for a Chargeable-User-Identity when the AP did not"),
        K("listen_auth", ADDR, '"127.0.0.1:1812"', "RADIUS/UDP authentication from access points"),
        K("listen_acct", ADDR, '"127.0.0.1:1813"', "RADIUS/UDP accounting from access points"),
        K("listen_radsec", ADDR, None, "RadSec from access points (needs `tls.ap_roots`)"),
        K("metrics", ADDR, None, "Prometheus `/metrics`"),
        K("request_timeout", SECS, "4.0", "per request, across failover (0.1-60); then Reject-Reason 22"),
        K("spool", PATH, '"anp-spool.sqlite"', "durable accounting queue (one per worker with --workers)"),
        K("spool_max_pending", "integer", "1000000", "records waiting to be forwarded, per spool; past it a "
          "record is not stored nor acknowledged (the AP retransmits)"),
        K("spool_max_age", SECS, "604800", "a record not forwarded this long after it arrived is deleted, "
          "counted (tsunagaru_anp_accounting_expired_total) and logged"),
        K("max_peers", "integer", "10000", "RadSec peers (from discovery) the pool keeps state for"),
        K("peer_idle_timeout", SECS, "600", "a peer no request used for this long is forgotten"),
        K("peer_give_up", SECS, "900", "a discovered peer down this long is given up (found again on demand)"),
        K("clients_files", "list of paths", "[]", "more `[[clients]]` from files others write (the registry "
          "export); such a file may hold only `[[clients]]`; a missing file adds none"),
        K("clients_db", "SQLAlchemy URL", None, "the registry's store: its active APs become clients too, followed "
          "live (NOTIFY, else polling)"),
        K("clients_secrets", PATH, None, "the folder of the APs' secret references (`file:NAME`)"),
        K("clients_poll", SECS, "10", "seconds between checks of the registry's change counter (0.5-60)"),
        K("activity_db", "SQLAlchemy URL", None, "per-AP activity for the dashboard (the registry's store)"),
        K("activity_interval", "integer (seconds)", "300", "seconds per activity record (10-3600)"),
        K("activity_key_file", PATH, '"activity.key"', "key of the hashed user/session ids (made 0600)"),
        K("node", "string", None, "this ANP's name in the IdP health rows published with the activity "
          "(1-64 printable characters; default: the host name; pre-fork workers add `/wN`)"),
        K("peer_rows", "integer", "256", "(realm, RadSec peer) rows this node publishes per interval (2-10000); "
          'beyond, one row of realm "other"'),
        K("disaster_realms", "list of strings", "[]", "the disaster credential's realms: accepted only from "
          "clients with `disaster_until` in the future, else Reject-Reason 42"),
    )),
    Table("[tls]", anp_config._TLS, (
        K("certificate", PATH, None, "our federation member certificate + chain (clientAuth), towards IdPs"),
        K("key", PATH, None, "its private key"),
        K("roots", "list of paths", "[]", "every federation root trusted, side by side"),
        K("crls", "list of paths", "[]", "CRLs; one that is missing, unreadable or out of date refuses peers"),
        K("require_crl", "boolean", "false", "refuse a peer whose issuer has no CRL here at all"),
        K("ap_roots", "list of paths", "[]", "CAs of RadSec access points (required with `listen_radsec`; "
          "never the federation roots)"),
        K("ap_crls", "list of paths", "[]", "CRLs of the AP CAs"),
        K("ap_certificate", PATH, None, "presented to RadSec access points (serverAuth; default: certificate)"),
        K("ap_key", PATH, None, "its private key"),
    )),
    Table("[discovery]", anp_config._DISCOVERY, (
        K("enabled", "boolean", "true", "RFC 7585 discovery (off: static routes only)"),
        K("nameservers", "list of host[:port]", "[]", "DNS servers (default: the system resolver)"),
        K("zone_file", PATH, None, "an offline zone instead of DNS (labs, the demo)"),
        K("ttl_floor", SECS, "60", "shortest time a route is cached"),
        K("ttl_ceiling", SECS, "86400", "longest time a route is cached"),
        K("negative_ttl", SECS, "300", "how long \"no such realm\" is cached when DNS gave no SOA"),
        K("timeout", SECS, "0.8", "per DNS lookup: an undiscoverable realm is rejected within 1 s; while "
          "DNS fails, a route that expired within a day is served stale and asked for again every 30 s"),
        K("require_nai_realm", "boolean", "false", "a discovered peer's certificate must name the realm"),
    )),
    Table("[[clients]]", anp_config._CLIENT, (
        K("name", "string", REQUIRED, "unique; keys rate limits and duplicate detection"),
        K("network", "IP or CIDR", REQUIRED, "the APs' addresses; the most specific network wins"),
        K("secret", "string", REQUIRED, "the RADIUS shared secret"),
        K("require_message_authenticator", "boolean", "true", "BlastRADIUS (CVE-2024-3596); false only for "
          "old APs (warned at start)"),
        K("nas_identifier", "regular expression", None, "NAS-Identifier must match it in full"),
        K("rate", "number (per second)", "200", "requests per second (token bucket)"),
        K("burst", "integer", "400", "the bucket's size"),
        K("location_information", "hex", None, "RFC 5580 Location-Information added to requests"),
        K("location_data", "hex", None, "RFC 5580 Location-Data (needs location_information)"),
        K("site", "string", None, "the site registry's key for these APs (carried along)"),
        K("certificate_name", "string", None, "RadSec APs: the SAN dNSName that makes an AP this client"),
        K("disaster_until", "number (epoch seconds)", None, "end of the active incident these APs are in"),
        K("disaster_session_timeout", "integer (seconds)", None, "until disaster_until, an Access-Accept's "
          "Session-Timeout is at least this (cut at disaster_until; the incident's policy, from the export)"),
    )),
    Table("[[routes]]", anp_config._ROUTE, (
        K("realm", "realm pattern", REQUIRED, "exact, `*.suffix` or `~regex`; static routes win over discovery"),
        K("peers", "list of host:port/name", REQUIRED, "IdPs in failover order; name: the certificate's name"),
        K("accounting_peers", "list of host:port/name", "[]", "accounting elsewhere (default: peers)"),
        K("name", "string", None, "for logs (default: the realm pattern)"),
        K("any_member", "boolean", "false", "accept any federation member without a name (warned at start)"),
        K("balance", "failover / spread", '"failover"', "spread: the peers are equal IdP nodes of one realm; new "
          "conversations are spread over them, a request carrying State goes back to the node named in it"),
    )),
    Table("[realms]", anp_config._REALMS, (
        K("allow", "list of realm patterns", "[]", "empty: every realm"),
        K("deny", "list of realm patterns", "[]", "refused before routing"),
    )),
))

IDP = ConfigFile("IdP", "idp.toml", "tsunagaru.idp.config", (
    "`tsunagaru idp serve --config idp.toml [--workers N]`. At least one of `[radsec]` and `[udp]`."), (
    Table("[idp]", tuple(sorted(idp_config._IDP_KEYS)), (
        K("realms", "list of strings", REQUIRED, "realms this IdP answers for; others get Reject-Reason 11"),
        K("db", "SQLAlchemy URL", REQUIRED, "the user store (PostgreSQL in production)"),
        K("eap_certificate", PATH, REQUIRED, "EAP server certificate chain, leaf first"),
        K("eap_key", PATH, REQUIRED, "its private key"),
        K("user_ca", PATH, None, "EAP-TLS client certificates must chain to it (required with `tls`)"),
        K("cui_key_file", PATH, REQUIRED, "secret (16+ octets) for Chargeable-User-Identity"),
        K("wbaid", "string (WBAID)", None, "sent as WBA-Identity-Provider"),
        K("session_timeout", "integer (seconds)", "86400", "Session-Timeout in Access-Accepts (0-7 days)"),
        K("methods", "list of tls/ttls/peap/mschapv2", '["ttls", "peap", "tls"]', "EAP methods offered, in "
          "this order"),
        K("fragment_size", "integer", "1398", "TLS data per EAP-TLS/TTLS/PEAP packet, at most (64-3800, so that "
          "an Access-Challenge fits 4096 octets); a smaller Framed-MTU from the NAS lowers it"),
        K("tls13_tunnels", "boolean", "false", "TTLS/PEAP may use TLS 1.3 (RFC 9427)"),
        K("eap_tls13", "boolean", "true", "EAP-TLS may use TLS 1.3 (RFC 9190)"),
        K("cache_ttl", SECS, "30", "seconds a user/certificate lookup is trusted (max 60)"),
        K("max_sessions", "integer", "10000", "EAP conversations in progress at once"),
        K("metrics", ADDR, None, "Prometheus `/metrics`"),
        K("log_key_file", PATH, '"log.key"', "key for redacted identities in logs (made 0600)"),
        K("node_id", "string", None, "several nodes for one realm: this one's name, carried in State (the ANP "
          "routes a conversation back to it)"),
    )),
    Table("[radsec]", tuple(sorted(idp_config._RADSEC_KEYS)), (
        K("listen", ADDR, REQUIRED, "RadSec from federation peers"),
        K("certificate", PATH, REQUIRED, "our federation member certificate"),
        K("key", PATH, REQUIRED, "its private key"),
        K("roots", "list of paths", REQUIRED, "federation roots client certificates must chain to"),
        K("crls", "list of paths", "[]", "CRLs"),
    )),
    Table("[udp]", tuple(sorted(idp_config._UDP_KEYS)), (
        K("listen", ADDR, REQUIRED, "RADIUS/UDP for local NASes and tests"),
        K("secret", "string", REQUIRED, "the shared secret"),
        K("allowed", "IP network", '"127.0.0.0/8"', "clients allowed to use it"),
    )),
))

WEB = ConfigFile("Web app", "web.toml", "tsunagaru.web.config", (
    "`tsunagaru web serve --config web.toml`: dashboard, enrolment portal and API, behind a reverse proxy "
    "that terminates TLS (see docs/scale-out.md)."), (
    Table("[web]", tuple(sorted(web_config._WEB_KEYS)), (
        K("listen", ADDR, '"127.0.0.1:8080"', "HTTP listener (keep it on loopback behind the proxy)"),
        K("db", "SQLAlchemy URL", REQUIRED, "the same store as the registry"),
        K("public_url", "URL", '"http://127.0.0.1:8080"', "what users see; https turns on Secure cookies, HSTS"),
        K("secret_key_file", PATH, '"web-secret.key"', "CSRF key (made 0600 when missing)"),
        K("max_body", "integer (octets)", "1048576", "larger requests get 413"),
        K("session_hours", "number", "12", "web session lifetime"),
        K("token_days", "number", "90", "API token lifetime"),
        K("ap_poll_write_every", SECS, "90", "seconds between writes of an AP's last-poll time"),
        K("login_attempts", "integer", "5", "failed logins per user and per address within login_window"),
        K("login_window", SECS, "300", "the window of login_attempts"),
        K("passpoint", PATH, None, "`[operator]` + `[secrets]` of a Passpoint description (AP configs)"),
        K("secrets_dir", PATH, None, "files named by APs' `secret_ref = \"file:NAME\"`"),
        K("tile_url", "URL template", None, "base map tiles `.../{z}/{x}/{y}.png` (none by default); its origin "
          "is added to the Content-Security-Policy's img-src"),
        K("trusted_proxies", "list of IP addresses/networks", "[]", "reverse proxies whose X-Forwarded-For and "
          "X-Forwarded-Proto are believed (the login limit per address then counts the client's address)"),
    )),
    Table("[enrol]", enrol_config.ENROL_KEYS, (
        K("realm", "string", REQUIRED, "the IdP realm the portal issues device credentials for"),
        K("ca_file", PATH, REQUIRED, "the CA chain devices trust for the EAP server (never its certificate)"),
        K("server_names", "list of strings", "[]", "names the EAP server's certificate carries (pinned)"),
        K("user_ca_dir", PATH, None, "user-ca.pem + user-ca.key there: EAP-TLS is then offered"),
        K("signing_dir", PATH, '"enrol-signing"', "profile-signing certificate + key (made once if missing)"),
        K("idp_db", "SQLAlchemy URL", None, "where the IdP reads device credentials (default: web.db)"),
        K("code_minutes", "number", "10", "life of a sign-up code"),
        K("code_attempts", "integer", "5", "wrong codes before the code is spent"),
        K("codes_per_email", "integer", "5", "codes per address per rate_window_minutes"),
        K("codes_per_source", "integer", "20", "codes per client address per rate_window_minutes"),
        K("rate_window_minutes", "number", "60", "the window of the two limits above"),
        K("session_hours", "number", "12", "a signed-in person's session"),
        K("profile_link_minutes", "number", "15", "life of a tokenised profile link"),
        K("device_days", "integer", "365", "life of a device credential"),
        K("reminder_days", "integer", "14", "renewal reminder this many days before the end"),
        K("grace_days", "number", "7", "a renewed credential's predecessor works this long"),
        K("max_devices", "integer", "10", "devices per person"),
        K("smtp", "table", REQUIRED, "`[enrol.smtp]`, below"),
    )),
    Table("[enrol.smtp]", enrol_config.SMTP_KEYS, (
        K("host", "string", '"127.0.0.1"', "the mail server"),
        K("port", "integer", "25", "its port"),
        K("sender", "string (one address)", REQUIRED, "From: of the sign-up mails"),
        K("starttls", "boolean", "false", "STARTTLS, the certificate checked against the system's CAs"),
        K("username", "string", None, "optional; then password_file is required"),
        K("password_file", PATH, None, "its first line; mode 0600 (refused when others may read it)"),
        K("timeout", SECS, "10", "per SMTP session"),
    )),
    Table("[jobs]", web_config._JOB_KEYS, (
        K("run", "boolean", "true", "periodic jobs in this process; false on a second replica"),
        K("sweep_minutes", "number", "60", "renewal sweep and reminder mails (with [enrol])"),
        K("usage_minutes", "number", "10", "hourly usage aggregates of the last usage_hours hours"),
        K("usage_hours", "integer", "3", "see usage_minutes"),
        K("purge_hours", "number", "24", "retention purge"),
        K("retention_days", "number", "90", "accounting sessions (hashed ids); the hourly aggregates stay"),
        K("activity_retention_days", "number", "7", "per-interval activity (at most retention_days)"),
        K("alerts_minutes", "number", "1", "health rules -> stored alert history"),
    )),
))

FILES = (ANP, IDP, WEB)


def check(files: Iterable[ConfigFile] = FILES) -> None:
    """Raise :class:`StaleReference` when an entry list and its parser's key table differ."""
    for f in files:
        for table in f.tables:
            ours = [k.name for k in table.keys]
            missing = sorted(set(table.parser_keys) - set(ours))
            extra = sorted(set(ours) - set(table.parser_keys))
            if missing or extra or len(ours) != len(set(ours)):
                raise StaleReference(f"{f.file} {table.header}: keys the parser reads but the reference lacks: "
                                     f"{missing or 'none'}; keys the parser no longer reads: {extra or 'none'}")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _default(key: Key) -> str:
    if key.default is None:
        return "(none)"
    return "**required**" if key.default == REQUIRED else f"`{key.default}`"


def _agent_rows(parser: argparse.ArgumentParser) -> list[str]:
    rows = []
    for action in parser._actions:
        if not action.option_strings or action.dest == "help":
            continue
        default = "**required**" if action.required else (
            "(none)" if action.default in (None, [], False) else f"`{action.default}`")
        kind = "flag" if action.nargs == 0 else str(getattr(action.type, "__name__", "string"))
        if action.choices:
            kind = " / ".join(str(c) for c in action.choices)
        rows.append(f"| `{action.option_strings[-1]}` | {kind} | {default} | "
                    f"{_cell((action.help or '').replace('%%', '%'))} |")
    return rows


def render(files: Sequence[ConfigFile] = FILES) -> str:
    """The whole reference as Markdown (checked first: a stale entry list raises)."""
    check(files)
    out = ["# Configuration reference", "",
           "Generated by `tsunagaru config reference` from the key tables the parsers use "
           "(`src/tsunagaru/config_reference.py`); do not edit by hand: `tests/test_config_reference.py` fails "
           "when this file is stale. Unknown keys are refused with a did-you-mean; every error names the key.", ""]
    for f in files:
        out += [f"## {f.title}: `{f.file}`", "", f"Parsed by `{f.parser}`. {f.intro}", ""]
        for table in f.tables:
            out += [f"### `{table.header}`", "", "| key | type | default | meaning |", "|---|---|---|---|"]
            out += [f"| `{k.name}` | {_cell(k.type)} | {_cell(_default(k))} | {_cell(k.meaning)} |"
                    for k in table.keys]
            out.append("")
    from tsunagaru.agent.cli import add_arguments

    agent = argparse.ArgumentParser(prog="tsunagaru ap agent")
    add_arguments(agent)
    out += ["## AP agent: `tsunagaru ap agent` flags", "",
            "The agent (stdlib only, on the AP) takes flags, not a file; read from its argparse parser.", "",
            "| flag | type | default | meaning |", "|---|---|---|---|", *_agent_rows(agent), ""]
    return "\n".join(out)


def _main(args: argparse.Namespace) -> int:
    try:
        text = render()
    except StaleReference as exc:
        print(f"config reference: {exc}", file=sys.stderr)
        return 1
    if args.check is not None:
        current = args.check.read_text(encoding="utf-8") if args.check.exists() else ""
        if current != text:
            print(f"{args.check} is stale: run tsunagaru config reference --output {args.check}", file=sys.stderr)
            return 1
        return 0
    if args.output is not None:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def register(subparsers: Any) -> None:
    config = subparsers.add_parser("config", help="configuration files")
    sub = config.add_subparsers(dest="config_command", required=True)
    ref = sub.add_parser("reference", help="write the configuration reference (Markdown) from the parsers' tables")
    group = ref.add_mutually_exclusive_group()
    group.add_argument("--output", type=Path, help="write it here (default: stdout)")
    group.add_argument("--check", type=Path, help="exit 1 when this file differs from what would be written")
    ref.set_defaults(func=_main)
