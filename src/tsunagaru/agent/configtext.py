"""Pure edits of a pulled config: local overrides, and removing the disaster BSS when its time is up.

hostapd.conf is line based: the first BSS's keys follow ``interface=``, each further BSS starts with
``bss=``. The disaster BSS (``00000JAPAN``) is always a secondary BSS, so removing it means dropping
one ``bss=`` block and leaving the rest byte for byte. OpenWrt's UCI file is dropped section-wise
(``config wifi-iface`` whose ssid is 00000JAPAN); the JSON document loses that BSS from its radios.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

DISASTER_SSID = "00000JAPAN"
_SSID_HEX = DISASTER_SSID.encode().hex()
_UNTIL = re.compile(r"^# 00000JAPAN until (\S+)", re.MULTILINE)


def apply_overrides(text: str, set_keys: dict[str, str], unset: frozenset[str]) -> str:
    """``key=value`` lines of the first BSS replaced by ``set_keys``, every line of an ``unset`` key dropped."""
    out, done, first_bss = [], set(), True
    for line in text.splitlines():
        key = line.split("=", 1)[0].strip() if "=" in line and not line.startswith("#") else None
        if key == "bss":
            first_bss = False
        if key in unset:
            continue
        if key in set_keys and first_bss:
            if key in done:
                continue
            line = f"{key}={set_keys[key]}"
            done.add(key)
        out.append(line)
    missing = [f"{k}={v}" for k, v in set_keys.items() if k not in done]
    return "\n".join(missing + out) + "\n"


def _is_disaster_block(block: list[str]) -> bool:
    return any(line in (f"ssid={DISASTER_SSID}", f"ssid2={_SSID_HEX}", f'ssid="{DISASTER_SSID}"') for line in block)


def strip_disaster_hostapd(text: str) -> str:
    blocks: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.startswith("bss="):
            blocks.append([])
        blocks[-1].append(line)
    kept = blocks[:1] + [b for b in blocks[1:] if not _is_disaster_block(b)]
    lines = [line for block in kept for line in block if not line.startswith("# 00000JAPAN until")]
    return "\n".join(lines).rstrip("\n") + "\n"


def strip_disaster_openwrt(text: str) -> str:
    sections = re.split(r"\n(?=config )", text)
    keep = [s for s in sections if not (s.startswith("config wifi-iface") and f"'{DISASTER_SSID}'" in s)]
    return "\n".join(keep)


def strip_disaster_json(text: str) -> str:
    doc = json.loads(text)
    for radio in doc.get("radios", []):
        radio["bsses"] = [b for b in radio.get("bsses", []) if b.get("ssid") != DISASTER_SSID]
    doc["disaster"] = {"active": False, "until": None, "reason": None}
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=2) + "\n"


STRIP = {"hostapd": strip_disaster_hostapd, "openwrt": strip_disaster_openwrt, "json": strip_disaster_json}


def parse_until(value: str | None) -> datetime | None:
    """An ISO-8601 end time (``...Z``) as an aware datetime, or None when absent or malformed."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def until_in_text(text: str) -> datetime | None:
    """The disaster end time a rendered config carries in its header comment (hostapd and UCI)."""
    found = _UNTIL.search(text)
    return parse_until(found.group(1)) if found else None


def has_disaster(text: str) -> bool:
    return DISASTER_SSID in text or _SSID_HEX in text
