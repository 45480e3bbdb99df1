import os

import dagster as dg

from ceramic_pipeline import metrics


def push_metrics(context: dg.OpExecutionContext | dg.AssetExecutionContext) -> None:
    """Push this step's metrics (one Pushgateway group per run and process; no-op when unconfigured)."""
    metrics.push(f"{context.run_id}:{os.getpid()}")
