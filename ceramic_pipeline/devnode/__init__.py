"""The devnode: a local, validating development stand-in for ceramic-one (and the project's test double).

Pure Python (Starlette + uvicorn + sqlite3); see ``cli`` for the command line and ``runner``
for in-process use: ``with running_devnode() as node: httpx.get(node.url + "/ceramic/liveness")``.
Modules: ``ingest`` (the POST-time checks), ``aggregator`` (stream states, cached per stream),
``rules`` (Model/MID validation), ``store`` (SQLite), ``server`` (HTTP), ``faults`` (test faults).
It is not part of the protocol core ``ceramic_pipeline.ceramic``, which it builds on.
"""

from ceramic_pipeline.devnode.cli import build_parser, main, serve
from ceramic_pipeline.devnode.faults import Faults
from ceramic_pipeline.devnode.runner import DevNode, running_devnode

__all__ = ["DevNode", "Faults", "build_parser", "main", "running_devnode", "serve"]
