"""archive_streams: streams not really changed for ARCHIVE_AFTER_DAYS move to ceramic_streams_archive."""

import time

import dagster as dg

from ceramic_pipeline.defs.policies import MAINTENANCE_TAGS
from ceramic_pipeline.resources import PostgresResource
from ceramic_pipeline.storage.streams import archive_older_than


class ArchiveConfig(dg.Config):
    after_days: int = 90  # ARCHIVE_AFTER_DAYS; the schedule passes the configured value


@dg.op
def archive_old_streams(context: dg.OpExecutionContext, config: ArchiveConfig, postgres: PostgresResource) -> dg.Output[None]:
    """Move the streams; archive_older_than asserts hot + archive before == after (else it rolls back)."""
    started = time.perf_counter()
    with postgres.connect() as conn:
        result = archive_older_than(conn, config.after_days)
    seconds = time.perf_counter() - started
    context.log.info(f"archived {len(result.stream_ids)} streams not changed for {config.after_days} days")
    return dg.Output(None, metadata={
        "archived": len(result.stream_ids),
        "after_days": config.after_days,
        "hot_before": result.before[0], "archive_before": result.before[1],
        "hot_after": result.after[0], "archive_after": result.after[1],
        "seconds": round(seconds, 3),
        "stream_ids (first 50)": dg.MetadataValue.json(result.stream_ids[:50]),
    })


@dg.job(tags=MAINTENANCE_TAGS)
def archive_streams() -> None:
    archive_old_streams()

