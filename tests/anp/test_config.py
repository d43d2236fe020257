"""The ANP's TOML configuration: good files load, bad ones name the key and the problem."""

from __future__ import annotations

from pathlib import Path

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
any_member = true

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
    assert any("any federation member" in w for w in cfg.warnings)
    assert cfg.node and cfg.peer_rows == 256  # the host name; 256 (realm, peer) rows
    assert parse(GOOD.replace("request_timeout = 3", 'node = "anp-2"\npeer_rows = 40', 1)).node == "anp-2"


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
        (("request_timeout = 3", 'node = ""'), "anp.node"),
        (("request_timeout = 3", f'node = "{"n" * 65}"'), "anp.node"),
        (("request_timeout = 3", 'node = "a\\u0007b"'), "anp.node"),
        (("request_timeout = 3", "peer_rows = 1"), "anp.peer_rows"),
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


@pytest.mark.parametrize(
    ("mutation", "key", "hint"),
    [
        (("request_timeout = 3", "request_timout = 3"), "anp.request_timout", "did you mean 'request_timeout'"),
        (('secret = "testing123"', 'secret = "testing123"\nrequre_message_authenticator = true'),
         "clients[0].requre_message_authenticator", "did you mean 'require_message_authenticator'"),
        (("[realms]", "[tlss]\ncertificate = 'x'\n[realms]"), "tlss", "did you mean 'tls'"),
        (("[discovery]", "[discovery]\ncrl = ['a.pem']"), "discovery.crl", "unknown key"),
        (('[tls]', '[tls]'), None, None),
    ],
)
def test_unknown_keys_and_tables_are_errors_with_a_suggestion(mutation: tuple[str, str], key: str | None,
                                                             hint: str | None) -> None:
    if key is None:
        return
    with pytest.raises(ConfigError) as info:
        parse(GOOD.replace(*mutation, 1))
    assert info.value.key == key and hint is not None and hint in info.value.problem


def test_a_static_route_without_a_certificate_name_is_refused() -> None:
    with pytest.raises(ConfigError) as info:
        parse(GOOD.replace("any_member = true\n", ""))
    assert info.value.key == "routes[0].peers[1]" and "any_member" in info.value.problem


@pytest.mark.parametrize(
    ("mutation", "key"),
    [
        (('name = "legacy"', 'name = "ap-shinjuku"'), "clients[1].name"),
        (('nameservers = ["127.0.0.1:5353"]', 'nameservers = ["127.0.0.1:5353"]\nttl_floor = 600\nttl_ceiling = 60'),
         "discovery.ttl_floor"),
        (("[realms]", "[tls]\nroots = [1, 2]\n[realms]"), "tls.roots[0]"),
        (('listen_auth = "127.0.0.1:11812"', 'listen_auth = "127.0.0.1:11812"\nlisten_radsec = "[::]:2083"'),
         "tls.ap_roots"),
    ],
)
def test_whole_file_checks(mutation: tuple[str, str], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse(GOOD.replace(*mutation, 1))
    assert info.value.key == key


def test_bare_ipv6_listen_addresses() -> None:
    cfg = parse(GOOD.replace('listen_auth = "127.0.0.1:11812"', 'listen_auth = "[::]:11812"')
                .replace('"127.0.0.1:5353"', '"[::1]", "::1"'))
    assert (cfg.auth.host, cfg.auth.port) == ("::", 11812)
    assert [(n.host, n.port) for n in cfg.discovery.nameservers] == [("::1", 53), ("::1", 53)]


def test_non_utf8_file_is_one_line(tmp_path: Path) -> None:
    from tsunagaru.anp.config import load

    path = tmp_path / "anp.toml"
    path.write_bytes(GOOD.encode("utf-8").replace(b"ap-shinjuku", b"ap-\xff\xfe"))
    with pytest.raises(ConfigError) as info:
        load(path)
    assert "not UTF-8" in str(info.value) and "\n" not in str(info.value)
