from __future__ import annotations

import httpx
import pytest

# The official-SDK vectors live beside the protocol-core tests; the devnode tests post them too.
from ceramic_pipeline_tests.ceramic.conftest import vectors  # noqa: F401


@pytest.fixture
def api(node):
    """An httpx client on the node's ``/ceramic`` API over real loopback HTTP."""
    with httpx.Client(base_url=node.url + "/ceramic", timeout=10) as client:
        yield client
