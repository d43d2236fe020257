"""Negotiation, complete catalogs, and the fallback for a broken translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

from tsunagaru.web import i18n
from tsunagaru.web.i18n import Translator, negotiate, translations

WEB = Path(i18n.__file__).parent


def test_negotiation_order() -> None:
    assert negotiate(None, None, None) == "ja"
    assert negotiate(None, None, "en-US,en;q=0.9") == "en"
    assert negotiate(None, None, "fr-FR,en;q=0.5,ja;q=0.9") == "ja"
    assert negotiate(None, "en", "ja") == "en"
    assert negotiate("ja", "en", "en") == "ja"
    assert negotiate("xx", None, "de, en;q=0") == "ja"


def test_every_message_has_a_japanese_translation() -> None:
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    ids = {msg[2] for msg in extract_from_dir(str(WEB), method_map, keywords={"_": None, "gettext": None})}
    ids = {i if isinstance(i, str) else i[0] for i in ids}
    ja = translations("ja")
    missing = sorted(i for i in ids if ja.gettext(i) == i and i not in ("ID", "BSSIDs"))
    assert missing == []


def test_a_translation_with_a_wrong_placeholder_falls_back() -> None:
    t = Translator("ja")
    assert t.gettext("Account %(name)s added.", name="x") == "アカウント x を追加しました。"
    assert t.gettext("Account %(name)s added.", other="x") != ""  # no KeyError escapes


def test_babel_formats_numbers_and_dates() -> None:
    from datetime import UTC, datetime

    assert Translator("en").number(12345) == "12,345"
    when = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    assert "2026" in Translator("ja").datetime(when) and "12:00" in Translator("ja").datetime(when)  # JST
