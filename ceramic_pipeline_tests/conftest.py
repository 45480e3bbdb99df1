# Shared fixtures: a real PostgreSQL (the machine's, or a throwaway cluster) per test database.
pytest_plugins = ["ceramic_pipeline_tests.fixtures.postgres"]
