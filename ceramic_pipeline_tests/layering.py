"""What importing a whole package pulls in, measured in a fresh interpreter (for the layering tests)."""

import subprocess
import sys


def modules_loaded_by(package: str) -> list[str]:
    """Every module in ``sys.modules`` after importing each module of ``package`` in a fresh Python."""
    code = (
        f"import sys, pkgutil, importlib, {package} as p\n"
        "for m in pkgutil.walk_packages(p.__path__, p.__name__ + '.'):\n"
        "    importlib.import_module(m.name)\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.split()
