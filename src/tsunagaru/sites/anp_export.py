"""The ANP's access points from the registry: a generated ``[[clients]]`` file the ANP includes and reloads.

The ANP reads ``anp.clients_files`` (see :func:`tsunagaru.anp.config.included_clients`); this module
writes such a file from the registry: one client per active RADIUS/UDP AP (its source network, its
secret resolved from ``file:NAME`` under a secrets folder, its NAS-Identifier as an exact pattern, its
site, and the site's RFC 5580 civic location). The file holds secrets, so it is written 0600 from its
first byte, atomically (a temporary file renamed over the old one), and only when its content changes;
then the ANP is told to reload (SIGHUP to its pid). ``tsunagaru sites anp-export --watch N`` repeats
this every N seconds, so an AP added in the registry reaches the ANP within N seconds plus a reload,
and a removed or disabled AP is refused from then on. RadSec APs are not listed: the ANP admits
them by their client certificate.

Rendering and the RFC 5580 encoding are pure; :func:`collect` and :func:`export` are the adapters.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from tsunagaru.store.registry_tables import AccessPoint, Municipality, Site

log = logging.getLogger("tsunagaru.sites.anp_export")

NTP_EPOCH = datetime(1900, 1, 1, tzinfo=UTC)
LOCATION_VALID = timedelta(days=365)
# RFC 4776 civic address types used here
CA_LANGUAGE, CA_A1, CA_A2, CA_A6, CA_NAM = 0, 1, 2, 6, 23
CIVIC, ENTITY_RADIUS_CLIENT = 0, 1  # RFC 5580 4.2: Code 0 civic location; Entity 1 = the RADIUS client
MAX_ATTRIBUTE = 253
INCIDENT_RATE, INCIDENT_BURST = 1_000_000, 10_000_000  # the ANP's highest values: no limit in practice


@dataclass(frozen=True)
class ClientEntry:
    name: str
    network: str
    secret: str
    nas_identifier: str | None
    site: str
    location_information: bytes | None = None
    location_data: bytes | None = None
    in_incident: bool = False  # disaster mode: no per-AP rate limit (tsunagaru.ops.effects.IN_INCIDENT)
    disaster_until: datetime | None = None  # the active incident's end: the disaster credential works until then
    session_timeout: int | None = None  # the incident policy's Session-Timeout (with disaster_until)


def _ntp(when: datetime) -> bytes:
    seconds = (when - NTP_EPOCH).total_seconds()
    whole = int(seconds)
    return struct.pack("!II", whole & 0xFFFFFFFF, int((seconds - whole) * 2**32) & 0xFFFFFFFF)


def location_information(sighted: datetime, index: int = 0, method: str = "Manual") -> bytes:
    """RFC 5580 4.2 Location-Information: index, code (civic), entity (the AP), sighting time, TTL, method."""
    return (struct.pack("!HBB", index, CIVIC, ENTITY_RADIUS_CLIENT) + _ntp(sighted) + _ntp(sighted + LOCATION_VALID)
            + method.encode("ascii"))


def _element(catype: int, value: str, room: int) -> bytes:
    data = value.encode("utf-8")
    limit = min(255, room - 2)
    if limit <= 0:
        return b""
    while len(data) > limit:  # cut on a character boundary
        value = value[:-1]
        data = value.encode("utf-8")
    return bytes((catype, len(data))) + data if data else b""


def location_data(prefecture: str | None, municipality: str | None, address_rest: str | None, name: str | None,
                  index: int = 0, country: str = "JP") -> bytes:
    """RFC 5580 4.3 Location-Data, civic (RFC 4776 elements after the country code), within 253 octets.

    Japanese civic addresses: A1 prefecture (東京都), A2 municipality (新宿区), A6 the rest of the address,
    NAM the site's name (cut first when space runs out, as the least needed).
    """
    out = struct.pack("!H", index) + country.encode("ascii") + _element(CA_LANGUAGE, "ja", 8)
    for catype, value in ((CA_A1, prefecture), (CA_A2, municipality), (CA_A6, address_rest), (CA_NAM, name)):
        if value:
            out += _element(catype, value, MAX_ATTRIBUTE - len(out))
    return out


def epoch_seconds(when: datetime) -> int:
    """The ANP's ``disaster_until`` (epoch seconds); the store's naive datetimes are UTC."""
    return int((when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp())


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\u{ord(m.group()):04x}", escaped)
    return f'"{escaped}"'


def render(entries: Iterable[ClientEntry], *, source: str = "the site registry") -> str:
    """The clients file: a header comment and one ``[[clients]]`` table per entry, in the given order."""
    lines = [f"# RADIUS clients generated from {source} by `tsunagaru sites anp-export`: do not edit,",
             "# changes are overwritten. Included by the ANP through anp.clients_files; holds secrets (0600).", ""]
    for e in entries:
        lines += ["[[clients]]", f"name = {_toml_string(e.name)}", f"network = {_toml_string(e.network)}",
                  f"secret = {_toml_string(e.secret)}", f"site = {_toml_string(e.site)}"]
        if e.nas_identifier:
            lines.append(f"nas_identifier = {_toml_string(re.escape(e.nas_identifier))}")
        if e.in_incident:
            lines += [f"rate = {INCIDENT_RATE}", f"burst = {INCIDENT_BURST}"]
        if e.disaster_until is not None:
            lines.append(f"disaster_until = {epoch_seconds(e.disaster_until)}")
            if e.session_timeout is not None:
                lines.append(f"disaster_session_timeout = {e.session_timeout}")
        if e.location_information is not None:
            lines.append(f'location_information = "{e.location_information.hex()}"')
            if e.location_data is not None:
                lines.append(f'location_data = "{e.location_data.hex()}"')
        lines.append("")
    return "\n".join(lines)


class SecretStore:
    """Secrets by reference: ``file:NAME`` is the first line of ``DIR/NAME`` (names cannot leave DIR)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def get(self, ref: str) -> str | None:
        m = re.fullmatch(r"file:([A-Za-z0-9._-]{1,100})", ref)
        if not m or m.group(1).startswith("."):
            return None
        try:
            text = (self.folder / m.group(1)).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        secret = text.splitlines()[0] if text else ""
        return secret or None


