"""The ANP clients file from the registry: rendering, RFC 5580 encoding, secrets by reference, file modes."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path

from tests.sites.world import ADMIN, NOW, build
from tsunagaru.anp.config import ConfigError, load
from tsunagaru.sites import service
from tsunagaru.sites.anp_export import (
    ClientEntry,
    SecretStore,
    export,
    location_data,
    location_information,
    render,
    write_if_changed,
)
from tsunagaru.store import Store

MAIN = """[anp]
wbaid = "TEST:JP"
clients_files = ["registry-clients.toml", "missing.toml"]

[[clients]]
name = "inline"
network = "192.0.2.1/32"
secret = "inline-secret"
"""


def test_location_encoding() -> None:
    info = location_information(datetime(2026, 1, 1, tzinfo=UTC))
    assert info[:4] == b"\x00\x00\x00\x01" and len(info) == 20 + len("Manual")  # index 0, civic, the AP
    data = location_data("東京都", "新宿区", "西新宿2-8-1", "都庁" * 200)
    assert data[:4] == b"\x00\x00JP" and len(data) <= 253
    assert data[4:8] == b"\x00\x02ja" and "東京都".encode() in data and "新宿区".encode() in data
    elements, i = {}, 4
    while i < len(data):
        catype, length = data[i], data[i + 1]
        elements[catype] = data[i + 2:i + 2 + length].decode("utf-8")  # cut on a character boundary
        i += 2 + length
    assert i == len(data) and elements[1] == "東京都" and elements[6] == "西新宿2-8-1"
    assert elements[23].startswith("都庁") and len(elements[23]) < 400


def test_render_is_what_the_anp_loads(tmp_path: Path) -> None:
    entries = [ClientEntry("ap-1", "127.0.1.1/32", 'we"ird\\secret', "ap.1", "7", location_information(NOW),
                           location_data("東京都", "港区", "芝公園", "Tower")),
               ClientEntry("ap-2", "10.0.0.0/24", "s2", None, "8")]
    (tmp_path / "registry-clients.toml").write_text(render(entries))
    (tmp_path / "anp.toml").write_text(MAIN)
    cfg = load(tmp_path / "anp.toml")
    by_name = {c.name: c for c in cfg.clients}
    assert set(by_name) == {"inline", "ap-1", "ap-2"}
    assert by_name["ap-1"].secret == b'we"ird\\secret' and by_name["ap-1"].site == "7"
    assert by_name["ap-1"].nas_identifier is not None and by_name["ap-1"].nas_identifier.fullmatch("ap.1")
    assert not by_name["ap-1"].nas_identifier.fullmatch("apx1")  # the identifier is exact, not a pattern
    assert by_name["ap-1"].location is not None and by_name["ap-1"].location[1] is not None


def test_an_included_file_cannot_change_anything_but_clients(tmp_path: Path) -> None:
    (tmp_path / "anp.toml").write_text(MAIN)
    (tmp_path / "registry-clients.toml").write_text('[tls]\ncertificate = "/etc/evil.pem"\n')
    try:
        load(tmp_path / "anp.toml")
    except ConfigError as exc:
        assert "only [[clients]]" in str(exc)
    else:
        raise AssertionError("an included [tls] table was accepted")


def test_export_from_the_registry(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'r.sqlite'}")
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "nas-secret").write_text("s3cret\n")
    out = tmp_path / "registry-clients.toml"
    try:
        with store.session() as s:
            world = build(s)
            disabled = world.aps["minato"]
            service.update_ap(s, ADMIN, disabled, {"state": "disabled"}, now=NOW)
            service.create_ap(s, ADMIN, {"site_id": world.sites["minato"], "name": "radsec", "radsec_name": "a.test"})
            service.create_ap(s, ADMIN, {"site_id": world.sites["minato"], "name": "nosecret",
                                         "nas_network": "10.9.0.1", "secret_ref": "file:absent"})
        with store.session() as s:
            result = export(s, secrets, out)
        assert result.written and result.clients == 3 and len(result.skipped) == 1
        assert "s3cret" not in " ".join(result.skipped)
        assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
        text = out.read_text()
        assert f'name = "ap-{disabled}"' not in text and "radsec" not in text and text.count("[[clients]]") == 3
        with store.session() as s:
            assert not export(s, secrets, out).written  # unchanged: not rewritten, no reload
    finally:
        store.dispose()


def test_secret_references_stay_in_their_folder(tmp_path: Path) -> None:
    (tmp_path / "ok").write_text("x")
    (tmp_path.parent / "outside").write_text("y")
    store = SecretStore(tmp_path)
    assert store.get("file:ok") == "x"
    for ref in ("file:../outside", "file:.hidden", "file:", "env:HOME", "file:a/b"):
        assert store.get(ref) is None


def test_write_if_changed_replaces_atomically(tmp_path: Path) -> None:
    path = tmp_path / "f.toml"
    path.write_text("old")
    os.chmod(path, 0o644)
    assert write_if_changed(path, "new") and path.read_text() == "new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not write_if_changed(path, "new")
    assert [p.name for p in tmp_path.iterdir()] == ["f.toml"]
