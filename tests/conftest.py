import socket

import pytest
from hypothesis import HealthCheck, settings

from tests.support.procs import free_port

# No deadlines and no "too slow" health check: on a shared 2-core box (and in CI next to the fuzzers)
# a slow example is the machine, not the code; a timed assertion would make the suite flaky.
settings.register_profile("tsunagaru", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("tsunagaru")


@pytest.fixture
def udp_port() -> int:
    return free_port(socket.SOCK_DGRAM)


_INTEROP: dict[str, int] = {"passed": 0, "failed": 0, "skipped": 0}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count the interop tests (marked ``interop``: real peers) by outcome, for the summary line."""
    if "interop" not in report.keywords:
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        _INTEROP[report.outcome] = _INTEROP.get(report.outcome, 0) + 1


def pytest_terminal_summary(terminalreporter: object) -> None:
    """One line saying how many interop tests really ran: a green run without them is visible."""
    write = getattr(terminalreporter, "write_line", print)
    write(f"interop tests (real peers): {_INTEROP['passed']} passed, {_INTEROP['failed']} failed, "
          f"{_INTEROP['skipped']} skipped")
