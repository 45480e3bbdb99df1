from __future__ import annotations

import httpx
import pytest



@pytest.fixture
def api(node):
    """An httpx client on the node's ``/ceramic`` API over real loopback HTTP."""
    with httpx.Client(base_url=node.url + "/ceramic", timeout=10) as client:
        yield client
