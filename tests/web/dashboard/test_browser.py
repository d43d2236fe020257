"""The dashboard in real headless Chromium (Debian's, driven by Playwright) for every role, in Japanese and
English: the map draws the boundaries and the sites' markers from local assets only, filters work, the site,
AP, usage, alert, IdP and incident pages render, no console errors, and every form control has an accessible
name. Screenshots go to ``artefacts/dashboard/`` (look at them after changing a page)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.web.dashboard.fleetdata import add_fleet, add_idp_peers, add_usage
from tests.web.seed import PASSWORD, SHINJUKU
from tests.web.server import WebServer, web_server
from tsunagaru.store import Store

ARTEFACTS = Path(__file__).resolve().parents[3] / "artefacts" / "dashboard"
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    with web_server(tmp_path_factory.mktemp("dash")) as ws:
        store = Store.open(ws.db_url)
        now = datetime.now(UTC)
        with store.session() as db:
            add_fleet(db, 400, now, operator_id=ws.seeded.booth_org)
            add_usage(db, now, [("municipality", SHINJUKU), ("municipality", "131016"),
                                ("site", str(ws.seeded.shinjuku_site))])
            add_idp_peers(db, now)
        store.dispose()
        yield ws


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "Debian's chromium is required (apt-get install chromium)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def open_page(browser: Browser, server: WebServer, user: str, locale: str) -> tuple[Page, list[str], list[str]]:
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    foreign: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: foreign.append(r.url) if not r.url.startswith(server.url) else None)
    page.goto(f"{server.url}/login?next=/dashboard")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard")
    return page, errors, foreign


def unnamed_controls(page: Page) -> list[str]:
    return page.evaluate("""() => Array.from(
        document.querySelectorAll('input:not([type=hidden]), select, textarea, button'))
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.textContent.trim())
        .map(el => el.outerHTML.slice(0, 80))""")


def markers_shown(page: Page) -> int:
    try:
        page.wait_for_selector("#map.map-ready.boundaries-ready", timeout=30_000)  # markers and boundaries drawn
    except Exception:
        page.screenshot(path=str(ARTEFACTS / "failed.png"), full_page=True)
        raise AssertionError(f"map not ready at {page.url}: {page.locator('#map-status').inner_text()!r}, "
                             f"classes {page.get_attribute('#map', 'class')!r}") from None
    return int(page.get_attribute("#map", "data-markers") or "0")


ROLES = [("admin", "ja"), ("admin", "en"), ("shinjuku", "ja"), ("booth", "en"), ("viewer", "ja"), ("auditor", "en")]


@pytest.mark.parametrize(("user", "locale"), ROLES)
def test_map_for_each_role(browser: Browser, server: WebServer, user: str, locale: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page, errors, foreign = open_page(browser, server, user, locale)
    shown = markers_shown(page)
    assert page.locator(".leaflet-marker-icon").count() > 0  # clusters or markers drawn
    page.screenshot(path=str(ARTEFACTS / f"map-{user}-{locale}.png"), full_page=True)
    assert unnamed_controls(page) == []
    totals = page.evaluate("fetch('/api/v1/map/sites').then(r => r.json()).then(d => d.total)")
    assert shown == totals
    if user == "shinjuku":
        rows = page.evaluate("fetch('/api/v1/map/sites').then(r => r.json()).then(d => d.rows.map(r => r[0]))")
        assert server.seeded.chiyoda_site not in rows and server.seeded.shinjuku_site in rows
    if user == "admin":
        assert shown >= 400
    if user == "booth":
        assert 0 < shown < 400  # its phone booths only
    heading = page.locator("h1").first.inner_text()
    assert heading == ("ネットワーク地図" if locale == "ja" else "Network map")
    assert errors == [] and foreign == []
    page.context.close()


def test_filters_and_detail_pages(browser: Browser, server: WebServer) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page, errors, foreign = open_page(browser, server, "admin", "ja")
    markers_shown(page)
    page.select_option("#f-state", "critical")
    page.select_option("#f-category", "shelter")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**state=critical**")
    filtered = markers_shown(page)
    assert 0 < filtered < 100
    page.screenshot(path=str(ARTEFACTS / "map-filtered-ja.png"), full_page=True)
    for path, name in [(f"/dashboard/sites/{server.seeded.shinjuku_site}", "site"),
                       (f"/dashboard/aps/{server.seeded.shinjuku_ap}", "ap"), ("/dashboard/usage", "usage"),
                       ("/dashboard/alerts", "alerts"), ("/dashboard/incidents", "incidents")]:
        page.goto(server.url + path)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(ARTEFACTS / f"{name}-ja.png"), full_page=True)
        assert unnamed_controls(page) == [], path
    page.goto(server.url + "/dashboard/usage")
    ok = page.evaluate("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    assert ok, "the usage chart (SVG) did not load"
    assert errors == [] and foreign == []
    page.context.close()


def test_incident_declared_on_the_page_and_its_view(browser: Browser, server: WebServer) -> None:
    page, errors, foreign = open_page(browser, server, "admin", "ja")
    page.goto(server.url + "/dashboard/incidents")
    page.select_option("#i-municipality", SHINJUKU)
    page.fill("#i-hours", "100")
    page.fill("#i-reason", "訓練")
    page.click("form.card button[type=submit]")
    assert "終了は最大 72 時間後までです。" in page.locator(".error").inner_text()  # in Japanese, nothing stored
    assert errors == ["Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"]
    errors.clear()  # the refused form is answered 422 on purpose
    page.screenshot(path=str(ARTEFACTS / "incident-error-ja.png"), full_page=True)
    page.fill("#i-hours", "6")
    page.click("form.card button[type=submit]")
    page.wait_for_url("**/dashboard/incidents/inc-*")
    markers_shown(page)
    assert page.locator("table tbody tr").count() > 1
    first = page.locator("table tbody tr").first
    assert "shelter" in (first.get_attribute("class") or "")  # shelters first
    page.screenshot(path=str(ARTEFACTS / "incident-ja.png"), full_page=True)
    page.goto(server.url + "/dashboard")
    markers_shown(page)
    assert page.locator(".incident-banner").count() == 1
    page.screenshot(path=str(ARTEFACTS / "map-incident-ja.png"), full_page=True)
    page.go_back()
    page.goto(page.url)
    page.click("text=今すぐインシデントを終了")
    assert page.locator(".phase-ended").count() >= 1
    page.screenshot(path=str(ARTEFACTS / "incident-ended-ja.png"), full_page=True)
    assert errors == [] and foreign == []
    page.context.close()


def test_assets_are_local_and_the_map_api_is_scoped(server: WebServer) -> None:
    for name in ("leaflet.js", "leaflet.css", "leaflet.markercluster.js", "MarkerCluster.Default.css"):
        assert httpx.get(f"{server.url}/assets/leaflet/{name}").status_code == 200
    assert httpx.get(f"{server.url}/assets/leaflet/../__init__.py").status_code == 404
    assert httpx.get(f"{server.url}/api/v1/map/sites").status_code == 401
    token = httpx.post(f"{server.url}/api/v1/auth/token", json={"username": "shinjuku", "password": PASSWORD}).json()
    r = httpx.get(f"{server.url}/api/v1/map/sites?state=bogus!", headers={"Authorization": f"Bearer {token['token']}"})
    assert r.status_code == 422 and r.json()["error"]["code"]
    since = datetime.now(UTC) - timedelta(days=1)
    assert since  # the map's rows carry no personal data: id, position, state, category, name


@pytest.mark.parametrize(("user", "locale"), [("admin", "ja"), ("booth", "en")])
def test_alert_history_pages(browser: Browser, server: WebServer, user: str, locale: str) -> None:
    """The alert job's stored history on the alert list and an AP page, in both languages, per role."""
    from tsunagaru.ops.jobs import alerts_job

    store = Store.open(server.db_url)
    try:
        alerts_job(store)(datetime.now(UTC))
    finally:
        store.dispose()
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page, errors, foreign = open_page(browser, server, user, locale)
    page.goto(server.url + "/dashboard/alerts")
    heading = page.locator("#alert-history").inner_text()
    assert heading == ("アラート履歴" if locale == "ja" else "Alert history")
    rows = page.locator("table.alert-history tbody tr.alert-open")
    assert rows.count() > 0
    page.screenshot(path=str(ARTEFACTS / f"alert-history-{user}-{locale}.png"), full_page=True)
    link = rows.first.locator("a").first.get_attribute("href")
    assert link is not None
    page.goto(server.url + link)
    assert page.locator("table.alert-history tbody tr.alert-open").count() >= 1
    assert unnamed_controls(page) == [] and errors == [] and foreign == []
    page.context.close()


