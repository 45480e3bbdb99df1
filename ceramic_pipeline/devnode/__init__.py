"""The devnode: a local, validating development stand-in for ceramic-one (and the project's test double).

Pure Python (Starlette + uvicorn + sqlite3); see ``cli`` for the command line and ``runner``
for in-process use: ``with running_devnode() as node: httpx.get(node.url + "/ceramic/liveness")``.
Modules: ``ingest`` (the POST-time checks), ``aggregator`` (stream states, cached per stream),
``rules`` (Model/MID validation), ``store`` (SQLite), ``server`` (HTTP), ``faults`` (test faults).
It is not part of the protocol core ``ceramic_pipeline.ceramic``, which it builds on.
"""

import importlib
from typing import Any

# Exported lazily (PEP 562): the ``ceramic-pipeline`` CLI builds its ``devnode`` sub-command
# parser on every start, and importing the server (Starlette, uvicorn, SQLite) for that cost
# every command, ``ingest`` included, 0.1 s.
_EXPORTS = {
    "build_parser": "cli", "main": "cli", "serve": "cli", "Faults": "faults", "DevNode": "runner", "running_devnode": "runner",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
