"""Imports into the store: idempotent re-import, dry-run diffs, scope per row, AP inventory, JSON round trip, CLI."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.sites.world import ADMIN, NOW, SHINJUKU
from tsunagaru.cli import main
from tsunagaru.sites import registry_json, service
from tsunagaru.sites.importers import ap_inventory, apply, apply_aps, wifi_list
from tsunagaru.sites.municipalities import Gazetteer, shipped
from tsunagaru.sites.scope import Principal, Role
from tsunagaru.sites.seed import seed_municipalities
from tsunagaru.store import Store
from tsunagaru.store.registry_tables import AccessPoint, AuditEntry, Site

TOKYO = (resources.files("tsunagaru.sites") / "data" / "tokyo_free_wifi_accesspoints_130001_2024-09-01.cp932.csv"
         ).read_bytes()
GAZ = Gazetteer(shipped())


def _import(store: Store, data: bytes, p: Principal = ADMIN, dry_run: bool = False) -> apply.Diff:
    records, report = wifi_list.parse(data, GAZ)
    with store.session() as s:
        return apply.apply_sites(s, p, records, report, dry_run=dry_run, now=NOW)


def test_reimport_is_idempotent_and_updates_in_place(store: Store) -> None:
    with store.session() as s:
        seed_municipalities(s, ADMIN, now=NOW)
    first = _import(store, TOKYO)
    assert (len(first.added), len(first.changed), first.unchanged) == (737, 0, 0)
    again = _import(store, TOKYO)
    assert (len(again.added), len(again.changed), again.unchanged, len(again.removed)) == (0, 0, 737, 0)
    text = TOKYO.decode("cp932").split("\r\n")
    text[1] = text[1].replace("公衆電話（江東区亀戸3-36-1）", "公衆電話（江東区亀戸3-36-1）改")
    del text[2]  # row NO 2 leaves the source
    changed = "\r\n".join(text).encode("utf-8-sig")  # and the publisher switched to UTF-8
    dry = _import(store, changed, dry_run=True)
    assert (len(dry.added), len(dry.changed), dry.unchanged, len(dry.removed)) == (0, 1, 735, 1)
    assert dry.changed[0][2]["name"][1].endswith("改") and dry.removed[0][1] == "2"
    with store.session() as s:
        assert s.scalar(select(Site.name).where(Site.source_id == "1")) == "公衆電話（江東区亀戸3-36-1）"
    real = _import(store, changed)
    assert len(real.changed) == 1
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Site)) == 737  # removed from source: kept
        assert s.scalar(select(Site.name).where(Site.source_id == "1")).endswith("改")
        audits = s.scalar(select(func.count()).where(AuditEntry.action == "site.import"))
        assert audits == 738
        # rows written by COPY on PostgreSQL read back like ORM rows: JSON, aware UTC timestamps, NULLs
        first = s.scalars(select(AuditEntry).where(AuditEntry.action == "site.import").order_by(AuditEntry.id)).first()
        assert first is not None and first.at == NOW and first.before is None
        assert first.after is not None and first.after["source"] == "130001" and first.after["lat"] is not None
        site = s.scalars(select(Site).where(Site.source_id == "575")).one()
        assert site.created_at == NOW and site.name_kana is None and site.address == "東京都o.2（港区麻布十番1-4"
        assert json.dumps(dry.to_json(), ensure_ascii=False)


def test_a_municipality_operator_imports_only_its_own_rows(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'r.sqlite'}")
    try:
        with store.session() as s:
            seed_municipalities(s, ADMIN, now=NOW)
        records, report = wifi_list.parse(TOKYO, GAZ)
        op = Principal("shinjuku", Role.MUNICIPALITY_OPERATOR, municipality_code=SHINJUKU)
        with store.session() as s:
            diff = apply.apply_sites(s, op, records, report, now=NOW)
        assert len(diff.added) == 76 and report.counts["out-of-scope"] == 737 - 76
    finally:
        store.dispose()


AP_CSV = """site_source,site_source_id,name,platform,bssids,radios,nas_network,secret_ref,radsec_name,state
130001,119,ap-1,hostapd,02:00:00:00:01:01;02:00:00:00:01:02,2g:6;5g:36,10.1.0.1,file:nas-secret,,active
130001,119,ap-2,openwrt,,5g:44,,,ap2.kabukicho.city.test,
130001,479,ap-1,hostapd,not-a-mac,,10.1.0.3,file:nas-secret,,
130001,99999,ap-1,hostapd,,,10.1.0.4,file:nas-secret,,
130001,480,ap-1,hostapd,,,10.1.0.1,file:nas-secret,,
130001,119,ap-1,hostapd,,,10.1.0.9,file:nas-secret,,
"""


def test_ap_inventory(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'r.sqlite'}")
    try:
        with store.session() as s:
            seed_municipalities(s, ADMIN, now=NOW)
        _import(store, TOKYO)
        records, report = ap_inventory.parse(AP_CSV.encode())
        assert report.counts["value-invalid"] == 1 and report.counts["duplicate-id"] == 1  # bad MAC, same name
        with store.session() as s:
            diff = apply_aps.apply_aps(s, ADMIN, records, report, now=NOW)
        assert len(diff.added) == 2
        assert report.counts["site-unknown"] == 1 and report.counts["duplicate-id"] == 2  # 10.1.0.1 twice
        records, report = ap_inventory.parse(AP_CSV.replace("5g:44", "5g:48").encode())
        with store.session() as s:
            again = apply_aps.apply_aps(s, ADMIN, records, report, now=NOW)
            assert (len(again.added), len(again.changed), again.unchanged) == (0, 1, 1)
            ap = s.scalars(select(AccessPoint).where(AccessPoint.name == "ap-1")).one()
            assert ap.bssids == ["02:00:00:00:01:01", "02:00:00:00:01:02"]
            assert ap.radios == [{"band": "2g", "channel": 6}, {"band": "5g", "channel": 36}]
    finally:
        store.dispose()


def test_registry_json_round_trip(tmp_path: Path) -> None:
    a = Store.open(f"sqlite:///{tmp_path / 'a.sqlite'}")
    b = Store.open(f"sqlite:///{tmp_path / 'b.sqlite'}")
    try:
        with a.session() as s:
            seed_municipalities(s, ADMIN, now=NOW)
            org = service.create_organisation(s, ADMIN, {"name": "Phone booths", "kind": "site-operator"}, now=NOW)
        _import(a, TOKYO)
        with a.session() as s:
            site = service.list_sites(s, ADMIN, municipality=SHINJUKU, limit=1).items[0]
            service.assign_sites(s, ADMIN, org.id, [site.id], now=NOW)
            service.create_ap(s, ADMIN, {"site_id": site.id, "name": "ap", "nas_network": "10.2.0.1",
                                         "secret_ref": "file:x"}, now=NOW)
            local = service.create_site(s, ADMIN, {"name": "No source", "municipality_code": SHINJUKU}, now=NOW)
            service.create_ap(s, ADMIN, {"site_id": local.id, "name": "ap", "radsec_name": "a.test"}, now=NOW)
            doc = json.loads(registry_json.dumps(registry_json.export(s, ADMIN, now=NOW)))
        with b.session() as s:
            report = registry_json.load(s, ADMIN, doc, now=NOW)
        assert report.errors == 0, report.summary()
        with b.session() as s:
            again = json.loads(registry_json.dumps(registry_json.export(s, ADMIN, now=NOW)))
        for key in ("municipalities", "organisations", "aps"):
            assert again[key] == doc[key], key
        assert [{k: v for k, v in x.items() if k != "id"} for x in again["sites"]] == \
               [{k: v for k, v in x.items() if k != "id"} for x in doc["sites"]]
        with b.session() as s:  # loading twice changes nothing
            before = s.scalar(select(func.count()).select_from(AuditEntry))
            registry_json.load(s, ADMIN, doc, now=NOW)
            assert s.scalar(select(func.count()).select_from(AuditEntry)) == before
        with b.session() as s:
            bad = registry_json.load(s, ADMIN, {**doc, "sites": [{"name": ""}, "x"], "aps": []}, now=NOW)
            assert bad.errors >= 2
            assert registry_json.load(s, ADMIN, {"format": "other"}).errors == 1
    finally:
        a.dispose()
        b.dispose()


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    tokyo = tmp_path / "tokyo.csv"
    tokyo.write_bytes(TOKYO)
    assert main(["sites", "import", str(tokyo), "--db", db, "--dry-run"]) == 0
    out = capsys.readouterr()
    assert "737 added" in out.out and "nothing written" in out.out and "schema-required-empty" in out.err
    assert main(["sites", "import", str(tokyo), "--db", db, "--report", str(tmp_path / "r.json")]) == 0
    report = json.loads((tmp_path / "r.json").read_text())
    capsys.readouterr()
    assert report["rows"] == 737 and report["counts"]["address-broken"] == 2
    assert main(["sites", "list", "--db", db, "--municipality", SHINJUKU, "--json", "--limit", "5"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["total"] == 76 and len(listed["items"]) == 5
    site_id = listed["items"][0]["id"]
    assert main(["aps", "add", "--db", db, "--site", str(site_id), "--name", "ap-x", "--nas-network", "10.3.0.1",
                 "--secret-ref", "file:nas", "--radio", "5g:36", "--bssid", "02:00:00:00:00:01"]) == 0
    assert main(["aps", "list", "--db", db, "--json"]) == 0
    aps = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert aps["total"] == 1 and aps["items"][0]["municipality_code"] == SHINJUKU
    assert main(["aps", "add", "--db", db, "--site", str(site_id), "--name", "ap-y"]) == 1
    assert "nas_network" in capsys.readouterr().err
    assert main(["sites", "show", "--db", db, "999999"]) == 1
    assert "no site" in capsys.readouterr().err
    assert main(["sites", "export", "--db", db, "--out", str(tmp_path / "e.json")]) == 0
    assert main(["sites", "import-json", "--db", f"sqlite:///{tmp_path / 'other.sqlite'}", str(tmp_path / "e.json")]
                ) == 0
    opened = Store.open(db)
    with opened.session() as s:
        actors = set(s.scalars(select(AuditEntry.actor)))
    opened.dispose()
    assert len(actors) == 1 and next(iter(actors)).startswith("cli:")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    assert main(["sites", "import", str(bad), "--db", db]) == 0
    assert "header-missing-column" in capsys.readouterr().err
