import dagster as dg

from ceramic_pipeline.defs.observability import push_metrics
from ceramic_pipeline.defs.policies import NETWORK_RETRY
from ceramic_pipeline.resources import CeramicNodeResource, PostgresResource
from ceramic_pipeline.writer.publisher import publish_outbox as drain


@dg.op(retry_policy=NETWORK_RETRY)
def publish_pending_events(context: dg.OpExecutionContext, postgres: PostgresResource, ceramic: CeramicNodeResource) -> None:
    """Post every pending outbox event (per-stream order); events stay pending while the node is down."""
    try:
        with ceramic.client() as client:
            report = drain(postgres.connect, client)
    finally:
        push_metrics(context)
    context.log.info(f"published {report.published}, rejected {report.rejected}, still pending {report.pending}")
    if report.rejected:
        raise dg.Failure(f"{report.rejected} events were rejected by the node", metadata={"errors": dg.MetadataValue.json(report.errors[:50])})


@dg.job(tags={"ceramic/kind": "maintenance"})
def publish_outbox() -> None:
    publish_pending_events()


publish_outbox_schedule = dg.ScheduleDefinition(
    job=publish_outbox, cron_schedule="*/10 * * * *", execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
