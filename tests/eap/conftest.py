from __future__ import annotations

from pathlib import Path

import pytest

from tests.eap.certs import Pki, make_pki
from tests.eap.memstore import MemStore


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(Path(tmp_path_factory.mktemp("eap-pki")))


@pytest.fixture
def store() -> MemStore:
    return MemStore(
        passwords={"alice@idp.tsunagaru.test": "alice-password", "bob": "bob-password"},
        certificate_users={"alice@idp.tsunagaru.test"},
    )
