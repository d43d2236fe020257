"""``web.trusted_proxies``: behind nginx, the per-address login limit counts the client's address (from
X-Forwarded-For) and not the proxy's; without it the header is never believed (a client could forge it).

A real ``tsunagaru web serve`` (uvicorn) on loopback; the test plays the proxy at 127.0.0.1.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

from tests.web.server import web_server

ATTEMPTS = 2


def _login(url: str, user: str, forwarded_for: str) -> int:
    req = urllib.request.Request(url + "/api/v1/auth/token", method="POST",
                                 data=json.dumps({"username": user, "password": "wrong-password"}).encode(),
                                 headers={"Content-Type": "application/json", "X-Forwarded-For": forwarded_for})
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _second_client_after_the_first_is_limited(url: str) -> int:
    """Fail ATTEMPTS logins from one client (different names, so only the address limit applies), then
    return what a second client's first attempt gets."""
    first = [_login(url, f"nobody-{i}", "198.51.100.7") for i in range(ATTEMPTS + 1)]
    assert first == [401] * ATTEMPTS + [429], first
    return _login(url, "nobody-else", "198.51.100.8")


def test_a_trusted_proxy_passes_the_client_address(tmp_path: Path) -> None:
    extra = f'login_attempts = {ATTEMPTS}\ntrusted_proxies = ["127.0.0.1"]\n'
    with web_server(tmp_path, extra) as server:
        assert _second_client_after_the_first_is_limited(server.url) == 401  # its own count


def test_without_trusted_proxies_the_header_is_not_believed(tmp_path: Path) -> None:
    with web_server(tmp_path, f"login_attempts = {ATTEMPTS}\n") as server:
        assert _second_client_after_the_first_is_limited(server.url) == 429  # one address: the proxy's
