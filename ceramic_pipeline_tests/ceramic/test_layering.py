"""The protocol core is pure: importing all of it imports no Dagster, database, docling or server code."""

from ceramic_pipeline_tests.layering import modules_loaded_by

# Third-party roots the core must never pull in: orchestration, databases (PostgreSQL and the
# devnode's SQLite), docling, and the HTTP *server* stack (the core's httpx client is fine).
FORBIDDEN_ROOTS = {"dagster", "psycopg", "sqlite3", "_sqlite3", "docling_core", "pandas", "starlette", "uvicorn"}
# Project packages that sit above the core.
FORBIDDEN_PACKAGES = {"devnode", "storage", "defs", "steps", "resources", "writer", "documents", "ipfs"}


def _modules_loaded_by_the_core() -> list[str]:
    return modules_loaded_by("ceramic_pipeline.ceramic")


def test_protocol_core_imports_no_dagster_database_or_server():
    loaded = _modules_loaded_by_the_core()
    assert "ceramic_pipeline.ceramic.verify" in loaded  # the walk really imported the core
    bad = [m for m in loaded if m.split(".")[0] in FORBIDDEN_ROOTS]
    assert bad == []


def test_protocol_core_imports_no_higher_layer():
    loaded = _modules_loaded_by_the_core()
    bad = [m for m in loaded if m.startswith("ceramic_pipeline.") and m.split(".")[1] in FORBIDDEN_PACKAGES]
    assert bad == []
