"""The maintenance work is plain Python: importing it must not import Dagster (defs/maintenance wraps it)."""

from ceramic_pipeline_tests.layering import modules_loaded_by


def test_maintenance_imports_no_dagster():
    loaded = modules_loaded_by("ceramic_pipeline.maintenance")
    assert ",".join(m for m in loaded if m.split(".")[0] == "dagster") == ""
