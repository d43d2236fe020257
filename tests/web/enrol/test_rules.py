"""Pure rules: e-mail syntax, code cleaning, platform detection and the order of offers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsunagaru.web.enrol.messages import Catalogs
from tsunagaru.web.enrol.platforms import Platform, detect, offers
from tsunagaru.web.enrol.rules import InvalidEmail, clean_code, device_name, normalise_email

UAS = {
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1": Platform.IOS,
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 "
    "Safari/605.1.15": Platform.MACOS,
    "Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0 Mobile "
    "Safari/537.36": Platform.ANDROID,
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0 Safari/537.36 "
    "Edg/125.0": Platform.WINDOWS,
}


@pytest.mark.parametrize(("ua", "platform"), UAS.items())
def test_detect(ua: str, platform: Platform) -> None:
    assert detect(ua) is platform
    assert offers(detect(ua))[0] is platform and sorted(offers(detect(ua))) == sorted(Platform)


def test_unknown_agents_get_no_guess() -> None:
    assert detect(None) is None and detect("") is None and detect("curl/8.5") is None
    assert detect("x" * 100_000) is None
    assert offers(None) == list(Platform)


def test_emails() -> None:
    assert normalise_email("  Taro.Yamada+wifi@Example.CO.JP ") == "taro.yamada+wifi@example.co.jp"
    for bad in ("", "a", "a@b", "a@@b.jp", "a b@c.jp", '"q"@c.jp', "a@-b.jp", "a@b.jp\r\nBcc: x@y.jp",
                "ａ@example.jp", "a" * 65 + "@example.jp", "a@" + "b" * 250 + ".jp"):
        with pytest.raises(InvalidEmail):
            normalise_email(bad)


def test_codes() -> None:
    assert clean_code("123456") == "123456"
    assert clean_code(" 123 456 ") == "123456"
    assert clean_code("１２３４５６") == "123456"
    assert clean_code("123-456") == "123456"
    for bad in ("12345", "1234567", "12a456", "", "١٢٣٤٥٦x", "²²²²²²"):
        assert clean_code(bad) is None


@given(st.text(max_size=200))
def test_clean_code_and_names_never_raise(text: str) -> None:
    code = clean_code(text)
    assert code is None or (len(code) == 6 and code.isascii() and code.isdigit())
    name = device_name(text, "fallback")
    assert 1 <= len(name) <= 64 and name.isprintable()


@given(st.text(max_size=600))
def test_accept_language_never_raises(header: str) -> None:
    found = CATALOGS.negotiate(header)
    assert found is None or found in ("en", "ja", "zh_Hans", "zh_Hant", "ko")


CATALOGS = Catalogs()


def test_language_choice() -> None:
    assert CATALOGS.negotiate("zh-TW,zh;q=0.8") == "zh_Hant"
    assert CATALOGS.negotiate("fr-CH, fr;q=0.9, ko;q=0.8, en;q=0.7") == "ko"
    assert CATALOGS.negotiate("de") is None
    assert CATALOGS.pick("zh-Hans-CN") == "zh_Hans" and CATALOGS.pick("klingon") == "en"
