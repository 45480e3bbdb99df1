from __future__ import annotations

from pathlib import Path

import dagster as dg

from ceramic_pipeline.ceramic.client import CeramicClient
from ceramic_pipeline.embedded_node import embedded_ceramic_url


class CeramicNodeResource(dg.ConfigurableResource):
    """CERAMIC_URL, or the embedded local validating node when it is empty."""

    url: str = ""
    timeout_ms: int = 60_000
    batch_size: int = 50
    data_dir: str

    def node_url(self) -> str:
        return self.url or embedded_ceramic_url(Path(self.data_dir))

    def client(self) -> CeramicClient:
        return CeramicClient(self.node_url(), timeout_s=self.timeout_ms / 1000, max_in_flight=self.batch_size)
