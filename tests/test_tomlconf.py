"""The shared TOML reading: unknown keys with a suggestion, one-line errors for unreadable and non-UTF-8
files (for the ANP's and the IdP's loaders alike), bare IPv6 addresses."""

from __future__ import annotations

from pathlib import Path

import pytest

from tsunagaru.tomlconf import ConfigError, check_keys, hostport, load_or_report, read_text


def test_check_keys_names_the_key_and_suggests() -> None:
    check_keys({"listen": 1}, "radsec", ["listen", "roots"])
    with pytest.raises(ConfigError) as info:
        check_keys({"roots": [], "crl": []}, "radsec", ["listen", "roots", "crls"])
    assert info.value.key == "radsec.crl" and "did you mean 'crls'" in info.value.problem
    with pytest.raises(ConfigError) as info:
        check_keys({"zzz": {}}, "", ["anp", "tls"])
    assert info.value.key == "zzz" and "unknown table" in info.value.problem
    assert "did you mean" not in info.value.problem


def test_a_non_utf8_file_is_one_line_for_any_loader(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "idp.toml"
    path.write_bytes(b"[idp]\nrealms = [\"\xe9\"]\n")
    assert load_or_report(lambda p: p.read_text(encoding="utf-8"), path) is None  # a loader of its own
    assert load_or_report(read_text, path) is None
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and all("not UTF-8" in line and str(path) in line for line in lines)


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        read_text(tmp_path / "nope.toml")


@pytest.mark.parametrize(("text", "host", "port"), [
    ("[::]", "::", 53), ("::1", "::1", 53), ("[::1]:5353", "::1", 5353), ("127.0.0.1", "127.0.0.1", 53),
    ("ns.example:5300", "ns.example", 5300),
])
def test_hostport(text: str, host: str, port: int) -> None:
    listen = hostport(text, "k", 53)
    assert (listen.host, listen.port) == (host, port)
