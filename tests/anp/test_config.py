"""The ANP's TOML configuration: good files load, bad ones name the key and the problem."""

from __future__ import annotations

import pytest

from tsunagaru.anp.config import ConfigError, parse

GOOD = """
[anp]
wbaid = "TSUNAGARU:JP"
offered_service = "OpenRoaming Bronze"
listen_auth = "127.0.0.1:11812"
request_timeout = 3

[[clients]]
name = "ap-shinjuku"
network = "127.0.0.0/8"
secret = "testing123"

[[clients]]
name = "legacy"
network = "10.1.2.3"
secret = "s"
require_message_authenticator = false

[[routes]]
realm = "*.tsunagaru.test"
peers = ["127.0.0.1:2083/idp.tsunagaru.test", "[::1]:20830"]

[realms]
deny = ["~.*\\\\.invalid"]

[discovery]
nameservers = ["127.0.0.1:5353"]
"""


def test_good_file_loads() -> None:
    cfg = parse(GOOD)
    assert cfg.auth.port == 11812 and cfg.acct.port == 1813
    assert cfg.decoration.wbaid == "TSUNAGARU:JP"
    assert [c.name for c in cfg.clients] == ["ap-shinjuku", "legacy"]
    assert cfg.routes[0].peers[0].name == "idp.tsunagaru.test" and cfg.routes[0].peers[1].host == "::1"
    assert cfg.routes[0].peers[1].port == 20830
    assert cfg.deny[0].matches("x.invalid")
    assert cfg.discovery.nameservers[0].port == 5353
    assert any("BlastRADIUS" in w for w in cfg.warnings)


@pytest.mark.parametrize(
    ("mutation", "key"),
    [
        (("network = \"127.0.0.0/8\"", "network = \"nope\""), "clients[0].network"),
        (("wbaid = \"TSUNAGARU:JP\"", "wbaid = \"lower:jp\""), "anp.wbaid"),
        (("request_timeout = 3", "request_timeout = 600"), "anp.request_timeout"),
        (("request_timeout = 3", "request_timeout = \"3\""), "anp.request_timeout"),
        (("\"127.0.0.1:2083/idp.tsunagaru.test\"", "\"127.0.0.1:99999\""), "routes[0].peers[0]"),
        (("secret = \"testing123\"", ""), "clients[0].secret"),
        (("[anp]", "[anp"), "(file)"),
    ],
)
def test_bad_files_name_the_key(mutation: tuple[str, str], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse(GOOD.replace(*mutation, 1))
    assert info.value.key == key


def test_no_clients_is_an_error() -> None:
    with pytest.raises(ConfigError, match="clients"):
        parse("[anp]\n")


def test_the_documented_example_parses() -> None:
    import tsunagaru.anp.config as module

    example = "\n".join(line[4:] for line in (module.__doc__ or "").splitlines() if line.startswith("    "))
    cfg = parse(example)
    assert cfg.decoration.wbaid == "CITY:JP" and cfg.radsec is not None and cfg.metrics is not None
    assert cfg.clients[0].nas_identifier is not None and cfg.deny[0].matches("x.invalid")


def test_bad_location_names_the_key() -> None:
    with pytest.raises(ConfigError) as info:
        parse(GOOD.replace('secret = "testing123"', 'secret = "testing123"\nlocation_information = "zz"', 1))
    assert info.value.key == "clients[0].location_information"
