import os
from collections.abc import Sequence
from datetime import datetime, timezone

import dagster as dg

from ceramic_pipeline import metrics
from ceramic_pipeline.storage.documents import DocumentOutcome


def push_metrics(context: dg.OpExecutionContext | dg.AssetExecutionContext) -> None:
    """Push this step's metrics (one Pushgateway group per run and process; no-op when unconfigured)."""
    metrics.push(f"{context.run.run_id}:{os.getpid()}")


def run_started_at(context: dg.AssetExecutionContext) -> datetime:
    """When the run was created (UTC): counts "since the run started" survive step retries."""
    record = context.instance.get_run_record_by_id(context.run.run_id)
    return record.create_timestamp if record else datetime.now(timezone.utc)


def outcomes_markdown(outcomes: Sequence[DocumentOutcome], limit: int = 200) -> str:
    """A table a person reads in the UI: each document of the run, its state and why it failed."""
    lines = ["| document | state | reason |", "|---|---|---|"]
    for o in outcomes[:limit]:
        reason = (o.error or "").replace("|", "\\|")
        lines.append(f"| `{o.document_id}` | {o.state} | {reason} |")
    if len(outcomes) > limit:
        lines.append(f"| … {len(outcomes) - limit} more | | |")
    return "\n".join(lines)