@pytest.mark.parametrize(("user", "locale"), [("admin", "ja"), ("admin", "en"), ("shinjuku", "ja"), ("booth", "en")])
def test_idp_list_for_each_role(browser: Browser, server: WebServer, user: str, locale: str) -> None:
    """The IdP list reached from the dashboard's navigation: realms with their states; the peers (addresses,
    nodes, counters) for the city-wide roles, the states only for municipality and site operators."""
    from tsunagaru.ops.jobs import alerts_job

    store = Store.open(server.db_url)
    try:
        alerts_job(store)(datetime.now(UTC))  # the partner realm's alert into the history
    finally:
        store.dispose()
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page, errors, foreign = open_page(browser, server, user, locale)
    page.click("nav.dash-nav a[href='/dashboard/idps']")
    page.wait_for_url("**/dashboard/idps")
    assert page.locator("h1").first.inner_text() == ("IDプロバイダ" if locale == "ja" else "Identity providers")
    rows = page.locator("table.idps tbody tr.idp")
    assert rows.count() == 4
    assert rows.first.get_attribute("data-realm") == "partner.example"  # degraded first
    assert page.locator("tr[data-realm='idp.tsunagaru.test'] .health-up").count() >= 1
    peers = page.locator("table.idps ul.peers li").count()
    if user == "admin":
        assert peers >= 5 and "192.0.2.10:2083" in page.locator("table.idps").inner_text()
    else:
        assert peers == 0 and "192.0.2" not in page.content()
    assert page.locator("table.alert-history tbody tr.alert-open").count() >= 1
    page.screenshot(path=str(ARTEFACTS / f"idps-{user}-{locale}.png"), full_page=True)
    assert unnamed_controls(page) == [] and errors == [] and foreign == []
    page.context.close()


