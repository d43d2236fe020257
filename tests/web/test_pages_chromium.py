"""The pages in real headless Chromium (Debian's, driven by Playwright), in Japanese and in English.

Each page: no console errors, every form control has an accessible name, the language is the one the
browser asked for (no English label on the Japanese page and no Japanese on the English one, for the
words in our catalogs), and a full-page screenshot in ``artefacts/web/`` for a person to look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.web.seed import PASSWORD
from tests.web.server import WebServer, web_server

ARTEFACTS = Path(__file__).resolve().parents[2] / "artefacts" / "web"
CHROMIUM = "/usr/bin/chromium"
KANA = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")

# what a control's accessible name is made of, computed in the page (label, aria-label, title)
UNNAMED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
  .filter(el => {
    const byLabel = el.labels && [...el.labels].some(l => l.textContent.trim());
    const own = (el.getAttribute('aria-label') || el.getAttribute('title') || '').trim();
    const text = el.tagName === 'BUTTON' ? el.textContent.trim() : '';
    return !(byLabel || own || text);
  }).map(el => el.outerHTML.slice(0, 120))"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    with web_server(tmp_path_factory.mktemp("pages")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def _signed_in(browser: Browser, server: WebServer, locale: str, username: str = "admin") -> tuple[Page, list[str]]:
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server.url + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(server.url + "/")
    return page, errors


def _check(page: Page, errors: list[str], name: str, lang: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"{name}-{lang}.png"), full_page=True)
    assert errors == [], errors
    assert page.evaluate(UNNAMED) == [], f"controls without an accessible name on {name}"
    assert page.get_attribute("html", "lang") == lang
    chrome = page.inner_text("header") + page.inner_text("main h1")
    if lang == "ja":
        assert KANA.search(chrome), chrome
    else:
        assert not KANA.search(page.inner_text("header nav")), chrome


PAGES = [("home", "/"), ("sites", "/sites"), ("site", "/sites/{shinjuku_site}"), ("site-new", "/sites/new"),
         ("aps", "/aps"), ("ap", "/aps/{shinjuku_ap}"), ("ap-new", "/aps/new?site_id={shinjuku_site}"),
         ("tenants", "/tenants"), ("users", "/users"), ("audit", "/audit"), ("account", "/account")]


@pytest.mark.parametrize("locale", ["ja-JP", "en-US"])
def test_pages_in_both_languages(browser: Browser, server: WebServer, locale: str) -> None:
    lang = locale[:2]
    page, errors = _signed_in(browser, server, locale)
    for name, path in PAGES:
        page.goto(server.url + path.format(**server.seeded.__dict__))
        _check(page, errors, name, lang)
    page.context.close()


def test_public_pages_and_the_language_switch(browser: Browser, server: WebServer) -> None:
    context = browser.new_context(locale="ja-JP")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(server.url + "/apply")
    _check(page, errors, "apply", "ja")
    page.click("a[hreflang=en]")
    assert page.get_attribute("html", "lang") == "en"
    _check(page, errors, "apply", "en")
    page.goto(server.url + "/login")
    _check(page, errors, "login", "en")  # the choice is remembered (cookie) over Accept-Language
    context.close()


def test_a_form_error_is_shown_in_japanese(browser: Browser, server: WebServer) -> None:
    page, errors = _signed_in(browser, server, "ja-JP", "shinjuku")
    page.goto(server.url + "/sites/new")
    page.fill("#name", "範囲外のサイト")
    page.select_option("#municipality_code", "131016")  # Chiyoda: outside Shinjuku's scope
    page.click("main button[type=submit]")
    alert = page.inner_text("[role=alert]")
    assert KANA.search(alert), alert
    _check(page, [e for e in errors if "422" not in e], "site-new-error", "ja")
    page.goto(server.url + "/sites?q=範囲外")
    assert "範囲外のサイト" not in page.inner_text("main")  # nothing stored
    page.context.close()


def test_an_application_and_its_approval(browser: Browser, server: WebServer) -> None:
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.goto(server.url + "/apply")
    page.fill("#name", "Hotel Example Shinjuku")
    page.fill("#contact_email", "it@hotel.example")
    page.fill("#note", "2 APs in the lobby")
    page.click("main button[type=submit]")
    assert "Thank you" in page.inner_text("[role=status]")
    context.close()
    page, errors = _signed_in(browser, server, "en-US")
    page.goto(server.url + "/tenants")
    page.click("button[aria-label='Approve Hotel Example Shinjuku']")
    row = page.locator("tr", has_text="Hotel Example Shinjuku")
    assert "approved" in row.inner_text()
    _check(page, errors, "tenants-approved", "en")
    page.context.close()
