import dagster as dg

from ceramic_pipeline.defs.failures import fail_fast_unless_transient
from ceramic_pipeline.defs.observability import push_metrics, run_started_at
from ceramic_pipeline.defs.policies import NETWORK_RETRY
from ceramic_pipeline.resources import CeramicNodeResource, PostgresResource, SignerResource
from ceramic_pipeline.steps.readback import read_back_documents
from ceramic_pipeline.storage import checks
from ceramic_pipeline.storage.documents import awaiting_read_back
from ceramic_pipeline.writer.publisher import publish_outbox as drain


@dg.op(retry_policy=NETWORK_RETRY, out=dg.Out(dg.Nothing))
def publish_pending_events(
    context: dg.OpExecutionContext, postgres: PostgresResource, ceramic: CeramicNodeResource, signer: SignerResource,
):
    """Post every pending outbox event (per-stream order); events stay pending while the node is down.

    Documents whose run ended with events pending (the node was unreachable) are read back
    once their events are published, and marked ingested (or failed) as their run would have;
    so the inbox sensor stops holding them in flight. The figures are read from the outbox
    since the run started, so a retried attempt still reports what the whole run published.
    """
    with fail_fast_unless_transient(context):
        try:
            with ceramic.client() as client:
                report = drain(postgres.connect, client)
                with postgres.connect() as conn:
                    waiting = awaiting_read_back(conn, signer.signer().did)
                    back = read_back_documents(conn, client, waiting, signer.signer().did, tips_since=run_started_at(context))
        finally:
            push_metrics(context)
        with postgres.connect() as conn:
            published = checks.published_since(conn, run_started_at(context))
    context.log.info(f"published {published} in this run, rejected {report.rejected}, still pending {report.pending}; "
                     f"{len(back.ingested)} waiting documents verified and ingested")
    if report.rejected:
        raise dg.Failure(f"{report.rejected} events were rejected by the node", metadata={"errors": dg.MetadataValue.json(report.errors[:50])},
                         allow_retries=False)
    yield dg.Output(None, metadata={"published": published, "pending": report.pending, "rejected": report.rejected,
                                    "documents_ingested": len(back.ingested), "documents_still_pending": len(back.pending)})


@dg.job(tags={"ceramic/kind": "maintenance"})
def publish_outbox() -> None:
    publish_pending_events()


publish_outbox_schedule = dg.ScheduleDefinition(
    job=publish_outbox, cron_schedule="*/10 * * * *", execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
