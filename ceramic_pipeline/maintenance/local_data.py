"""Which local data of the embedded default a backup archives, by archive name.

- the local validating node's event store, when CERAMIC_URL is unset (embedded_node.py
  starts it with ``--data <data_dir>/devnode``);
- the embedded IPFS blockstore, when IPFS_PINNING_SERVICE or IPFS_FALLBACK_SERVICE is
  ``embedded`` (the default; ipfs/config.py keeps it under ``<data_dir>/ipfs-blockstore``).
A real ceramic-one or pinning service keeps its own data and backs it up itself.
"""

from __future__ import annotations

from pathlib import Path

from ceramic_pipeline.devnode.store import DB_FILE
from ceramic_pipeline.ipfs.config import EMBEDDED_SUBDIR
from ceramic_pipeline.settings import Settings


def embedded_local_data(settings: Settings) -> dict[str, Path]:
    """Archive name -> path of the local data in use (paths may not exist yet)."""
    data = {}
    if settings.ceramic_url is None:
        data[f"devnode/{DB_FILE}"] = settings.data_dir / "devnode" / DB_FILE
    env = settings.environ
    services = {(env.get("IPFS_PINNING_SERVICE") or "embedded").strip().lower(),
                env.get("IPFS_FALLBACK_SERVICE", "").strip().lower()}
    if "embedded" in services:
        data[EMBEDDED_SUBDIR] = settings.data_dir / EMBEDDED_SUBDIR
    return data
