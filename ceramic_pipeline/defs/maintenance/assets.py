import time
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg

from ceramic_pipeline import metrics
from ceramic_pipeline.maintenance.backup import create_backup
from ceramic_pipeline.maintenance.restore import restore_drill as drill
from ceramic_pipeline.resources import BackupResource, PostgresResource


@dg.asset(group_name="maintenance", kinds={"postgres"}, tags={"ceramic/kind": "maintenance"})
def postgres_backup(context: dg.AssetExecutionContext, postgres: PostgresResource, backups: BackupResource) -> dg.MaterializeResult:
    """A pg_dump (custom format) of the pipeline database, plus a tar of the embedded node's and
    blockstore's data when they are in use, in BACKUP_DIR; the newest BACKUP_RETENTION_COUNT are kept.

    Each materialisation is one backup: its path, sha256, size and per-table rows are the metadata.
    """
    result = create_backup(postgres.url(), Path(backups.backup_dir),
                           keep=backups.retention_count, local_data=backups.local_data_paths(),
                           now=datetime.now(timezone.utc))
    metrics.push_backup_success(time.time())
    manifest = result.backup.manifest
    files = manifest.get("files") or {}
    rows = {table: t["rows"] for table, t in manifest["tables"].items()}
    context.log.info(f"backup {result.backup.name}: {manifest['dump']['size_bytes']} bytes; deleted {result.deleted}")
    return dg.MaterializeResult(metadata={
        "backup": result.backup.name,
        "dump_path": dg.MetadataValue.path(str(result.backup.dump_path)),
        "dump_sha256": manifest["dump"]["sha256"],
        "dump_size_bytes": manifest["dump"]["size_bytes"],
        "files_archive": dg.MetadataValue.path(str(result.backup.files_path)) if files else "none (no embedded node or blockstore data)",
        "files_sha256": files.get("sha256", ""),
        "files_size_bytes": files.get("size_bytes", 0),
        "rows_per_table": dg.MetadataValue.json(rows),
        "dagster/row_count": sum(rows.values()),
        "content_checksum": manifest["content_checksum"],
        "server_version": manifest["server_version"],
        "deleted_by_retention": dg.MetadataValue.json(result.deleted),
        "duration_seconds": round(result.seconds, 3),
    })


@dg.asset_check(asset=postgres_backup, description=(
    "Restore drill: the newest backup restored into a scratch database has the row counts and "
    "content checksum the backup recorded (the scratch database is dropped afterwards)."))
def restore_drill(postgres: PostgresResource, backups: BackupResource) -> dg.AssetCheckResult:
    result = drill(Path(backups.backup_dir), postgres.url())
    metadata = {"backup": result.backup or "none", "result": result.reason}
    if result.report is not None:
        metadata.update({
            "tables": result.report.tables, "rows": result.report.rows,
            "mismatches": dg.MetadataValue.json(result.report.mismatches),
            "content_checksum_matches": result.report.content_checksum_matches,
            "restore_seconds": round(result.report.seconds, 3),
        })
    return dg.AssetCheckResult(passed=result.passed, metadata=metadata)
