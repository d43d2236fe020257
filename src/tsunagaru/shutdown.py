"""Bounded stop steps for a process that runs many parts on one event loop (``tsunagaru demo``).

Why: a stop is only as prompt as its slowest part, and a part that waits without a bound (a thread
join, a server waiting for its connections, a drain) keeps the whole process alive after SIGTERM. So
every step here has a bound; a step that overruns it is logged with its name and left behind, and the
next step runs. Blocking steps run in a daemon thread of their own, never in asyncio's default
executor: ``asyncio.run`` joins that executor when the loop ends, so a stuck ``to_thread`` call there
would hold up the exit the bound was meant to guarantee.

    steps = Shutdown("demo")
    steps.add("web", web.close, bound=15)                 # a coroutine function
    steps.add("scheduler", scheduler.stop, bound=12, blocking=True)
    await steps.run()                                     # last added, first run
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from tsunagaru import logs

log = logging.getLogger("tsunagaru.shutdown")


class StepOverrun(Exception):
    """A stop step did not finish within its bound (it was left behind)."""


async def in_daemon_thread(fn: Callable[[], object], bound: float, name: str = "stop") -> None:
    """Run ``fn()`` in a daemon thread and wait at most ``bound`` seconds for it (then
    :class:`StepOverrun`; the thread goes on, and cannot hold up the process's exit)."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def settle(exc: BaseException | None) -> None:
        if done.done():
            return
        if exc is None:
            done.set_result(None)
        else:
            done.set_exception(exc)

    def work() -> None:
        failure: BaseException | None = None
        try:
            fn()
        except BaseException as exc:  # handed to the waiting coroutine, logged there
            failure = exc
        with contextlib.suppress(RuntimeError):  # the loop closed while this step was left behind
            loop.call_soon_threadsafe(settle, failure)

    threading.Thread(target=work, name=f"tsunagaru-{name}", daemon=True).start()
    try:
        async with asyncio.timeout(bound):  # not wait_for: on 3.11 it can swallow a cancellation
            await asyncio.shield(done)
    except TimeoutError:
        raise StepOverrun(name) from None


async def stop_in_thread(name: str, fn: Callable[[], object], bound: float) -> bool:
    """:func:`in_daemon_thread`, an overrun or a failure logged (a part's own stop: never raises)."""
    try:
        await in_daemon_thread(fn, bound, name)
    except StepOverrun:
        logs.event(log, "stop step overran its bound, left behind", logging.WARNING, step=name, bound=bound)
        return False
    except Exception:
        log.exception("stop step %s failed", name)
        return False
    return True


@dataclass
class Step:
    name: str
    work: Callable[[], object]
    bound: float
    blocking: bool


@dataclass
class Shutdown:
    """The stop steps of the parts started so far; :meth:`run` runs them last first, each bounded."""

    what: str
    steps: list[Step] = field(default_factory=list)
    took: dict[str, float] = field(default_factory=dict)  # step -> seconds, after run()

    def add(self, name: str, work: Callable[[], object], *, bound: float, blocking: bool = False) -> None:
        """``work`` is a coroutine function (``blocking=False``) or a blocking callable (``blocking=True``)."""
        self.steps.append(Step(name, work, bound, blocking))

    async def run(self) -> bool:
        """Run every step once (last added first); True when all finished within their bounds."""
        began, clean = time.monotonic(), True
        while self.steps:
            step = self.steps.pop()
            clean = await self._run(step) and clean
        total = round(time.monotonic() - began, 2)
        logs.event(log, f"{self.what} stopped", logging.INFO if clean else logging.WARNING, seconds=total,
                   steps=self.took, clean=clean)
        return clean

    async def _run(self, step: Step) -> bool:
        started = time.monotonic()
        try:
            if step.blocking:
                return await stop_in_thread(step.name, step.work, step.bound)
            async with asyncio.timeout(step.bound):
                await _awaited(step.work)
        except TimeoutError:
            logs.event(log, "stop step overran its bound, left behind", logging.WARNING, step=step.name,
                       bound=step.bound)
            return False
        except Exception:  # one part failing to stop must not keep the others running
            log.exception("stop step %s failed", step.name)
            return False
        finally:
            self.took[step.name] = round(time.monotonic() - started, 2)
        return True


async def _awaited(work: Callable[[], object]) -> None:
    result = work()
    if isinstance(result, Awaitable):
        await result
