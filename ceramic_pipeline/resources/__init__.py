"""Dagster resources: thin wrappers that build the domain objects from configuration."""

from ceramic_pipeline.resources.backups import BackupResource
from ceramic_pipeline.resources.ceramic import CeramicNodeResource
from ceramic_pipeline.resources.inbox import InboxResource
from ceramic_pipeline.resources.pinning import PinningResource
from ceramic_pipeline.resources.postgres import PostgresResource
from ceramic_pipeline.resources.signer import SignerResource
from ceramic_pipeline.resources.from_env import resources_from_env

__all__ = [
    "BackupResource",
    "CeramicNodeResource",
    "InboxResource",
    "PinningResource",
    "PostgresResource",
    "SignerResource",
    "resources_from_env",
]
