"""Deliver 4: real headless Chromium (Debian's, driven by Playwright) walks the portal: sign-up, the code
read from the SMTP sink, device choice, download, my devices, revoke; in Japanese and in English. Every
page is screenshotted to ``artefacts/enrol/`` (for a person to look at), must log no console error, and
every form control on it must have an accessible name.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from tests.support.procs import need
from tests.web.enrol.conftest import PortalEnv, Served
from tsunagaru.idp import users

CHROMIUM = "/usr/bin/chromium"
ARTEFACTS = Path(__file__).resolve().parents[3] / "artefacts" / "enrol"
ANDROID_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/126.0 Mobile Safari/537.36")

UNNAMED_CONTROLS = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
  .filter(el => {
    const label = el.labels ? [...el.labels].map(l => l.textContent.trim()).join('') : '';
    const own = el.getAttribute('aria-label') || el.getAttribute('title') || '';
    const text = el.tagName === 'BUTTON' ? el.textContent.trim() : '';
    return !(label || own.trim() || text);
  }).map(el => el.outerHTML)"""

TEXT = {
    "ja": {"send": "コードを送る", "continue": "次へ", "choose": "端末を選んでください",
           "download": "プロファイルをダウンロード", "mine": "マイデバイス", "remove": "削除",
           "removed": "端末を削除しました", "pick": "iPhone / iPad 用のプロファイルを作る",
           "wrong": "コードが違います"},
    "en": {"send": "Send me a code", "continue": "Continue", "choose": "Choose your device",
           "download": "Download the profile", "mine": "My devices", "remove": "Remove",
           "removed": "The device was removed", "pick": "Get the profile for Android",
           "wrong": "That code is not right"},
}


class Walk:
    def __init__(self, page: Page, lang: str) -> None:
        self.page = page
        self.lang = lang
        self.errors: list[str] = []
        self.shots: list[Path] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def expect_refusal(self, status: int) -> None:
        """A form refused on purpose answers with its 4xx status, which Chromium logs: that one is expected."""
        assert self.errors == [f"Failed to load resource: the server responded with a status of {status} "
                               "(Bad Request)"], self.errors
        self.errors.clear()

    def check(self, name: str) -> None:
        unnamed = self.page.evaluate(UNNAMED_CONTROLS)
        assert unnamed == [], f"{name}: controls without an accessible name: {unnamed}"
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTEFACTS / f"{self.lang}-{len(self.shots) + 1:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)
        assert self.errors == [], f"{name}: console errors {self.errors}"


@pytest.mark.interop
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_walk_the_portal(penv: PortalEnv, lang: str, tmp_path: Path) -> None:
    need(CHROMIUM)
    text = TEXT[lang]
    address = f"chromium-{lang}@example.org"
    with Served(penv.app) as served, sync_playwright() as p:
        penv.portal.public_url = served.url
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            context = browser.new_context(locale="ja-JP" if lang == "ja" else "en-US", accept_downloads=True,
                                          viewport={"width": 390, "height": 844},  # a phone
                                          user_agent=None if lang == "ja" else ANDROID_UA)
            walk = Walk(context.new_page(), lang)
            page = walk.page
            page.goto(served.url + "/enrol/")
            assert page.locator("html").get_attribute("lang") == lang
            walk.check("start")
            page.get_by_label("メールアドレス" if lang == "ja" else "E-mail address").fill(address)
            page.get_by_role("button", name=text["send"]).click()
            page.wait_for_load_state()
            walk.check("code")
            page.get_by_role("textbox").fill("000000" if penv.code_for(address) != "000000" else "111111")
            page.get_by_role("button", name=text["continue"]).click()
            assert text["wrong"] in page.locator("[role=alert]").inner_text()
            walk.expect_refusal(400)
            walk.check("code-wrong")
            page.get_by_role("textbox").fill(penv.code_for(address))
            page.get_by_role("button", name=text["continue"]).click()
            page.get_by_role("heading", name=text["choose"]).wait_for()
            walk.check("choose")
            if lang == "en":  # the Android browser's offer comes first
                assert page.locator("form.card h2").first.inner_text() == "Android"
            page.get_by_role("button", name=text["pick"]).click()
            page.get_by_role("link", name=text["download"]).wait_for()
            walk.check("ready")
            with page.expect_download() as info:
                page.get_by_role("link", name=text["download"]).click()
            download = info.value
            saved = tmp_path / download.suggested_filename
            download.save_as(saved)
            assert saved.stat().st_size > 500
            assert saved.suffix == (".mobileconfig" if lang == "ja" else ".config")
            page.get_by_role("link", name=text["mine"]).first.click()
            page.get_by_role("heading", name=text["mine"]).wait_for()
            walk.check("devices")
            username = page.locator(".devices code").first.inner_text()
            page.get_by_role("button", name=text["remove"]).first.click()
            assert text["removed"] in page.locator("[role=status]").inner_text()
            walk.check("revoked")
            with penv.store.session() as s:
                user = users.find_user(s, username)
                assert user is not None and not user.enabled
            page.goto(served.url + "/enrol/about")
            walk.check("about")
        finally:
            browser.close()


@pytest.mark.interop
def test_visitor_pages_in_chinese_and_korean(penv: PortalEnv) -> None:
    need(CHROMIUM)
    expected = {"zh_Hans": ("zh-Hans", "什么是 OpenRoaming？"), "zh_Hant": ("zh-Hant", "什麼是 OpenRoaming？"),
                "ko": ("ko", "OpenRoaming이란?")}
    with Served(penv.app) as served, sync_playwright() as p:
        penv.portal.public_url = served.url
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            for lang, (html_lang, heading) in expected.items():
                walk = Walk(browser.new_page(viewport={"width": 390, "height": 844}), lang)
                walk.page.goto(f"{served.url}/enrol/about?lang={lang}")
                assert walk.page.locator("html").get_attribute("lang") == html_lang
                assert walk.page.get_by_role("heading", level=1).inner_text() == heading
                walk.check("about")
                walk.page.goto(f"{served.url}/enrol/")  # the cookie keeps the choice
                assert walk.page.locator("html").get_attribute("lang") == html_lang
                walk.check("start")
        finally:
            browser.close()
