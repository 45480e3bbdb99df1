from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from ceramic_pipeline.ipfs.config import pinning_service_from_env
from ceramic_pipeline.ipfs.service import PinningService


class PinningResource(dg.ConfigurableResource):
    """The pinning service IPFS_PINNING_SERVICE names (embedded blockstore by default).

    Credentials (PINATA_JWT, PINATA_API_KEY/SECRET) are read from the run's environment
    by the backend itself, so they never appear in run config.
    """

    data_dir: str
    threshold_bytes: int = 16384

    def service(self) -> PinningService:
        return pinning_service_from_env(os.environ, Path(self.data_dir))
