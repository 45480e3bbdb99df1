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


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]], limit: int = 200) -> str:
    """A Markdown table for asset metadata (what a person reads on the asset page), at most ``limit`` rows."""
    cell = lambda value: str(value if value is not None else "").replace("|", "\\|")  # noqa: E731
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows[:limit]]
    if len(rows) > limit:
        lines.append(f"| … {len(rows) - limit} more |" + " |" * (len(headers) - 1))
    return "\n".join(lines)


def outcomes_markdown(outcomes: Sequence[DocumentOutcome], limit: int = 200) -> str:
    """Each document of the run, its state and why it failed."""
    return markdown_table(("document", "state", "reason"), [(o.document_id, o.state, o.error) for o in outcomes], limit)
