from collections.abc import Iterator

import pytest

from ceramic_pipeline_tests.conformance.sdk_harness import SDKHarness, setup_problem


@pytest.fixture(scope="session")
def sdk() -> Iterator[SDKHarness]:
    """One node process running the official @ceramic-sdk for the whole session (not skippable)."""
    problem = setup_problem()
    if problem:
        pytest.fail(f"SDK conformance harness unavailable: {problem}", pytrace=False)
    with SDKHarness() as harness:
        yield harness
