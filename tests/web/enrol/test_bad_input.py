"""Deliver 5: wrong, expired and replayed codes and links, oversized fields, non-UTF-8, unknown platforms,
revoked and disabled people: a clear message in the person's language, and nothing half-stored."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.web.enrol.conftest import PortalEnv, api_signup
from tsunagaru.store.enrol_tables import EnrolCode, EnrolDevice, EnrolToken
from tsunagaru.store.idp_tables import User

JA = {"Accept-Language": "ja-JP,ja;q=0.9"}


def _count(penv: PortalEnv, table: type) -> int:
    with penv.store.session() as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


def _err(r: object) -> tuple[int, str, str]:
    body = r.json()  # type: ignore[attr-defined]
    return r.status_code, body["error"]["code"], body["error"]["message"]  # type: ignore[attr-defined]


def test_wrong_codes_count_and_lock(client: TestClient, penv: PortalEnv) -> None:
    client.post("/api/v1/enrol/start", json={"email": "w@example.org", "lang": "ja"})
    good = penv.code_for("w@example.org")
    bad = "000000" if good != "000000" else "111111"
    for _ in range(4):
        assert _err(client.post("/api/v1/enrol/verify", json={"email": "w@example.org", "code": bad}, headers=JA))[:2] \
            == (400, "code_wrong")
    status, code, message = _err(client.post("/api/v1/enrol/verify", json={"email": "w@example.org", "code": bad},
                                             headers=JA))
    assert (status, code) == (429, "code_attempts") and message.startswith("間違ったコードが多すぎます")
    # even the right code no longer opens it
    assert _err(client.post("/api/v1/enrol/verify", json={"email": "w@example.org", "code": good}))[1] \
        == "code_attempts"
    assert _count(penv, EnrolToken) == 0


def test_expired_and_replayed_and_superseded_codes(client: TestClient, penv: PortalEnv) -> None:
    client.post("/api/v1/enrol/start", json={"email": "e@example.org"})
    code = penv.code_for("e@example.org")
    penv.clock.advance(timedelta(minutes=11))
    assert _err(client.post("/api/v1/enrol/verify", json={"email": "e@example.org", "code": code}))[:2] \
        == (400, "code_expired")
    client.post("/api/v1/enrol/start", json={"email": "e@example.org"})
    first = penv.code_for("e@example.org")
    client.post("/api/v1/enrol/start", json={"email": "e@example.org"})
    second = penv.code_for("e@example.org")
    if first != second:
        assert _err(client.post("/api/v1/enrol/verify", json={"email": "e@example.org", "code": first}))[1] \
            in ("code_wrong", "code_used")
    assert client.post("/api/v1/enrol/verify", json={"email": "e@example.org", "code": second}).status_code == 200
    replay = client.post("/api/v1/enrol/verify", json={"email": "e@example.org", "code": second}, headers=JA)
    status, code_key, message = _err(replay)
    assert (status, code_key) == (400, "code_used") and "使用済み" in message


def test_full_width_digits_from_a_japanese_keyboard_are_accepted(client: TestClient, penv: PortalEnv) -> None:
    client.post("/api/v1/enrol/start", json={"email": "fw@example.org"})
    code = penv.code_for("fw@example.org")
    wide = "".join(chr(ord(c) - ord("0") + ord("０")) for c in code)
    assert client.post("/api/v1/enrol/verify", json={"email": "fw@example.org", "code": wide}).status_code == 200


def test_rate_limits_per_address_and_per_source(client: TestClient, penv: PortalEnv) -> None:
    for _ in range(5):
        assert client.post("/api/v1/enrol/start", json={"email": "r@example.org"}).status_code == 202
    status, code, message = _err(client.post("/api/v1/enrol/start", json={"email": "r@example.org"}, headers=JA))
    assert (status, code) == (429, "rate_limited") and "1 時間" in message
    for n in range(15):
        assert client.post("/api/v1/enrol/start", json={"email": f"s{n}@example.org"}).status_code == 202
    assert _err(client.post("/api/v1/enrol/start", json={"email": "another@example.org"}))[:2] == (429, "rate_limited")
    penv.clock.advance(timedelta(hours=1, minutes=1))
    assert client.post("/api/v1/enrol/start", json={"email": "another@example.org"}).status_code == 202


def test_oversized_malformed_and_non_utf8_bodies_store_nothing(client: TestClient, penv: PortalEnv) -> None:
    cases = [
        client.post("/api/v1/enrol/start", json={"email": "a" * 600 + "@example.org"}),
        client.post("/api/v1/enrol/start", content=b'{"email": "\xff\xfe@example.org"}',
                    headers={"Content-Type": "application/json"}),
        client.post("/api/v1/enrol/start", content=b"{not json", headers={"Content-Type": "application/json"}),
        client.post("/api/v1/enrol/start", json=["a@example.org"]),
        client.post("/api/v1/enrol/start", json={"email": 42}),
        client.post("/api/v1/enrol/start", content=b"x" * 20000, headers={"Content-Type": "application/json"}),
    ]
    assert [_err(r)[:2] for r in cases] == [(422, "bad_input")] * len(cases)
    bad_email = client.post("/api/v1/enrol/start", json={"email": "not an address"}, headers=JA)
    assert _err(bad_email)[:2] == (422, "bad_email") and "メールアドレス" in _err(bad_email)[2]
    assert _count(penv, EnrolCode) == 0 and penv.sink.messages() == []


def test_unknown_platform_or_method_makes_no_user(client: TestClient, penv: PortalEnv) -> None:
    auth = {"Authorization": f"Bearer {api_signup(client, penv, 'p@example.org')}"}
    users_before = _count(penv, User)
    for body, key in (({"platform": "symbian", "method": "ttls"}, "unknown_platform"),
                      ({"platform": "ios", "method": "wep"}, "unknown_method"),
                      ({"platform": "windows", "method": "tls"}, "method_not_offered"),
                      ({"platform": "ios"}, "bad_input"),
                      ({"platform": "ios", "method": "ttls", "name": "n" * 1000}, "bad_input")):
        assert _err(client.post("/api/v1/enrol/devices", json=body, headers=auth))[:2] == (422, key)
    assert _count(penv, User) == users_before and _count(penv, EnrolDevice) == 0


def test_mail_server_down_keeps_no_code(client: TestClient, penv: PortalEnv) -> None:
    penv.sink.stop()
    status, code, message = _err(client.post("/api/v1/enrol/start", json={"email": "m@example.org"}, headers=JA))
    assert (status, code) == (503, "mail_failed") and "メールを送れません" in message
    assert _count(penv, EnrolCode) == 0


def test_profile_links_once_unknown_expired_and_revoked(client: TestClient, penv: PortalEnv) -> None:
    auth = {"Authorization": f"Bearer {api_signup(client, penv, 'l@example.org')}"}
    made = [client.post("/api/v1/enrol/devices", json={"platform": "ios", "method": "ttls"}, headers=auth).json()
            for _ in range(3)]
    assert client.get(made[0]["profile_url"]).status_code == 200
    assert _err(client.get(made[0]["profile_url"], headers=JA))[:2] == (410, "link_used")
    assert _err(client.get("/enrol/p/" + "A" * 43))[:2] == (404, "link_invalid")
    assert _err(client.get("/enrol/p/" + "A" * 300))[:2] == (404, "link_invalid")
    client.delete(f"/api/v1/enrol/devices/{made[1]['id']}", headers=auth)
    assert _err(client.get(made[1]["profile_url"]))[1] in ("device_revoked", "link_used")
    penv.clock.advance(timedelta(minutes=16))
    status, code, message = _err(client.get(made[2]["profile_url"], headers=JA))
    assert (status, code) == (410, "link_expired") and "有効期限" in message
    page = client.get(made[2]["profile_url"], headers={**JA, "Accept": "text/html"})
    assert page.status_code == 410 and "このリンクは有効期限が切れました" in page.text
    with penv.store.session() as s:  # nothing left to open: the revoked device's sealed profile was erased
        assert s.scalar(select(EnrolToken.payload).where(EnrolToken.device_id == made[1]["id"])) is None


def test_bearer_tokens_wrong_expired_or_of_another_kind(client: TestClient, penv: PortalEnv) -> None:
    for header in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"},
                   {"Authorization": "Bearer " + "x" * 5000}):
        assert _err(client.get("/api/v1/enrol/devices", headers=header))[:2] == (401, "not_signed_in")
    token = api_signup(client, penv, "t@example.org")
    penv.clock.advance(timedelta(hours=2))
    assert _err(client.get("/api/v1/enrol/devices", headers={"Authorization": f"Bearer {token}"}))[1] \
        == "not_signed_in"


def test_someone_elses_device_is_not_found(client: TestClient, penv: PortalEnv) -> None:
    a = {"Authorization": f"Bearer {api_signup(client, penv, 'a@example.org')}"}
    b = {"Authorization": f"Bearer {api_signup(client, penv, 'b@example.org')}"}
    dev = client.post("/api/v1/enrol/devices", json={"platform": "ios", "method": "ttls"}, headers=a).json()
    assert _err(client.delete(f"/api/v1/enrol/devices/{dev['id']}", headers=b))[:2] == (404, "device_not_found")
    assert _err(client.patch(f"/api/v1/enrol/devices/{dev['id']}", json={"name": "x"}, headers=b))[1] \
        == "device_not_found"


def _csrf(client: TestClient) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/enrol/").text)
    assert found
    return found.group(1)


def test_pages_answer_in_the_persons_language(client: TestClient, penv: PortalEnv) -> None:
    token = _csrf(client)
    forged = client.post("/enrol/start", data={"email": "x@example.org", "csrf_token": "forged"}, headers=JA)
    assert forged.status_code == 403 and "フォームが古いか" in forged.text
    long = client.post("/enrol/start", data={"email": "x" * 2000, "csrf_token": token}, headers=JA)
    assert long.status_code == 422 and "長すぎる" in long.text
    raw = client.post("/enrol/start", content=b"email=%FF%FE&csrf_token=" + token.encode(),
                      headers={**JA, "Content-Type": "application/x-www-form-urlencoded"})
    assert raw.status_code == 422 and "メールアドレスの形" in raw.text
    raw = client.post("/enrol/start", content=b"email=\xff\xfe&csrf_token=" + token.encode(),
                      headers={**JA, "Content-Type": "application/x-www-form-urlencoded"})
    assert raw.status_code == 422 and "読み取れません" in raw.text
    ko = client.post("/enrol/start", data={"email": "not-an-address", "csrf_token": token},
                     headers={"Accept-Language": "ko-KR"})
    assert ko.status_code == 422 and "이메일 주소 형식이 아닙니다" in ko.text
    assert _count(penv, EnrolCode) == 0
    # not signed in: the device pages send people back to the start
    r = client.get("/enrol/devices", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/enrol/"
