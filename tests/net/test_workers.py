"""The pure half of the pre-fork mechanism: start order, restarts with back-off, giving up, exit codes;
and the per-worker file names."""

from __future__ import annotations

from pathlib import Path

import pytest

from tsunagaru.net.workers import GiveUp, RestartPolicy, Spawn, Supervisor, describe_status, worker_path, worker_paths


def started(sup: Supervisor, now: float = 0.0) -> list[int]:
    """Start (and make ready) every worker the supervisor asks for, one round at a time."""
    pids = []
    for _ in range(sup.count + 1):
        due = sup.due(now)
        if not due:
            break
        for spawn in due:
            pid = 1000 + spawn.index
            sup.started(spawn.index, pid)
            assert sup.ready(spawn.index, pid)
            pids.append(pid)
    return pids


def test_first_start_is_one_at_a_time() -> None:
    sup = Supervisor(3)
    assert sup.due(0.0) == [Spawn(0)]
    sup.started(0, 100)
    assert sup.due(0.0) == []  # worker 0 not ready yet: the next waits
    assert sup.ready(0, 100)
    assert sup.due(0.0) == [Spawn(1)]
    sup.started(1, 101)
    sup.ready(1, 101)
    sup.started(2, 102)
    assert not sup.all_ready
    sup.ready(2, 102)
    assert sup.all_ready and sup.pids == [100, 101, 102]


def test_ready_from_an_old_pid_is_ignored() -> None:
    sup = Supervisor(1)
    sup.started(0, 100)
    assert not sup.ready(0, 99)
    assert not sup.ready(5, 100)
    assert not sup.all_ready


def test_a_worker_that_never_started_is_a_startup_error() -> None:
    sup = Supervisor(2)
    sup.started(0, 100)
    assert sup.exited(100, 2, 0.0) == (0, GiveUp(2, "worker 0 did not start (exit status 2)"))
    assert sup.due(0.0) == []
    assert sup.exit_code() == 2


def test_a_dead_worker_restarts_with_growing_delays_then_gives_up() -> None:
    policy = RestartPolicy(base=0.5, cap=4.0, max_restarts=4, window=100.0)
    sup = Supervisor(2, policy)
    started(sup)
    now, pid, delays = 0.0, 1001, []
    for _ in range(4):
        index, decision = sup.exited(pid, -9, now) or (None, None)
        assert index == 1 and decision is None
        wait = sup.next_timer(now)
        assert wait is not None
        delays.append(wait)
        assert sup.due(now + wait - 0.01) == []
        now += wait
        assert sup.due(now) == [Spawn(1)]
        pid += 10
        sup.started(1, pid)
        sup.ready(1, pid)
    assert delays == [0.5, 1.0, 2.0, 4.0]
    result = sup.exited(pid, -9, now)
    assert result is not None and isinstance(result[1], GiveUp) and result[1].code == 1
    assert "died 5 times" in result[1].why


def test_failures_outside_the_window_are_forgotten() -> None:
    sup = Supervisor(1, RestartPolicy(base=1.0, cap=8.0, max_restarts=2, window=10.0))
    started(sup)
    pid = 1000
    for t in (0.0, 20.0, 40.0, 60.0):  # far apart: each is the first in its window
        sup.exited(pid, 1, t)
        assert sup.next_timer(t) == 1.0
        pid += 1
        sup.started(0, pid)
        sup.ready(0, pid)
    assert sup.gave_up is None


def test_stop_means_no_restart_and_exit_code_from_the_workers() -> None:
    sup = Supervisor(2)
    started(sup)
    sup.stop()
    assert sup.exited(1000, 0, 1.0) == (0, None)
    assert sup.exited(1001, 0, 1.0) == (1, None)
    assert sup.due(5.0) == [] and sup.pids == []
    assert sup.exit_code() == 0

    sup = Supervisor(2)
    started(sup)
    sup.stop()
    sup.exited(1000, 0, 1.0)
    sup.exited(1001, -15, 1.0)
    assert sup.exit_code() == 1


def test_unknown_pids_and_bad_counts() -> None:
    sup = Supervisor(1)
    assert sup.exited(4242, 0, 0.0) is None
    with pytest.raises(ValueError):
        Supervisor(0)


def test_status_text() -> None:
    assert describe_status(0) == "exit status 0"
    assert describe_status(-9) == "killed by SIGKILL"
    assert describe_status(-200) == "killed by signal 200"


def test_worker_paths(tmp_path: Path) -> None:
    base = tmp_path / "spool.sqlite"
    assert worker_path(base, None) == base
    assert worker_path(base, 3) == tmp_path / "spool.sqlite.w3"
    for name in ("spool.sqlite.w0", "spool.sqlite.w12", "spool.sqlite.wx", "spool.sqlite.w1-wal", "other.w1"):
        (tmp_path / name).write_text("")
    assert worker_paths(base) == {0: tmp_path / "spool.sqlite.w0", 12: tmp_path / "spool.sqlite.w12"}
    assert worker_paths(tmp_path / "missing" / "spool") == {}
