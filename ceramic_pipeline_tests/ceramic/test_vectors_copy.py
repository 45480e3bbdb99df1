from ceramic_pipeline_tests.ceramic.conftest import LOCAL, SHARED


def test_local_copy_matches_shared_vectors():
    """When shared/ is beside the checkout (as in CI), the copy the tests use must not have drifted."""
    if SHARED.exists():
        assert SHARED.read_bytes() == LOCAL.read_bytes()
