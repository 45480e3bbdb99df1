"""The protocol core is pure: importing it must not import Dagster, PostgreSQL drivers or docling."""

import subprocess
import sys


def test_protocol_core_imports_no_dagster():
    code = (
        "import sys, pkgutil, importlib, ceramic_pipeline.ceramic as c\n"
        "for m in pkgutil.walk_packages(c.__path__, c.__name__ + '.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in {'dagster', 'psycopg', 'docling_core', 'pandas'}]\n"
        "print(','.join(sorted(bad)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
