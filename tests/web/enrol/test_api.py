"""The demo contract's enrolment paths, against a real store and a real SMTP server."""

from __future__ import annotations

import base64
import plistlib
import subprocess

from fastapi.testclient import TestClient

from tests.web.enrol.conftest import PortalEnv, api_signup
from tsunagaru.idp import users
from tsunagaru.store.enrol_tables import EnrolCode


def test_start_verify_device_profile_revoke(client: TestClient, penv: PortalEnv) -> None:
    token = api_signup(client, penv, "Visitor@Example.org")
    auth = {"Authorization": f"Bearer {token}"}
    r = client.post("/api/v1/enrol/devices", json={"platform": "ios", "method": "ttls"}, headers=auth)
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) >= {"id", "username", "password", "profile_url", "expires_at"}
    assert body["username"].endswith("@idp.tsunagaru.test")
    profile = client.get(body["profile_url"])
    assert profile.status_code == 200
    assert profile.headers["content-type"] == "application/x-apple-aspen-config"
    # the profile is CMS-signed; openssl takes its content out and the plist carries the device's username
    out = subprocess.run(["openssl", "cms", "-verify", "-noverify", "-inform", "DER"], input=profile.content,
                         capture_output=True, check=True)
    plist = plistlib.loads(out.stdout)
    assert body["username"] in repr(plist) and body["password"] in repr(plist)
    # a link works once
    again = client.get(body["profile_url"])
    assert again.status_code == 410 and again.json()["error"]["code"] == "link_used"
    with penv.store.session() as s:
        user = users.find_user(s, body["username"])
        assert user is not None and user.enabled and user.mschapv2_enabled
    listed = client.get("/api/v1/enrol/devices", headers=auth).json()
    assert [d["id"] for d in listed["items"]] == [body["id"]]
    r = client.delete(f"/api/v1/enrol/devices/{body['id']}", headers=auth)
    assert r.status_code == 200 and r.json()["revoked"] is True
    with penv.store.session() as s:
        user = users.find_user(s, body["username"])
        assert user is not None and not user.enabled


def test_tls_device_has_a_recorded_certificate_and_no_password(client: TestClient, penv: PortalEnv) -> None:
    auth = {"Authorization": f"Bearer {api_signup(client, penv, 'tls@example.org')}"}
    r = client.post("/api/v1/enrol/devices", json={"platform": "wpa_supplicant", "method": "tls"}, headers=auth)
    assert r.status_code == 201, r.text
    body = r.json()
    assert "password" not in body
    conf = client.get(body["profile_url"])
    assert conf.headers["content-type"].startswith("text/plain")
    assert "blob-base64-openroaming-key" in conf.text and 'private_key="blob://openroaming-key"' in conf.text
    with penv.store.session() as s:
        certs = users.list_certificates(s, body["username"])
        assert len(certs) == 1 and certs[0].revoked_at is None
    client.delete(f"/api/v1/enrol/devices/{body['id']}", headers=auth)
    with penv.store.session() as s:
        assert users.list_certificates(s, body["username"])[0].revoked_at is not None


def test_windows_gets_a_settings_link_and_ttls_only(client: TestClient, penv: PortalEnv) -> None:
    auth = {"Authorization": f"Bearer {api_signup(client, penv, 'win@example.org')}"}
    r = client.post("/api/v1/enrol/devices", json={"platform": "windows", "method": "tls"}, headers=auth)
    assert r.status_code == 422 and r.json()["error"]["code"] == "method_not_offered"
    r = client.post("/api/v1/enrol/devices", json={"platform": "windows", "method": "ttls"}, headers=auth)
    body = r.json()
    assert body["windows_link"] == "ms-settings:wifi-provisioning?uri=" + body["profile_url"]
    xml = client.get(body["profile_url"])  # what Windows' Settings app fetches, without the browser's cookies
    assert xml.status_code == 200 and b"CarrierProvisioning" in xml.content and b"SignatureValue" in xml.content


def test_android_profile_is_base64_mime(client: TestClient, penv: PortalEnv) -> None:
    auth = {"Authorization": f"Bearer {api_signup(client, penv, 'droid@example.org')}"}
    for method in ("ttls", "tls"):
        body = client.post("/api/v1/enrol/devices", json={"platform": "android", "method": method},
                           headers=auth).json()
        r = client.get(body["profile_url"])
        assert r.headers["content-type"].startswith("application/x-wifi-config")
        mime = base64.b64decode(r.content)
        assert b"application/x-passpoint-profile" in mime and b"application/x-x509-ca-cert" in mime
        assert (b"application/x-pkcs12" in mime) == (method == "tls")


def test_codes_are_hashed_at_rest(client: TestClient, penv: PortalEnv) -> None:
    client.post("/api/v1/enrol/start", json={"email": "hash@example.org", "lang": "ja"})
    code = penv.code_for("hash@example.org")
    with penv.store.session() as s:
        row = s.query(EnrolCode).one()
        assert code not in row.code_hash and len(row.code_hash) == 64
