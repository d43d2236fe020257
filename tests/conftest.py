import pytest

from tests.support.procs import free_port


@pytest.fixture
def udp_port() -> int:
    return free_port()
