"""Metric names the deploy files may refer to, and the names a PromQL expression refers to.

The PromQL side uses promql-parser (a real parser) rather than regexes, so label names,
function names and keywords are never mistaken for metrics.
"""

from __future__ import annotations

from pathlib import Path

import promql_parser
import yaml
from prometheus_client.metrics import MetricWrapperBase

from ceramic_pipeline import metrics

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
RULES_FILE = DEPLOY / "prometheus" / "rules" / "ceramic-pipeline.yml"

# Series the Pushgateway adds to every pushed group, and the scrape health series.
PUSHGATEWAY_SERIES = {"push_time_seconds", "push_failure_time_seconds"}
SCRAPE_SERIES = {"up"}
# Gauges the rules and dashboard already use but that metrics.py does not define yet
# (see deploy/README.md, "Metrics the code must provide"). Name -> required type.
PROPOSED = {"ceramic_outbox_pending": "gauge"}

_SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created"),
             "gauge": ("",), "summary": ("", "_sum", "_count", "_created")}


def code_metric_types() -> dict[str, str]:
    """Family name -> type for every metric defined in ceramic_pipeline/metrics.py."""
    found = {}
    for value in vars(metrics).values():
        if isinstance(value, MetricWrapperBase):
            for family in value.describe():
                found[family.name] = family.type
    return found


def code_series_names() -> set[str]:
    return {family + suffix for family, kind in code_metric_types().items() for suffix in _SUFFIXES[kind]}


def recorded_names(rules_file: Path = RULES_FILE) -> set[str]:
    groups = yaml.safe_load(rules_file.read_text())["groups"]
    return {rule["record"] for group in groups for rule in group["rules"] if "record" in rule}


def known_names() -> set[str]:
    return code_series_names() | recorded_names() | PUSHGATEWAY_SERIES | SCRAPE_SERIES | set(PROPOSED)


def selector_names(expr: str) -> set[str]:
    """Every metric name selected anywhere in ``expr`` (raises ValueError on bad PromQL)."""
    names: set[str] = set()
    _walk(promql_parser.parse(expr), names)
    return names


def _walk(node, names: set[str]) -> None:
    if isinstance(node, promql_parser.VectorSelector):
        if node.name:
            names.add(node.name)
        for matcher in node.matchers.matchers:
            if matcher.name == "__name__":
                names.add(matcher.value)
    elif isinstance(node, promql_parser.MatrixSelector):
        _walk(node.vector_selector, names)
    elif isinstance(node, promql_parser.BinaryExpr):
        _walk(node.lhs, names)
        _walk(node.rhs, names)
    elif isinstance(node, promql_parser.AggregateExpr):
        _walk(node.expr, names)
        if node.param is not None:
            _walk(node.param, names)
    elif isinstance(node, promql_parser.Call):
        for arg in node.args:
            _walk(arg, names)
    elif isinstance(node, (promql_parser.ParenExpr, promql_parser.UnaryExpr, promql_parser.SubqueryExpr)):
        _walk(node.expr, names)
