import base64
import hashlib
import json
import os
import zlib

import dagster as dg

from ceramic_pipeline.defs.jobs import ingest_documents
from ceramic_pipeline.defs.partitions import documents, partition_batches
from ceramic_pipeline.documents import InboxError, partition_key, scan_inbox
from ceramic_pipeline.resources import InboxResource, PostgresResource
from ceramic_pipeline.storage.documents import content_hashes

# Bounded work per tick keeps evaluation far below Dagster's 60 s limit; the rest follow next ticks.
MAX_RUNS_PER_TICK = int(os.environ.get("SENSOR_MAX_RUNS_PER_TICK", "200"))
# Many documents per run: the run's fixed cost (launch, imports, resources) is paid once per batch.
MAX_DOCUMENTS_PER_RUN = int(os.environ.get("SENSOR_MAX_DOCUMENTS_PER_RUN", "100"))
MAX_DOCUMENTS_PER_TICK = 5_000


def encode_cursor(in_flight: dict[str, str]) -> str:
    return base64.b64encode(zlib.compress(json.dumps(in_flight, separators=(",", ":")).encode(), 9)).decode()


def decode_cursor(cursor: str | None) -> dict[str, str]:
    return json.loads(zlib.decompress(base64.b64decode(cursor))) if cursor else {}


@dg.sensor(job=ingest_documents, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def new_documents_sensor(context: dg.SensorEvaluationContext, inbox: InboxResource, postgres: PostgresResource) -> dg.SensorResult:
    """Adds a partition per new inbox document and requests runs for new or changed files.

    Documents are batched: each run covers up to SENSOR_MAX_DOCUMENTS_PER_RUN consecutive
    partitions (a partition-range run, one materialisation per partition). What is done comes from
    the `documents` table (ingested, or failed with this very content: a failed document is retried
    when its file changes); the cursor only holds requests still in flight ({document_id: hash}).
    """
    with postgres.connect() as conn:
        done = content_hashes(conn)
    in_flight = {d: h for d, h in decode_cursor(context.cursor).items() if done.get(d) != h}
    limit = min(MAX_DOCUMENTS_PER_TICK, MAX_RUNS_PER_TICK * MAX_DOCUMENTS_PER_RUN)
    try:
        scan = scan_inbox(inbox.folder(), limit, {**done, **in_flight})
    except InboxError as exc:
        return dg.SensorResult(skip_reason=str(exc), cursor=encode_cursor(in_flight))
    for error in scan.errors:
        context.log.warning(f"inbox file skipped: {error.document_id}: {error.reason}")
    keys = {partition_key(item.document_id): item for item in scan.pending}
    existing = context.instance.get_dynamic_partitions(documents.name)
    known = set(existing)
    new_keys = [k for k in keys if k not in known]  # partitions are added in this order, at the end
    ordered = [*existing, *new_keys]
    requests = []
    for batch in partition_batches(ordered, list(keys), MAX_DOCUMENTS_PER_RUN)[:MAX_RUNS_PER_TICK]:
        digest = hashlib.sha256("".join(f"{k}:{keys[k].content_hash}\n" for k in batch.keys).encode()).hexdigest()[:16]
        requests.append(dg.RunRequest(run_key=f"{batch.keys[0]}..{batch.keys[-1]}:{digest}", tags=batch.tags))
        in_flight.update({keys[k].document_id: keys[k].content_hash for k in batch.keys})
    if scan.remaining:
        context.log.info(f"{scan.remaining} more new or changed documents wait for the next tick")
    skip = None if requests else f"no new or changed documents ({scan.unchanged} unchanged, {len(scan.errors)} unreadable)"
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[documents.build_add_request(new_keys)] if new_keys else [],
        cursor=encode_cursor(in_flight),
        skip_reason=skip,
    )
