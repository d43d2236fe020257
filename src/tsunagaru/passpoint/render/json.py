"""The JSON document for controllers with their own APIs: the plan's structure plus, per BSS, the
hostapd key list it amounts to (so a controller that takes raw hostapd options can use those).

Schema: ``tsunagaru/passpoint/ap-config.schema.json`` (documented in docs/passpoint.md). Keys are sorted
and separators fixed, so the bytes are stable.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from tsunagaru.passpoint.plan import ApPlan, BssPlan, RadioPlan
from tsunagaru.passpoint.render.sections import Block, radio_blocks

SCHEMA_ID = "https://tsunagaru.example/schemas/passpoint/ap-config-1.json"


def render_json(plan: ApPlan, secrets: Mapping[str, str]) -> bytes:
    return (json.dumps(document(plan, secrets), ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode()


def document(plan: ApPlan, secrets: Mapping[str, str]) -> dict[str, Any]:
    until = plan.disaster_until.isoformat().replace("+00:00", "Z") if plan.disaster_until else None
    return {
        "$schema": SCHEMA_ID,
        "ap_id": plan.ap_id,
        "site_id": plan.site_id,
        "disaster": {"active": until is not None, "until": until, "reason": plan.disaster_reason or None},
        "radios": [_radio(rp, radio_blocks(rp, secrets)) for rp in plan.radios],
    }


def _radio(rp: RadioPlan, blocks: list[Block]) -> dict[str, Any]:
    return {
        "name": rp.radio.name, "band": rp.radio.band.value, "channel": rp.radio.channel, "country": rp.country,
        "hostapd": _pairs(blocks[0][1]),
        "bsses": [_bss(bss, pairs) for bss, (_, pairs) in zip(rp.bsses, blocks[1:], strict=True)],
    }


def _bss(bss: BssPlan, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "role": bss.role.value, "ifname": bss.ifname, "bssid": bss.bssid, "ssid": bss.ssid, "hidden": bss.hidden,
        "security": bss.security.value if bss.security else ("owe" if bss.owe else "open"),
        "client_isolation": bss.ap_isolate, "hostapd": _pairs(pairs),
    }
    if bss.radius is not None:
        r = bss.radius
        doc["radius"] = {
            "host": r.host, "auth_port": r.auth_port, "acct_port": r.acct_port, "secret_ref": r.secret_ref,
            "nas_identifier": r.nas_identifier, "operator_name": r.operator_name, "request_cui": r.request_cui,
            "interim_interval": r.interim_interval, "require_message_authenticator": r.require_message_authenticator,
            "radsec": {"host": r.radsec[0], "port": r.radsec[1]} if r.radsec else None,
        }
    if bss.interworking is not None:
        iw = bss.interworking
        doc["passpoint"] = {
            "venue": {"group": iw.venue.group, "type": iw.venue.type, "names": {n.lang: n.text for n in iw.venue_names},
                      "urls": [{"name_index": i, "url": u} for i, u in iw.venue_urls]},
            "hessid": iw.hessid, "roaming_consortium": list(iw.anqp.rcois), "domains": list(iw.anqp.domains),
            "nai_realms": [r.hostapd() for r in iw.anqp.nai_realms], "access_network_type": iw.access_network_type,
            "internet": iw.internet,
        }
    return doc


def _pairs(pairs: list[tuple[str, str]]) -> list[str]:
    return [f"{k}={v}" for k, v in pairs]
