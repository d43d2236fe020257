"""The agent removes the disaster BSS at its end time even when the platform cannot be reached, and
keeps a report it could not deliver for the next cycle."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.agent.test_configtext import HOSTAPD
from tests.support.procs import free_port
from tsunagaru.agent.agent import Agent, AgentSettings, AgentState


def _agent(tmp: Path, marker: Path) -> Agent:
    conf = tmp / "hostapd.conf"
    conf.write_text(HOSTAPD)
    nothing = free_port(socket.SOCK_STREAM)  # no web app listens there
    settings = AgentSettings(url=f"http://127.0.0.1:{nothing}", ap_id=7, token="tsa_x", config_path=conf,
                             state_dir=tmp / "state", reload_command=["touch", str(marker)], hostapd=None,
                             timeout=2)
    return Agent(settings)


def test_disaster_bss_goes_at_its_end_time_offline(tmp_path: Path) -> None:
    marker = tmp_path / "reloaded"
    agent = _agent(tmp_path, marker)
    end = datetime(2026, 12, 4, tzinfo=UTC)
    agent.state = AgentState(applied='"v1"', disaster_until=end.isoformat())
    assert agent.cycle(now=end - timedelta(seconds=1)) == "unreachable"
    assert "00000JAPAN" in agent.s.config_path.read_text() and not marker.exists()
    assert 0.5 <= agent.sleep_time(end - timedelta(seconds=10)) <= 11
    assert agent.cycle(now=end + timedelta(seconds=1)) == "unreachable"
    text = agent.s.config_path.read_text()
    assert "00000JAPAN" not in text and "ssid=OpenRoaming" in text and "ssid=Other" in text
    assert marker.exists()  # reloaded
    state = json.loads((tmp_path / "state" / "agent-state.json").read_text())
    assert state["disaster_until"] is None and state["applied"] == '"v1"'
    assert (tmp_path / "state" / "last-good").read_text() == text


def test_an_undelivered_report_is_kept(tmp_path: Path) -> None:
    agent = _agent(tmp_path, tmp_path / "m")
    assert agent.report('"v2"', "applied", "ok") is False
    again = Agent(agent.s)
    assert again.state.owed == {"version": '"v2"', "result": "applied", "log": "ok"}
