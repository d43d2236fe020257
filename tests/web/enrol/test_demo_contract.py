"""The demo contract's enrolment paths, driven as a script would: plain HTTP to a served app, the code read
from ``DIR/outbox/*.eml``, the profile fetched from ``profile_url``, the device revoked."""

from __future__ import annotations

import email
import email.policy
import json
import re
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI

from tests.web.enrol.conftest import Served
from tsunagaru.demo_state import DemoPorts, prepare
from tsunagaru.idp import users
from tsunagaru.store import Store
from tsunagaru.web.enrol import demo as enrol_demo
from tsunagaru.web.enrol.router import router
from tsunagaru.web.security import SecurityMiddleware


def _call(method: str, url: str, body: dict[str, object] | None = None,
          token: str | None = None) -> tuple[int, dict[str, str], bytes]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_demo_enrolment_contract(tmp_path: Path) -> None:
    state = prepare(tmp_path / "demo", datetime.now(UTC), DemoPorts())
    app = FastAPI()
    app.include_router(router)
    app.add_middleware(SecurityMiddleware, max_body=1 << 20, https=False)
    store = Store.open(state.db_url)
    with Served(app) as served:
        sink = enrol_demo.attach(app, state.root, secret=b"s" * 32, public_url=served.url, store=store,
                                 sweep_every=0.2)
        try:
            assert _call("POST", served.url + "/api/v1/enrol/start", {"email": "script@example.org",
                                                                      "lang": "en"})[0] == 202
            (eml,) = sorted((state.root / "outbox").glob("*.eml"))
            msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
            code = re.search(r"\b(\d{6})\b", msg.get_body(("plain",)).get_content())  # type: ignore[union-attr]
            assert code
            status, _, body = _call("POST", served.url + "/api/v1/enrol/verify",
                                    {"email": "script@example.org", "code": code.group(1)})
            token = json.loads(body)["token"]
            for platform, method, ctype in (("ios", "ttls", "application/x-apple-aspen-config"),
                                            ("macos", "tls", "application/x-apple-aspen-config"),
                                            ("android", "ttls", "application/x-wifi-config"),
                                            ("windows", "ttls", "application/"),
                                            ("wpa_supplicant", "tls", "text/plain")):
                status, _, body = _call("POST", served.url + "/api/v1/enrol/devices",
                                        {"platform": platform, "method": method}, token)
                assert status == 201, body
                device = json.loads(body)
                assert {"id", "username", "profile_url", "expires_at"} <= set(device)
                assert ("password" in device) == (method == "ttls")
                status, headers, profile = _call("GET", device["profile_url"])
                assert status == 200 and headers["content-type"].startswith(ctype) and profile
                status, _, body = _call("DELETE", f"{served.url}/api/v1/enrol/devices/{device['id']}", token=token)
                assert status == 200 and json.loads(body)["revoked"] is True
                with store.session() as s:
                    assert not users.get_user(s, device["username"]).enabled
            assert enrol_demo.banner_lines(state.root, sink)[1].endswith("outbox/*.eml")
            time.sleep(0.5)  # the sweep thread ran meanwhile (nothing due) and stops with the sink
        finally:
            sink.stop()
            store.dispose()
