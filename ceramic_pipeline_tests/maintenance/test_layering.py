"""The maintenance work is plain Python: importing it must not import Dagster (defs/maintenance wraps it)."""

import subprocess
import sys


def test_maintenance_imports_no_dagster():
    code = (
        "import sys, pkgutil, importlib, ceramic_pipeline.maintenance as m\n"
        "for info in pkgutil.walk_packages(m.__path__, m.__name__ + '.'):\n"
        "    importlib.import_module(info.name)\n"
        "print(','.join(sorted(n for n in sys.modules if n.split('.')[0] == 'dagster')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
