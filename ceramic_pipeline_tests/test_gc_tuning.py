"""gc_tuning: import-time objects frozen and rarer young collections, once per process, in every
process that loads the Dagster definitions (run workers included); the CLI's own process only
when it runs (ingest._run_batch), so an unchanged re-ingest keeps CPython's defaults."""

import subprocess
import sys

PROBE = """
import gc
{setup}
frozen, threshold = gc.get_freeze_count(), gc.get_threshold()
garbage = [[i] for i in range(50_000)]  # objects of a run: a later call must not freeze them
from ceramic_pipeline.gc_tuning import tune_after_imports
tune_after_imports()
print(frozen > 10_000, threshold, gc.get_freeze_count() == frozen)
"""


def probe(setup: str) -> str:
    return subprocess.run([sys.executable, "-c", PROBE.format(setup=setup)], capture_output=True, text=True, check=True).stdout.strip()


def test_loading_the_definitions_tunes_the_collector_once():
    assert probe("import ceramic_pipeline.definitions") == "True (10000, 10, 10) True"


def test_the_cli_module_leaves_cpythons_defaults_until_a_run_asks():
    assert probe("import ceramic_pipeline.ingest") == "False (700, 10, 10) False"  # the explicit call then froze
