"""verify_streams: walk and verify every live stream's whole chain on the node (the full read-back).

Runs read-back at full depth (``steps.readback``): each event fetched, its CID, signature and
``prev`` link checked here, then tip, version and content compared with ``ceramic_streams``.
Ingest runs check the tips they posted; this job is the scheduled (weekly by default,
VERIFY_STREAMS_CRON) and on-demand (the UI, or ``dagster job execute -m ceramic_pipeline.definitions
-j verify_streams``) check that trusts nothing the node says. A document whose streams no longer
verify is marked failed with the first difference, and those streams lose their verified mark:
until they verify again, every ingest run walks their chains too and keeps the document failed.
"""

import time

import dagster as dg

from ceramic_pipeline.defs.policies import MAINTENANCE_TAGS, NETWORK_RETRY
from ceramic_pipeline.resources import CeramicNodeResource, PostgresResource, SignerResource
from ceramic_pipeline.steps.readback import read_back_documents
from ceramic_pipeline.storage.checks import documents_with_live_streams


@dg.op(retry_policy=NETWORK_RETRY)
def verify_stream_chains(
    context: dg.OpExecutionContext, postgres: PostgresResource, signer: SignerResource, ceramic: CeramicNodeResource,
) -> dg.Output[None]:
    """Full read-back of every document's live streams; fails listing the streams that do not verify."""
    started = time.perf_counter()
    did = signer.signer().did
    with ceramic.client() as client, postgres.connect() as conn:
        documents = documents_with_live_streams(conn, did)
        report = read_back_documents(conn, client, documents, did, full=True)
    metadata = {
        "documents": len(documents), "verified_streams": report.verified, "failed_streams": len(report.failures),
        "documents_pending": len(report.pending), "seconds": round(time.perf_counter() - started, 3),
    }
    context.log.info(f"verified {report.verified} streams of {len(documents)} documents in full; {len(report.failures)} failed")
    if report.failures or report.mismatched:
        first = report.failures[0] if report.failures else next(f"{d}: {c}" for d, c in report.mismatched.items())
        raise dg.Failure(
            f"{len(report.failures)} stream(s) failed full verification, {len(report.mismatched)} document(s) have a "
            f"stream count mismatch; first: {first} (all in this step's metadata and in documents.error)",
            metadata={**metadata, "failed": dg.MetadataValue.json(report.failures[:50]),
                      "mismatched": dg.MetadataValue.json(report.mismatched)},
            allow_retries=False,
        )
    return dg.Output(None, metadata=metadata)


@dg.job(tags=MAINTENANCE_TAGS)
def verify_streams() -> None:
    verify_stream_chains()
