# The in-process devnode fixture is shared with the Dagster-layer tests.
from ceramic_pipeline_tests.defs.conftest import devnode  # noqa: F401
