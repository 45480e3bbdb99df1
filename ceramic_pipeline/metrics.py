"""Prometheus metrics shared by every layer, defined once at module level.

They live in the project's own ``REGISTRY`` so that a run can push exactly these (not the
process collectors) to a Pushgateway: Dagster runs are short-lived processes that a
Prometheus scrape would rarely catch alive.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, push_to_gateway

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry()

ceramic_streams_created_total = Counter(
    "ceramic_streams_created_total",
    "Ceramic streams created (genesis events accepted by the node).",
    registry=REGISTRY,
)

ceramic_stream_creation_duration_seconds = Histogram(
    "ceramic_stream_creation_duration_seconds",
    "Time from writing a stream's init event to the outbox until the node accepted it.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0),
    registry=REGISTRY,
)

ceramic_ipfs_pin_failures_total = Counter(
    "ceramic_ipfs_pin_failures_total",
    "Failed attempts to pin content (each retried or fatal attempt counts once).",
    ["service"],
    registry=REGISTRY,
)

ceramic_outbox_pending = Gauge(
    "ceramic_outbox_pending",
    "Events waiting in the outbox, as last seen by a publisher.",
    registry=REGISTRY,
)

ceramic_dependency_up = Gauge(
    "ceramic_dependency_up",
    "1 when the dependency passed its last health check (ceramic-pipeline health), else 0.",
    ["dependency"],
    registry=REGISTRY,
)

JOB = "ceramic_pipeline"


def push(instance: str, environ: Mapping[str, str] | None = None) -> bool:
    """Push this process's metrics to PROMETHEUS_PUSHGATEWAY_URL (if set); never fails the caller.

    ``instance`` must be unique per process (e.g. ``<run id>:<pid>``): the alert rules sum the
    groups pushed in a window, and a push replaces only its own group, so pushing again from
    the same process updates it rather than counting twice.
    """
    url = (environ if environ is not None else os.environ).get("PROMETHEUS_PUSHGATEWAY_URL", "").strip()
    if not url:
        return False
    try:
        push_to_gateway(url, job=JOB, grouping_key={"instance": instance}, registry=REGISTRY, timeout=5)
    except OSError as exc:  # metrics must never break the pipeline
        log.warning("could not push metrics to %s: %s", url, exc)
        return False
    return True
