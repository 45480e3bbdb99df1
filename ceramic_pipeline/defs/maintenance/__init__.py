"""Scheduled maintenance: the postgres_backup asset and its restore drill, VACUUM/REINDEX,
archival, Dagster run retention, re-sync from Ceramic and full stream verification."""

import dagster as dg

from ceramic_pipeline.defs.maintenance.archival import archive_streams
from ceramic_pipeline.defs.maintenance.assets import postgres_backup, restore_drill
from ceramic_pipeline.defs.maintenance.jobs import backup_database, run_restore_drill, vacuum_reindex_database
from ceramic_pipeline.defs.maintenance.resync import resync_from_ceramic
from ceramic_pipeline.defs.maintenance.retention import prune_dagster_runs
from ceramic_pipeline.defs.maintenance.schedules import maintenance_schedules
from ceramic_pipeline.defs.maintenance.verification import verify_streams
from ceramic_pipeline.settings import Settings


def maintenance_definitions(settings: Settings) -> dg.Definitions:
    """Assets, checks, jobs and schedules of the maintenance group (resources come from the caller)."""
    return dg.Definitions(
        assets=[postgres_backup],
        asset_checks=[restore_drill],
        jobs=[backup_database, run_restore_drill, vacuum_reindex_database, archive_streams, prune_dagster_runs,
              resync_from_ceramic, verify_streams],
        schedules=maintenance_schedules(settings),
    )
