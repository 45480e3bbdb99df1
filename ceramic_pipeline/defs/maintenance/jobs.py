import dagster as dg

from ceramic_pipeline.defs.maintenance.assets import postgres_backup, restore_drill
from ceramic_pipeline.maintenance.vacuum import vacuum_and_reindex
from ceramic_pipeline.resources import PostgresResource

MAINTENANCE = {"ceramic/kind": "maintenance"}  # dagster.yaml runs at most one maintenance run at a time

# The daily backup without its drill; the drill runs weekly on its own.
backup_database = dg.define_asset_job(
    "backup_database", selection=dg.AssetSelection.assets(postgres_backup).without_checks(), tags=MAINTENANCE,
)
run_restore_drill = dg.define_asset_job(
    "run_restore_drill", selection=dg.AssetSelection.checks(restore_drill), tags=MAINTENANCE,
)


@dg.op
def vacuum_analyze_reindex(context: dg.OpExecutionContext, postgres: PostgresResource) -> None:
    """VACUUM ANALYZE and REINDEX TABLE CONCURRENTLY on every table of the pipeline database."""
    report = vacuum_and_reindex(postgres.url())
    per_table = {
        table: {"before": vars(report.before[table]), "after": vars(after)}
        for table, after in report.after.items() if table in report.before
    }
    metadata = {
        "tables": len(report.after),
        "total_bytes_before": dg.MetadataValue.int(report.total("before")),
        "total_bytes_after": dg.MetadataValue.int(report.total("after")),
        "table_bytes_before": sum(s.table_bytes for s in report.before.values()),
        "table_bytes_after": sum(s.table_bytes for s in report.after.values()),
        "index_bytes_before": sum(s.index_bytes for s in report.before.values()),
        "index_bytes_after": sum(s.index_bytes for s in report.after.values()),
        "sizes_per_table": dg.MetadataValue.json(per_table),
        "reindex": "CONCURRENTLY" if report.concurrent_reindex else "plain (server < 12)",
        "invalid_indexes": dg.MetadataValue.json(report.invalid_indexes),
        "duration_seconds": round(report.seconds, 3),
    }
    context.log.info(f"vacuumed and reindexed {len(report.after)} tables: "
                     f"{report.total('before')} -> {report.total('after')} bytes")
    context.add_output_metadata(metadata)  # shown on the run's step output in the UI


@dg.job(tags=MAINTENANCE)
def vacuum_reindex_database() -> None:
    vacuum_analyze_reindex()
