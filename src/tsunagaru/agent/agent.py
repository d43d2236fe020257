"""One agent cycle and the loop around it.

    cycle: drop an expired disaster BSS (even offline) -> send a report still owed -> GET config with
           If-None-Match -> on 200 write it atomically, reload hostapd, check it runs, report applied;
           on failure put the last good config back and report error
    loop:  a cycle every ``interval`` seconds +/- ``jitter`` (so 20,000 APs do not poll in step), waking
           early for a disaster BSS's end time; bounded by ``max_cycles`` when given

State (the ETag applied, a report not yet delivered, the disaster end time) survives restarts in
``state_dir/agent-state.json``; the last config that worked is ``state_dir/last-good``.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tsunagaru.agent import hostapd_ctl
from tsunagaru.agent.configtext import STRIP, apply_overrides, has_disaster, parse_until, until_in_text

log = logging.getLogger("tsunagaru.agent")
MAX_CONFIG = 1 << 20  # bytes; a config larger than this is refused (an AP config is a few KiB)
DISASTER_HEADER = "X-Tsunagaru-Disaster-Until"


@dataclass
class AgentSettings:
    url: str  # base, e.g. https://wifi.city.example
    ap_id: int
    token: str
    config_path: Path
    state_dir: Path
    fmt: str = "hostapd"
    radio: str | None = None
    pid_file: Path | None = None
    ctrl: Path | None = None  # hostapd control socket of the interface
    reload_command: list[str] | None = None  # e.g. ["wifi", "reload"] on OpenWrt
    hostapd: str | None = "hostapd"  # the binary that pre-checks a hostapd.conf (None: no check)
    interval: float = 60.0
    jitter: float = 0.2
    timeout: float = 15.0
    set_keys: dict[str, str] = field(default_factory=dict)
    unset_keys: frozenset[str] = frozenset()


@dataclass
class AgentState:
    applied: str | None = None  # the ETag of the config running now
    failed: str | None = None  # an ETag that failed to apply (not retried until it changes)
    disaster_until: str | None = None
    owed: dict[str, str] | None = None  # a report not yet delivered

    @classmethod
    def load(cls, path: Path) -> AgentState:
        try:
            data = json.loads(path.read_text())
            return cls(**{k: data.get(k) for k in ("applied", "failed", "disaster_until", "owed")})
        except (OSError, ValueError, TypeError):
            return cls()

    def save(self, path: Path) -> None:
        write_atomic(path, json.dumps(self.__dict__, sort_keys=True).encode())


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` so that a reader sees the old file or the new one, never half of either."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class Agent:
    def __init__(self, settings: AgentSettings) -> None:
        self.s = settings
        self.s.state_dir.mkdir(parents=True, exist_ok=True)
        self.state_file = self.s.state_dir / "agent-state.json"
        self.last_good = self.s.state_dir / "last-good"
        self.state = AgentState.load(self.state_file)

    # -- HTTP -----------------------------------------------------------------------------------------------
    def _request(self, method: str, path: str, body: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.s.url.rstrip("/") + path, data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.s.token}")
        req.add_header("User-Agent", "tsunagaru-agent")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        for key, value in (headers or {}).items():
            req.add_header(key, value)
        try:
            with urllib.request.urlopen(req, timeout=self.s.timeout) as resp:
                return resp.status, dict(resp.headers.items()), resp.read(MAX_CONFIG + 1)
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers.items()), exc.read(4096)

    def report(self, version: str, result: str, text: str) -> bool:
        """Send a report; keep it owed when the platform cannot be reached."""
        self.state.owed = {"version": version, "result": result, "log": text[-2000:]}
        try:
            status, _, body = self._request("POST", f"/api/v1/aps/{self.s.ap_id}/status", self.state.owed)
        except (OSError, urllib.error.URLError) as exc:
            log.warning("report not delivered (%s); kept for the next cycle", exc)
            return False
        finally:
            self.state.save(self.state_file)
        if status >= 500:
            return False
        if status != 200:
            log.error("report refused: %s %s", status, body[:200].decode(errors="replace"))
        self.state.owed = None
        self.state.save(self.state_file)
        return True

    # -- applying ---------------------------------------------------------------------------------------------
    def _ssid(self, text: str) -> str | None:
        for line in text.splitlines():
            if line.startswith("ssid="):
                return line[5:]
            if line.startswith("bss="):
                break
        return None

    def reload(self, text: str) -> str:
        """Make hostapd (or the platform) take the file just written; returns a line for the report."""
        s = self.s
        if s.reload_command:
            done = subprocess.run(s.reload_command, capture_output=True, text=True, timeout=60, check=False)
            if done.returncode != 0:
                raise hostapd_ctl.ReloadFailed(f"{s.reload_command[0]} exited {done.returncode}: "
                                               f"{(done.stderr or done.stdout)[-300:]}")
        elif s.pid_file is not None:
            hostapd_ctl.sighup(s.pid_file)
        elif s.ctrl is not None and hostapd_ctl.command(s.ctrl, "RELOAD").strip() != "OK":
            raise hostapd_ctl.ReloadFailed("hostapd answered RELOAD with FAIL")
        if s.ctrl is not None and s.fmt == "hostapd":
            time.sleep(0.3)  # let hostapd finish re-reading before asking
            return "hostapd " + hostapd_ctl.wait_enabled(s.ctrl, self._ssid(text))
        return "reloaded"

    def _install(self, text: str) -> str:
        if self.s.fmt == "hostapd" and self.s.hostapd:
            hostapd_ctl.precheck(text, self.s.hostapd)
        write_atomic(self.s.config_path, text.encode(), 0o600)
        return self.reload(text)

    def apply(self, body: bytes, etag: str, until_header: str | None) -> str:
        text = body.decode("utf-8")
        if self.s.fmt == "hostapd":
            text = apply_overrides(text, self.s.set_keys, self.s.unset_keys)
        try:
            outcome = self._install(text)
        except (hostapd_ctl.ReloadFailed, OSError, subprocess.SubprocessError) as exc:
            log.error("config %s did not apply: %s", etag, exc)
            restored = self._restore()
            self.state.failed = etag
            self.report(etag, "error", f"{exc}; {restored}")
            return "error"
        shutil.copyfile(self.s.config_path, self.last_good)
        until = parse_until(until_header) or until_in_text(text)
        self.state.applied, self.state.failed = etag, None
        self.state.disaster_until = until.isoformat() if until else None
        self.state.save(self.state_file)
        self.report(etag, "applied", outcome)
        log.info("applied config %s (%s)", etag, outcome)
        return "applied"

    def _restore(self) -> str:
        if not self.last_good.exists():
            return "no earlier config to go back to"
        try:
            self._install(self.last_good.read_text())
            return "the last good config is back in place"
        except (hostapd_ctl.ReloadFailed, OSError, subprocess.SubprocessError) as exc:
            return f"restoring the last good config failed too: {exc}"

    # -- the disaster BSS's end ------------------------------------------------------------------------------
    def expire_disaster(self, now: datetime) -> bool:
        """Remove the disaster BSS once its end time has passed, with or without the platform."""
        until = parse_until(self.state.disaster_until)
        if until is None or now < until or not self.s.config_path.exists():
            return False
        text = self.s.config_path.read_text()
        if has_disaster(text):
            stripped = STRIP[self.s.fmt](text)
            try:
                self._install(stripped)
            except (hostapd_ctl.ReloadFailed, OSError, subprocess.SubprocessError) as exc:
                log.error("could not remove the disaster BSS: %s", exc)
                return False
            shutil.copyfile(self.s.config_path, self.last_good)
            log.info("disaster BSS removed at its end time %s", until.isoformat())
        self.state.disaster_until = None
        self.state.save(self.state_file)
        return True

    # -- one cycle, and the loop -------------------------------------------------------------------------------
    def cycle(self, now: datetime | None = None) -> str:
        """One poll; returns what happened (applied, unchanged, error, unreachable, refused, skipped)."""
        self.expire_disaster(now or datetime.now(UTC))
        if self.state.owed is not None:
            self.report(**self.state.owed)
        query = f"?format={self.s.fmt}" + (f"&radio={self.s.radio}" if self.s.radio else "")
        headers = {"If-None-Match": self.state.applied} if self.state.applied else {}
        try:
            status, resp_headers, body = self._request("GET", f"/api/v1/aps/{self.s.ap_id}/config{query}",
                                                       headers=headers)
        except (OSError, urllib.error.URLError) as exc:
            log.warning("platform unreachable (%s); keeping the running config", exc)
            return "unreachable"
        lower = {k.lower(): v for k, v in resp_headers.items()}
        if status == 304:
            return "unchanged"
        if status != 200 or len(body) > MAX_CONFIG:
            log.error("config request answered %s: %s", status, body[:300].decode(errors="replace"))
            return "refused"
        etag = lower.get("etag", "")
        if etag and etag == self.state.failed:
            return "skipped"  # the same broken config again: reported already, wait for a new one
        return self.apply(body, etag, lower.get(DISASTER_HEADER.lower()))

    def sleep_time(self, now: datetime) -> float:
        wait = self.s.interval * (1 + random.uniform(-self.s.jitter, self.s.jitter))
        until = parse_until(self.state.disaster_until)
        if until is not None:
            wait = min(wait, max(0.5, (until - now).total_seconds() + 0.5))
        return max(0.5, wait)

    def run(self, max_cycles: int | None = None) -> None:
        done = 0
        while max_cycles is None or done < max_cycles:
            self.cycle()
            done += 1
            if max_cycles is not None and done >= max_cycles:
                break
            time.sleep(self.sleep_time(datetime.now(UTC)))
