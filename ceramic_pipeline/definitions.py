"""Thin: merges each domain's definitions with the resources built from the environment."""

import dagster as dg

from ceramic_pipeline.logs import configure_logging

configure_logging()  # JSON lines for the project's loggers in every Dagster process

from ceramic_pipeline.defs.ceramic.assets import ceramic_streams, ceramic_streams_table, doclingchunk_model
from ceramic_pipeline.defs.ceramic.outbox import publish_outbox, publish_outbox_schedule
from ceramic_pipeline.defs.documents.assets import docling_chunks, docling_documents
from ceramic_pipeline.defs.documents.sensors import new_documents_sensor
from ceramic_pipeline.defs.jobs import ingest_documents
from ceramic_pipeline.defs.maintenance import maintenance_definitions
from ceramic_pipeline.defs.operations import operations_definitions
from ceramic_pipeline.defs.pinning.assets import pinned_chunks
from ceramic_pipeline.gc_tuning import tune_after_imports
from ceramic_pipeline.resources import resources_from_env
from ceramic_pipeline.settings import Settings

_settings = Settings.from_env()
defs = dg.Definitions.merge(
    dg.Definitions(
        assets=[docling_documents, docling_chunks, pinned_chunks, doclingchunk_model, ceramic_streams, ceramic_streams_table],
        jobs=[ingest_documents, publish_outbox],
        sensors=[new_documents_sensor],
        schedules=[publish_outbox_schedule],
        resources=resources_from_env(),
    ),
    maintenance_definitions(_settings),
    operations_definitions(_settings),
)
tune_after_imports()  # every Dagster process that loads the project (run workers too): see gc_tuning
