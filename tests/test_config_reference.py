"""docs/config-reference.md is what the generator writes now, the generator covers every key the parsers
read, and every default it states is the parser's own (``key = DEFAULT`` parses like no key at all)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tsunagaru import config_reference as ref
from tsunagaru.anp import config as anp_config
from tsunagaru.cli import main
from tsunagaru.idp import config as idp_config
from tsunagaru.web import config as web_config

DOC = Path(__file__).resolve().parents[1] / "docs" / "config-reference.md"

ANP_MINIMAL = {
    "[anp]": "[anp]\n",
    "[[clients]]": '[[clients]]\nname = "aps"\nnetwork = "10.0.0.0/8"\nsecret = "s"\n',
    "[[routes]]": '[[routes]]\nrealm = "idp.example"\npeers = ["127.0.0.1:2083/idp.example"]\n',
}
IDP_MINIMAL = {
    "[idp]": '[idp]\nrealms = ["idp.example"]\ndb = "sqlite://"\neap_certificate = "e.pem"\neap_key = "e.key"\n'
             'user_ca = "u.pem"\ncui_key_file = "c.key"\n',
    "[udp]": '[udp]\nlisten = "127.0.0.1:1812"\nsecret = "s"\n',
    "[radsec]": '[radsec]\nlisten = "127.0.0.1:2083"\ncertificate = "r.pem"\nkey = "r.key"\nroots = ["f.pem"]\n',
}


def test_the_doc_is_what_the_generator_writes() -> None:
    assert DOC.read_text(encoding="utf-8") == ref.render(), \
        "docs/config-reference.md is stale: run tsunagaru config reference --output docs/config-reference.md"
    assert main(["config", "reference", "--check", str(DOC)]) == 0


def test_a_key_the_reference_lacks_makes_it_stale(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    table = ref.ANP.tables[0]
    bigger = replace(ref.ANP, tables=(replace(table, parser_keys=(*table.parser_keys, "workers")), *ref.ANP.tables[1:]))
    with pytest.raises(ref.StaleReference, match="workers"):
        ref.render((bigger, ref.IDP, ref.WEB))
    (tmp_path / "old.md").write_text("# old\n")
    assert main(["config", "reference", "--check", str(tmp_path / "old.md")]) == 1


def _with(sections: dict[str, str], header: str, line: str) -> str:
    """The minimal file with ``line`` added to the section ``header``."""
    parts = dict(sections)
    parts[header] = parts.get(header, f"{header}\n") + line + "\n"
    return "\n".join(parts.values())


def _cases(cfg: ref.ConfigFile, minimal: dict[str, str]) -> list[Any]:
    return [pytest.param(cfg, minimal, table.header, key, id=f"{cfg.file}:{table.header}.{key.name}")
            for table in cfg.tables for key in table.keys if key.default not in (None, ref.REQUIRED)]


@pytest.mark.parametrize(("cfg", "minimal", "header", "key"),
                         _cases(ref.ANP, ANP_MINIMAL) + _cases(ref.IDP, IDP_MINIMAL) + _cases(ref.WEB, {
                             "[web]": '[web]\ndb = "sqlite:////tmp/x.sqlite"\n'}))
def test_each_stated_default_is_the_parsers(cfg: ref.ConfigFile, minimal: dict[str, str], header: str,
                                            key: ref.Key) -> None:
    parse = {"anp.toml": anp_config.parse, "idp.toml": idp_config.parse, "web.toml": web_config.parse}[cfg.file]
    base = Path("/etc/tsunagaru")
    without = parse(_with(minimal, header, ""), base=base)
    with_default = parse(_with(minimal, header, f"{key.name} = {key.default}"), base=base)
    if cfg.file == "web.toml":  # a fresh random secret key each time (not read from the file by parse)
        without, with_default = replace(without, secret_key=b""), replace(with_default, secret_key=b"")  # type: ignore[type-var]
    assert with_default == without
