import json
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "vectors.json"
LOCAL = Path(__file__).resolve().parent / "vectors.json"


@pytest.fixture(scope="session")
def vectors() -> dict:
    """The official-SDK vectors (a copy is kept beside the tests; shared/ is the source)."""
    return json.loads(LOCAL.read_text())