def _split_address(address: str | None, prefecture: str | None, municipality: str | None) -> str | None:
    if not address:
        return None
    rest = "".join(address.split())
    for part in (prefecture, municipality):
        if part and rest.startswith(part):
            rest = rest[len(part):]
    return rest or None


def collect(session: Session, secrets: SecretStore, now: datetime | None = None) -> tuple[list[ClientEntry], list[str]]:
    """Active RADIUS/UDP APs as clients (by AP id), and what was skipped and why (no secret values).
    APs of an active incident get the incident's policy (no rate limit, a longer Session-Timeout until the end)
    and its end as ``disaster_until`` (the disaster credential is accepted from them until then); ``--watch``
    drops all of it at the end."""
    from tsunagaru.ops.effects import IN_INCIDENT
    from tsunagaru.store.incident_tables import active_incident_ends

    in_incident = active_incident_ends(session, now or datetime.now(UTC))
    query = (select(AccessPoint, Site, Municipality.name_ja)
             .join(Site, AccessPoint.site_id == Site.id)
             .outerjoin(Municipality, Site.municipality_code == Municipality.code)
             .where(AccessPoint.state == "active", AccessPoint.nas_network.is_not(None),
                    AccessPoint.secret_ref.is_not(None), Site.state != "retired")
             .order_by(AccessPoint.id))
    entries, skipped = [], []
    for ap, site, municipality in session.execute(query):
        assert ap.nas_network is not None and ap.secret_ref is not None
        secret = secrets.get(ap.secret_ref)
        if secret is None:
            skipped.append(f"ap {ap.id}: secret {ap.secret_ref} not found under {secrets.folder}")
            continue
        prefecture = "東京都" if (site.municipality_code or "").startswith("13") else None
        sighted = max(ap.updated_at, site.updated_at)
        entries.append(ClientEntry(
            f"ap-{ap.id}", ap.nas_network, secret, ap.nas_identifier, str(site.id), location_information(sighted),
            location_data(prefecture, municipality, _split_address(site.address, prefecture, municipality),
                          site.name), str(ap.id) in in_incident, in_incident.get(str(ap.id)),
            IN_INCIDENT.session_timeout_s if str(ap.id) in in_incident else None))
    return entries, skipped


def write_if_changed(path: Path, text: str) -> bool:
    """Replace ``path`` with ``text`` atomically, 0600 from the first byte; False when it already says that."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except (OSError, UnicodeDecodeError):
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return True


@dataclass(frozen=True)
class ExportResult:
    written: bool
    clients: int
    skipped: tuple[str, ...]
    reloaded: bool = False


def signal_reload(pid: int | None) -> bool:
    """SIGHUP to the ANP (it reloads its clients); False when there is no such process."""
    if pid is None:
        return False
    try:
        os.kill(pid, signal.SIGHUP)
    except (ProcessLookupError, PermissionError) as exc:
        log.warning("could not signal the ANP (pid %s) to reload: %s", pid, exc)
        return False
    return True


def export(session: Session, secrets_dir: Path, out: Path, *, reload_pid: int | None = None) -> ExportResult:
    """Write the clients file from the registry; signal ``reload_pid`` when the file changed."""
    entries, skipped = collect(session, SecretStore(secrets_dir))
    for reason in skipped:
        log.warning("access point not exported: %s", reason)
    written = write_if_changed(out, render(entries))
    reloaded = signal_reload(reload_pid) if written else False
    return ExportResult(written, len(entries), tuple(skipped), reloaded)
