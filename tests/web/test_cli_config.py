"""``web.toml`` parsed strictly, and ``tsunagaru web user add`` with --password-stdin."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tsunagaru.tomlconf import ConfigError
from tsunagaru.web import config


def test_config_is_parsed_strictly(tmp_path: Path) -> None:
    ok = config.parse('[web]\nlisten = "127.0.0.1:9000"\ndb = "sqlite:///x.sqlite"\npublic_url = "https://w.example"\n',
                      base=tmp_path)
    assert ok.listen.port == 9000 and ok.https and ok.db_url == f"sqlite:///{tmp_path / 'x.sqlite'}"
    for text, key in (('[web]\ndb = "sqlite:///x"\nlisten = 8080\n', "web.listen"),
                      ('[web]\ndb = "sqlite:///x"\nmax_body = 10\n', "web.max_body"),
                      ('[web]\ndb = "sqlite:///x"\ncolour = "blue"\n', "web.colour"),
                      ('[web]\n', "web.db"), ('[webb]\ndb = "x"\n', "webb"),
                      ('[web]\ndb = "sqlite:///x"\npublic_url = "ftp://x"\n', "web.public_url"),
                      ('[web]\ndb = "sqlite:///x"\ntrusted_proxies = "127.0.0.1"\n', "web.trusted_proxies"),
                      ('[web]\ndb = "sqlite:///x"\ntrusted_proxies = ["10.0.0.0/8", "ngnix"]\n',
                       "web.trusted_proxies[1]")):
        with pytest.raises(ConfigError) as err:
            config.parse(text, base=tmp_path)
        assert err.value.key == key, text


def test_trusted_proxies_are_addresses_or_networks(tmp_path: Path) -> None:
    base = '[web]\ndb = "sqlite:///x"\n'
    assert config.parse(base, base=tmp_path).trusted_proxies == ()  # none by default
    got = config.parse(base + 'trusted_proxies = ["127.0.0.1", "10.1.2.3/8", "::1"]\n', base=tmp_path)
    assert got.trusted_proxies == ("127.0.0.1/32", "10.0.0.0/8", "::1/128")


def test_secret_key_file_is_made_0600(tmp_path: Path) -> None:
    key = config.read_or_make_key(tmp_path / "k")
    assert len(key) == 32 and stat.S_IMODE((tmp_path / "k").stat().st_mode) == 0o600
    assert config.read_or_make_key(tmp_path / "k") == key


def test_web_user_add(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'u.sqlite'}"
    argv = [sys.executable, "-m", "tsunagaru", "web", "user", "add", "city-admin", "first-admin", "--password-stdin",
            "--db", db]
    done = subprocess.run(argv, input="a-long-admin-password\n", capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "first-admin" in done.stdout and "a-long-admin-password" not in done.stdout + done.stderr
    again = subprocess.run(argv, input="a-long-admin-password\n", capture_output=True, text=True, timeout=120)
    assert again.returncode == 1 and "taken" in again.stderr
    bad = subprocess.run([*argv[:6], "municipality-operator", "ward-op", "--scope", "999999", "--password-stdin",
                          "--db", db], input="a-long-admin-password\n", capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "unknown municipality" in bad.stderr
