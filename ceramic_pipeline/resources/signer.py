from __future__ import annotations

from pathlib import Path

import dagster as dg

from ceramic_pipeline.ceramic.did import DIDKey
from ceramic_pipeline.settings import resolve_seed


class SignerResource(dg.ConfigurableResource):
    """The agent's did:key; the seed comes from AGENT_DID_SEED_BASE64 (a dev seed when unset)."""

    seed_base64: str = ""
    data_dir: str

    def signer(self) -> DIDKey:
        environ = {"AGENT_DID_SEED_BASE64": self.seed_base64} if self.seed_base64 else {}
        return DIDKey.from_seed(resolve_seed(environ, Path(self.data_dir)))
