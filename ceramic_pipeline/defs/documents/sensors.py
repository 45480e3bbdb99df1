import base64
import json
import os
import zlib

import dagster as dg

from ceramic_pipeline.defs.jobs import ingest_documents
from ceramic_pipeline.defs.partitions import documents
from ceramic_pipeline.documents import InboxError, partition_key, scan_inbox
from ceramic_pipeline.resources import InboxResource, PostgresResource
from ceramic_pipeline.storage.documents import content_hashes

# Bounded work per tick keeps evaluation far below Dagster's 60 s limit; the rest follow next ticks.
MAX_RUNS_PER_TICK = int(os.environ.get("SENSOR_MAX_RUNS_PER_TICK", "200"))


def encode_cursor(in_flight: dict[str, str]) -> str:
    return base64.b64encode(zlib.compress(json.dumps(in_flight, separators=(",", ":")).encode(), 9)).decode()


def decode_cursor(cursor: str | None) -> dict[str, str]:
    return json.loads(zlib.decompress(base64.b64decode(cursor))) if cursor else {}


@dg.sensor(job=ingest_documents, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def new_documents_sensor(context: dg.SensorEvaluationContext, inbox: InboxResource, postgres: PostgresResource) -> dg.SensorResult:
    """Adds a partition per new inbox document and requests a run for new or changed files.

    What is ingested comes from the `documents` table; the cursor only holds requests still
    in flight ({document_id: content hash}), so it stays small once runs complete.
    """
    with postgres.connect() as conn:
        ingested = content_hashes(conn)
    in_flight = {d: h for d, h in decode_cursor(context.cursor).items() if ingested.get(d) != h}
    try:
        scan = scan_inbox(inbox.folder(), MAX_RUNS_PER_TICK, {**ingested, **in_flight})
    except InboxError as exc:
        return dg.SensorResult(skip_reason=str(exc), cursor=encode_cursor(in_flight))
    for error in scan.errors:
        context.log.warning(f"inbox file skipped: {error.document_id}: {error.reason}")
    new_keys, requests = [], []
    for item in scan.pending:
        key = partition_key(item.document_id)
        if item.is_new:
            new_keys.append(key)
        requests.append(dg.RunRequest(partition_key=key, run_key=f"{key}:{item.content_hash[:16]}"))
        in_flight[item.document_id] = item.content_hash
    if scan.remaining:
        context.log.info(f"{scan.remaining} more new or changed documents wait for the next tick")
    skip = None if requests else f"no new or changed documents ({scan.unchanged} unchanged, {len(scan.errors)} unreadable)"
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[documents.build_add_request(new_keys)] if new_keys else [],
        cursor=encode_cursor(in_flight),
        skip_reason=skip,
    )
