# Shared fixtures: a real PostgreSQL (the machine's, or a throwaway cluster) per test database,
# and the local validating Ceramic node over real HTTP.
pytest_plugins = ["ceramic_pipeline_tests.fixtures.postgres", "ceramic_pipeline_tests.fixtures.devnode"]
