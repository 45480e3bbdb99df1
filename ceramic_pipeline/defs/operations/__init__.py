"""Operations: the scheduled dependency health checks (group ``operations``)."""

import dagster as dg

from ceramic_pipeline.defs.operations.health import check_health, health_schedule, pipeline_dependencies, pipeline_dependencies_health
from ceramic_pipeline.settings import Settings


def operations_definitions(settings: Settings) -> dg.Definitions:
    """The pipeline_dependencies asset, its health checks, the check_health job and its schedule."""
    return dg.Definitions(
        assets=[pipeline_dependencies], asset_checks=[pipeline_dependencies_health], jobs=[check_health],
        schedules=[health_schedule(settings)],
    )