@pytest.mark.parametrize(("user", "locale"), ROLES)
def test_every_dashboard_page_for_each_role(browser: Browser, server: WebServer, user: str, locale: str) -> None:
    """Issue 13's "the dashboard in Chromium with each role": every page of the navigation, the role's own
    site and AP pages, and a site out of its scope (404, in its language, nothing of the site shown)."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    s = server.seeded
    own_site, own_ap = (s.chiyoda_site, s.chiyoda_ap) if user == "booth" else (s.shinjuku_site, s.shinjuku_ap)
    foreign_site = {"shinjuku": s.chiyoda_site, "booth": s.shinjuku_site}.get(user)
    page, errors, foreign = open_page(browser, server, user, locale)
    markers_shown(page)
    for path in ("/dashboard/alerts", "/dashboard/idps", "/dashboard/usage", "/dashboard/incidents",
                 f"/dashboard/sites/{own_site}", f"/dashboard/aps/{own_ap}"):
        response = page.goto(server.url + path)
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("networkidle")
        assert page.locator("nav.dash-nav a").count() == 5, path
        assert unnamed_controls(page) == [], path
        name = path.strip("/").replace("/", "-")
        page.screenshot(path=str(ARTEFACTS / f"role-{user}-{locale}-{name}.png"), full_page=True)
    if foreign_site is not None:
        response = page.goto(f"{server.url}/dashboard/sites/{foreign_site}")
        assert response is not None and response.status == 404
        assert ("見つかりません" if locale == "ja" else "Not found") in page.content()
        errors[:] = [e for e in errors if "404" not in e]  # the refused page is answered 404 on purpose
    assert errors == [] and foreign == []
    page.context.close()
