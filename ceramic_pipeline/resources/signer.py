from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import pydantic

from ceramic_pipeline.ceramic.did import SEED_VARIABLE, DIDKey
from ceramic_pipeline.keys import load_seed


class SignerResource(dg.ConfigurableResource):
    """The agent's did:key, from the seed source ceramic_pipeline.keys chooses.

    ``seed_base64`` is AGENT_DID_SEED_BASE64 as a dg.EnvVar (never a literal in run config).
    The other sources (AGENT_DID_SEED_FILE, KMS, Vault) are read from the run's process
    environment when a step signs, so their tokens never enter run config either.
    """

    seed_base64: str = pydantic.Field(default="", repr=False)  # the resolved seed never reaches a repr
    data_dir: str

    def signer(self) -> DIDKey:
        environ = {**os.environ, SEED_VARIABLE: self.seed_base64} if self.seed_base64 else os.environ
        return DIDKey.from_seed(load_seed(environ, Path(self.data_dir)))
