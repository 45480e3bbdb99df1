"""Prometheus metrics shared by every layer, defined once at module level.

prometheus-client registers a metric name once per registry, so each metric lives
here and the layers import it rather than defining their own.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

ceramic_streams_created_total = Counter(
    "ceramic_streams_created_total",
    "Ceramic streams created (genesis events accepted by the node).",
)

ceramic_stream_creation_duration_seconds = Histogram(
    "ceramic_stream_creation_duration_seconds",
    "Wall-clock time to create one Ceramic stream, from signing to the node's acceptance.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)

ceramic_ipfs_pin_failures_total = Counter(
    "ceramic_ipfs_pin_failures_total",
    "Failed attempts to pin content (each retried or fatal attempt counts once).",
    ["service"],
)
