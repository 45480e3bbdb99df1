"""resync_from_ceramic: rebuild ceramic_streams rows for our model and controller from the node's feed."""

import time

import dagster as dg

from ceramic_pipeline.defs.policies import MAINTENANCE_TAGS, NETWORK_RETRY
from ceramic_pipeline.maintenance.resync import resync_from_ceramic as resync
from ceramic_pipeline.resources import CeramicNodeResource, PostgresResource, SignerResource


class ResyncConfig(dg.Config):
    full: bool = False  # read the feed from its start instead of the stored resume token


@dg.op(retry_policy=NETWORK_RETRY)
def resync_streams(
    context: dg.OpExecutionContext, config: ResyncConfig, postgres: PostgresResource, signer: SignerResource,
    ceramic: CeramicNodeResource,
) -> dg.Output[None]:
    """Adopt every verified stream of ours the feed touched; fails listing the streams that did not verify."""
    started = time.perf_counter()
    with ceramic.client() as client, postgres.connect() as conn:
        report = resync(conn, client, signer.signer(), node_url=client.url, full=config.full)  # as the writer reads it
    metadata = {
        "full": report.full, "events_read": report.events_read, "streams_touched": report.streams_touched,
        "adopted": report.adopted, "unchanged": report.unchanged, "events_recorded": report.events_recorded,
        "unreadable_events": report.unreadable_events, "failures": len(report.failures),
        "seconds": round(time.perf_counter() - started, 3),
    }
    context.log.info(f"re-sync read {report.events_read} events, adopted {report.adopted} streams, "
                     f"{len(report.failures)} failed verification")
    if report.failures:
        raise dg.Failure(f"{len(report.failures)} streams failed verification and were not adopted",
                         metadata={**metadata, "failed": dg.MetadataValue.json(report.failures[:50])})
    return dg.Output(None, metadata=metadata)


@dg.job(tags=MAINTENANCE_TAGS)
def resync_from_ceramic() -> None:
    resync_streams()

