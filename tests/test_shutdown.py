"""Bounded stop steps (tsunagaru.shutdown): last added first, an overrun left behind and logged, the next
step still run, a failure contained; a blocking step never in asyncio's default executor."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest

from tsunagaru.shutdown import Shutdown, StepOverrun, in_daemon_thread


def test_steps_run_last_first_and_an_overrun_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    release = threading.Event()
    ran: list[str] = []

    async def stuck() -> None:
        ran.append("stuck-async")
        await asyncio.Event().wait()  # never set: cancelled at its bound

    def failing() -> None:
        ran.append("failing")
        raise RuntimeError("boom")

    def blocked() -> None:
        ran.append("blocked")
        release.wait(30)  # a join that does not end in time

    async def main() -> tuple[bool, dict[str, float]]:
        steps = Shutdown("test")
        steps.add("first", lambda: ran.append("first"), bound=1.0, blocking=True)
        steps.add("blocked", blocked, bound=0.05, blocking=True)
        steps.add("failing", failing, bound=1.0, blocking=True)
        steps.add("stuck", stuck, bound=0.05)
        clean = await steps.run()
        return clean, steps.took

    with caplog.at_level(logging.INFO, logger="tsunagaru.shutdown"):
        clean, took = asyncio.run(main())
    release.set()
    assert not clean
    assert ran == ["stuck-async", "failing", "blocked", "first"]
    assert set(took) == {"first", "blocked", "failing", "stuck"}
    overruns = [r for r in caplog.records if r.getMessage().startswith("stop step overran")]
    assert [r.fields["step"] for r in overruns] == ["stuck", "blocked"]  # type: ignore[attr-defined]
    assert any("stop step failing failed" in r.getMessage() for r in caplog.records)
    assert caplog.records[-1].getMessage() == "test stopped"


def test_a_blocking_step_left_behind_does_not_hold_up_the_loop_s_end() -> None:
    """asyncio.run joins its default executor at the end; a step left behind must not be in it."""
    release = threading.Event()

    async def main() -> None:
        with pytest.raises(StepOverrun):
            await in_daemon_thread(lambda: release.wait(60), 0.05, "held")

    asyncio.run(main())  # returns although the step's thread is still waiting
    assert any(t.name == "tsunagaru-held" and t.daemon for t in threading.enumerate())
    release.set()


def test_a_clean_stop_reports_every_step() -> None:
    async def main() -> Shutdown:
        steps = Shutdown("test")
        steps.add("a", lambda: asyncio.sleep(0), bound=1.0)
        steps.add("b", lambda: None, bound=1.0, blocking=True)
        assert await steps.run()
        return steps

    steps = asyncio.run(main())
    assert set(steps.took) == {"a", "b"} and not steps.steps
