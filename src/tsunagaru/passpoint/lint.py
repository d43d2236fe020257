"""A linter for any hostapd.conf (ours or anyone's): the Passpoint mistakes that fail silently (the SSID
is visible, phones never join) and the ones that stop hostapd. Rules and their sources: :mod:`.lint_rules`.

Parsing follows hostapd 2.10's: ``#`` in the first column starts a comment, an empty line is skipped, any
other line (even one of spaces) must be ``key=value`` with nothing trimmed but the ``\n``; the first key
opens the first BSS and ``bss=`` each further one. Bounded: at most :data:`MAX_LINES` lines are read (the
report is marked partial beyond). Values a fleet repeats (RCOIs, NAI realms) are parsed once and remembered.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from tsunagaru.passpoint.anqp import AnqpError, check_mac, parse_lang_text
from tsunagaru.passpoint.diagnostics import Report
from tsunagaru.passpoint.hostapd_keys import KNOWN_KEYS
from tsunagaru.passpoint.lint_rules import RULES
from tsunagaru.passpoint.model import DISASTER_SSID, MIN_SECRET_LENGTH
from tsunagaru.passpoint.nai_realm import NaiRealmError, method_problems, parse_nai_realm
from tsunagaru.passpoint.rcoi import OpenRoamingRcoi, Rcoi, RcoiError, is_openroaming, parse_rcoi
from tsunagaru.passpoint.venues import venue_known

MAX_LINES = 20_000
WEAK_SECRETS = frozenset({"testing123", "secret", "radsec", "changeme", "change-me", "password", "radius"})
PASSPOINT_KEYS = ("roaming_consortium", "nai_realm", "domain_name", "anqp_3gpp_cell_net")
_WAN = re.compile(r"^[0-9a-fA-F]{2}:\d+:\d+:\d+:\d+:\d+$")
_CAPAB = re.compile(r"^\d{1,3}:\d{1,5}:[012]$")
_CELL = re.compile(r"^\d{3},\d{2,3}(;\d{3},\d{2,3})*$")


_NONE: list[tuple[int, str]] = []


@dataclass(slots=True)
class Bss:
    index: int
    name: str
    line: int
    by_key: dict[str, list[tuple[int, str]]] = field(default_factory=dict)

    def all(self, key: str) -> list[tuple[int, str]]:
        return self.by_key.get(key, _NONE)

    def get(self, key: str) -> tuple[int, str] | None:
        found = self.by_key.get(key)
        return found[-1] if found else None  # hostapd: the last assignment wins

    def value(self, key: str, default: str = "") -> str:
        found = self.by_key.get(key)
        return found[-1][1] if found else default

    def line_of(self, key: str) -> int:
        found = self.get(key)
        return found[0] if found else self.line


def parse_bsses(text: str, report: Report) -> list[Bss]:
    """The BSSes of a hostapd.conf, read as hostapd reads it: a line is a comment only when ``#`` is its
    first character, an empty line is skipped, anything else needs ``=`` (even a line of spaces)."""
    lines = text.split("\n")  # hostapd reads with fgets: only \n ends a line
    if len(lines) > MAX_LINES:
        report.partial = True
        del lines[MAX_LINES:]
    bsses: list[Bss] = []
    by_key: dict[str, list[tuple[int, str]]] = {}
    for number, line in enumerate(lines, 1):
        if not line or line[0] == "#":
            continue
        key, sep, value = line.partition("=")
        if not sep:
            report.add(RULES["PP002"], number, f"{line[:40]!r} is not key=value")
            continue
        if key not in KNOWN_KEYS:
            report.add(RULES["PP001"], number, f"unknown key {key[:40]!r}: hostapd 2.10 refuses the file")
            continue
        if key == "bss" or not bsses:
            bsses.append(Bss(len(bsses), value if key in ("bss", "interface") else "", number))
            by_key = bsses[-1].by_key
        found = by_key.get(key)
        if found is None:
            by_key[key] = [(number, value)]
        else:
            found.append((number, value))
    return bsses


@functools.lru_cache(maxsize=4096)
def _rcoi(value: str) -> Rcoi | str:
    """parse_rcoi, remembered: a fleet's files repeat the operator's values (an error comes back as text)."""
    try:
        return parse_rcoi(value)
    except RcoiError as exc:
        return exc.problem


@functools.lru_cache(maxsize=4096)
def _realm(value: str) -> tuple[tuple[str, ...], bool] | str:
    """(problems of its EAP methods, has methods) of one nai_realm value, or the syntax error as text."""
    try:
        entry = parse_nai_realm(value)
    except NaiRealmError as exc:
        return str(exc)
    return tuple(p for offer in entry.methods for p in method_problems(offer)), bool(entry.methods)


@functools.lru_cache(maxsize=4096)
def _lang_problem(value: str) -> str:
    """Why a ``LANG:text`` value (plain or ``P"..."``) is not one, or "" when it is."""
    text = value[2:-1] if value.startswith('P"') and value.endswith('"') else value
    try:
        parse_lang_text(text)
    except AnqpError as exc:
        return str(exc)
    return ""


def lint_hostapd(text: str) -> Report:
    """Every finding in one hostapd.conf, in line order."""
    report = Report()
    bsses = parse_bsses(text, report)
    for bss in bsses:
        for check in BSS_CHECKS:
            check(bss, report)
    for file_check in FILE_CHECKS:
        file_check(bsses, report)
    report.findings.sort(key=lambda f: (f.line, f.code))
    return report


def _is_passpoint(bss: Bss) -> bool:
    return bss.value("hs20") == "1" or any(k in bss.by_key for k in PASSPOINT_KEYS)


def _rsn(bss: Bss) -> bool:
    return bss.value("wpa", "0") not in ("", "0")


def _radius(bss: Bss) -> bool:
    return bss.get("auth_server_addr") is not None


def check_switches(bss: Bss, report: Report) -> None:
    data = [bss.by_key[k][0][0] for k in PASSPOINT_KEYS if k in bss.by_key]
    if not data:
        return
    first = min(data)
    if bss.value("interworking") != "1":
        report.add(RULES["PP010"], bss.line_of("interworking") if bss.get("interworking") else first,
                   "Passpoint data is set but interworking is not 1, so no Interworking element is sent", bss.name)
    if bss.value("hs20") != "1":
        report.add(RULES["PP011"], bss.line_of("hs20") if bss.get("hs20") else first,
                   "Passpoint data is set but hs20 is not 1: phones never select this BSS by profile", bss.name)


def check_hs20_security(bss: Bss, report: Report) -> None:
    if bss.value("hs20") != "1" or bss.value("osen") == "1":
        return
    wpa = bss.value("wpa", "0")
    eap = any(m.startswith("WPA-EAP") for m in bss.value("wpa_key_mgmt").split())
    ccmp = "CCMP" in bss.value("rsn_pairwise", bss.value("wpa_pairwise", "")).split()
    if not (bss.value("ieee8021x") == "1" and wpa.isdigit() and int(wpa) & 2 and eap and ccmp):
        report.add(RULES["PP015"], bss.line_of("hs20"), "Hotspot 2.0 needs WPA2-Enterprise with CCMP", bss.name)


def check_rcois(bss: Bss, report: Report) -> None:
    ois = bss.all("roaming_consortium")
    parsed = []
    for number, value in ois:
        oi = _rcoi(value)
        if isinstance(oi, str):
            report.add(RULES["PP012"], number, oi, bss.name)
        else:
            parsed.append((number, oi))
    openroaming = [(i, n) for i, (n, oi) in enumerate(parsed) if is_openroaming(oi)]
    if openroaming and all(i >= 3 for i, _ in openroaming):
        report.add(RULES["PP013"], openroaming[0][1], "the OpenRoaming RCOI is the "
                   f"{openroaming[0][0] + 1}th roaming_consortium: only the first three reach beacons", bss.name)
    elif not openroaming and bss.value("hs20") == "1":
        line = ois[0][0] if ois else bss.line_of("hs20")
        report.add(RULES["PP014"], line, "no OpenRoaming RCOI: OpenRoaming profiles will not match", bss.name)
    elif any(isinstance(oi, OpenRoamingRcoi) for _, oi in parsed) and not any(
            isinstance(oi, OpenRoamingRcoi) for _, oi in parsed[:3]):
        report.add(RULES["PP013"], next(n for n, oi in parsed if isinstance(oi, OpenRoamingRcoi)),
                   "the 5-octet OpenRoaming RCOI is not among the first three", bss.name)


def check_realms(bss: Bss, report: Report) -> None:
    if not _is_passpoint(bss):
        return
    realms = bss.all("nai_realm")
    with_methods = 0
    for number, value in realms:
        checked = _realm(value)
        if isinstance(checked, str):
            report.add(RULES["PP021"], number, checked, bss.name)
            continue
        problems, has_methods = checked
        with_methods += has_methods
        for problem in problems:
            report.add(RULES["PP022"], number, problem, bss.name)
    if not with_methods:
        report.add(RULES["PP020"], realms[0][0] if realms else bss.line,
                   "no nai_realm lists its EAP methods: realm-matching phones never associate", bss.name)
    if not bss.value("domain_name").strip():
        report.add(RULES["PP023"], bss.line, "no domain_name: phones cannot tell home from roaming", bss.name)


def check_venue(bss: Bss, report: Report) -> None:
    group, kind = bss.get("venue_group"), bss.get("venue_type")
    if group or kind:
        g, t = (group[1] if group else "0"), (kind[1] if kind else "0")
        if not (g.isdigit() and t.isdigit() and venue_known(int(g), int(t))):
            report.add(RULES["PP031"], (group or kind or (0, ""))[0],
                       f"venue group {g} type {t} is not in the IEEE 802.11u table", bss.name)
    names = bss.all("venue_name")
    for key in ("venue_name", "hs20_oper_friendly_name"):
        for number, value in bss.all(key):
            problem = _lang_problem(value)
            if problem:
                report.add(RULES["PP032"], number, f"{key}: {problem}", bss.name)
    if names and not (group and kind):
        report.add(RULES["PP035"], names[0][0], "venue_name without venue_group/venue_type", bss.name)
    for number, value in bss.all("venue_url"):
        index, _, url = value.partition(":")
        if not url.startswith("https://"):
            report.add(RULES["PP033"], number, f"venue URL {url[:60]!r} is not https", bss.name)
        if not index.isdigit() or not 1 <= int(index) <= len(names):
            report.add(RULES["PP034"], number, f"venue_url number {index!r} names none of the "
                       f"{len(names)} venue_name lines", bss.name)


def check_values(bss: Bss, report: Report) -> None:
    checks: tuple[tuple[str, Callable[[str], bool], str], ...] = (
        ("hessid", _mac_ok, "a MAC address (lower case)"),
        ("ipaddr_type_availability", lambda v: re.fullmatch(r"[0-9a-fA-F]{2}", v) is not None, "one hex octet"),
        ("hs20_wan_metrics", lambda v: _WAN.match(v) is not None, "<info hex>:<dl>:<ul>:<dl load>:<ul load>:<lmd>"),
        ("hs20_conn_capab", lambda v: _CAPAB.match(v) is not None, "<protocol>:<port>:<0|1|2>"),
        ("anqp_3gpp_cell_net", lambda v: _CELL.match(v) is not None, "<MCC>,<MNC>[;...]"),
    )
    for key, ok, shape in checks:
        for number, value in bss.all(key):
            if not ok(value):
                report.add(RULES["PP041"], number, f"{key}={value[:40]} is not {shape}", bss.name)
    if bss.value("asra") == "1" and _rsn(bss):
        report.add(RULES["PP030"], bss.line_of("asra"), "asra=1 on an RSN BSS", bss.name)
    if bss.value("proxy_arp") == "1" and not bss.value("bridge"):
        report.add(RULES["PP090"], bss.line_of("proxy_arp"), "proxy_arp=1 needs bridge=", bss.name)


def _mac_ok(value: str) -> bool:
    try:
        check_mac(value.lower(), "HESSID")
    except AnqpError:
        return False
    return True


def check_radius(bss: Bss, report: Report) -> None:
    if not _radius(bss) or bss.value("ieee8021x") != "1":
        return
    if bss.value("radius_request_cui") != "1":
        report.add(RULES["PP050"], bss.line_of("radius_request_cui"), "radius_request_cui=1 is missing", bss.name)
    names = [(n, v) for n, v in bss.all("radius_auth_req_attr") if v.split(":", 1)[0] == "126"]
    if not names:
        report.add(RULES["PP051"], bss.line_of("auth_server_addr"),
                   "no Operator-Name (radius_auth_req_attr=126:s:4<WBAID>)", bss.name)
    for number, value in names:
        if not value.startswith("126:s:4"):
            report.add(RULES["PP051"], number, "Operator-Name must be 126:s:4<WBAID> (namespace 4 = WBAID)", bss.name)
    if bss.get("radius_das_port") and bss.value("radius_das_port") != "0" \
            and bss.value("radius_das_require_message_authenticator") != "1":
        report.add(RULES["PP052"], bss.line_of("radius_das_port"),
                   "radius_das_require_message_authenticator=1 is missing", bss.name)
    _check_secrets(bss, report)
    if not bss.value("nas_identifier"):
        report.add(RULES["PP081"], bss.line_of("auth_server_addr"), "no nas_identifier for this BSS", bss.name)


def _check_secrets(bss: Bss, report: Report) -> None:
    servers = [("auth_server_addr", "auth_server_shared_secret"), ("acct_server_addr", "acct_server_shared_secret")]
    for addr_key, secret_key in servers:
        addrs = bss.all(addr_key)
        secrets = bss.all(secret_key)
        for (_, addr), (number, secret) in zip(addrs, secrets, strict=False):
            if addr.startswith("127.") or addr == "::1":
                continue
            if secret.lower() in WEAK_SECRETS or len(secret) < MIN_SECRET_LENGTH:
                report.add(RULES["PP053"], number, f"{secret_key} is a default or shorter than "
                           f"{MIN_SECRET_LENGTH} characters for {addr}", bss.name)


def check_pmf(bss: Bss, report: Report) -> None:
    mgmt = bss.value("wpa_key_mgmt").split()
    if not _rsn(bss) or not mgmt:
        return
    wpa3 = [m for m in mgmt if m.endswith("SHA256") or m in ("SAE", "OWE") or m.startswith("WPA-EAP-SUITE-B")]
    pmf = bss.value("ieee80211w", "0")
    if wpa3 and pmf not in ("1", "2"):
        report.add(RULES["PP060"], bss.line_of("wpa_key_mgmt"), f"{' '.join(wpa3)} with ieee80211w={pmf}", bss.name)
    elif wpa3 and len(wpa3) == len(mgmt) and pmf != "2":
        report.add(RULES["PP060"], bss.line_of("ieee80211w"), "WPA3-only needs ieee80211w=2", bss.name)


def check_disaster(bss: Bss, report: Report) -> None:
    if bss.value("ssid").strip('"') != DISASTER_SSID:
        return
    mgmt = bss.value("wpa_key_mgmt").split()
    if bss.value("ieee8021x") == "1" or (_rsn(bss) and mgmt != ["OWE"]):
        report.add(RULES["PP070"], bss.line_of("ssid"), f"{DISASTER_SSID} must be open (or OWE)", bss.name)
    if bss.index == 0:
        report.add(RULES["PP071"], bss.line_of("ssid"), f"{DISASTER_SSID} is the first BSS of the radio", bss.name)
    if bss.value("ap_isolate") != "1":
        report.add(RULES["PP072"], bss.line_of("ssid"), "clients of the disaster SSID can reach each other", bss.name)


def check_hessids(bsses: list[Bss], report: Report) -> None:
    by_ssid: dict[str, list[Bss]] = {}
    for bss in bsses:
        if bss.value("interworking") == "1" and bss.value("ssid"):
            by_ssid.setdefault(bss.value("ssid"), []).append(bss)
    for group in by_ssid.values():
        values = {b.value("hessid").lower() for b in group}
        if len(group) > 1 and len(values) > 1:
            for bss in group[1:]:
                report.add(RULES["PP040"], bss.line_of("hessid"),
                           f"HESSID {bss.value('hessid') or 'missing'} differs from the ESS's first BSS", bss.name)


def check_nas_identifiers(bsses: list[Bss], report: Report) -> None:
    seen: dict[str, str] = {}
    for bss in bsses:
        nas = bss.value("nas_identifier")
        if not nas:
            continue
        if nas in seen:
            report.add(RULES["PP080"], bss.line_of("nas_identifier"),
                       f"nas_identifier {nas!r} is also used by BSS {seen[nas]!r}", bss.name)
        seen.setdefault(nas, bss.name)


BSS_CHECKS: tuple[Callable[[Bss, Report], None], ...] = (
    check_switches, check_hs20_security, check_rcois, check_realms, check_venue, check_values, check_radius,
    check_pmf, check_disaster,
)
FILE_CHECKS: tuple[Callable[[list[Bss], Report], None], ...] = (check_hessids, check_nas_identifiers)
