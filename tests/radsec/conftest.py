from __future__ import annotations

import pytest

from tests.support.radsec_certs import PkiPaths, make_pki


@pytest.fixture(scope="session")
def radsec_pki(tmp_path_factory: pytest.TempPathFactory) -> PkiPaths:
    return make_pki(tmp_path_factory.mktemp("radsec-pki"))
