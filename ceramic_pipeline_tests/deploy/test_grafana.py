"""deploy/grafana: the dashboard's queries and its provisioning."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from ceramic_pipeline_tests.deploy.catalogue import code_series_names, known_names, selector_names

GRAFANA = Path(__file__).resolve().parents[2] / "deploy" / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "ceramic-pipeline.json"


def _dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def _targets():
    for panel in _dashboard()["panels"]:
        for target in panel.get("targets", []):
            yield panel, target


def test_every_panel_query_parses_and_uses_known_metrics():
    queries = list(_targets())
    assert queries
    for panel, target in queries:
        names = selector_names(target["expr"])
        assert names, panel["title"]
        assert names <= known_names(), f"{panel['title']}: unknown {names - known_names()}"


def test_the_three_code_metrics_are_all_on_the_dashboard():
    # Through their recording rules: resolve each recorded name back to the raw series it reads.
    rules = yaml.safe_load((GRAFANA.parent / "prometheus" / "rules" / "ceramic-pipeline.yml").read_text())
    recorded = {rule["record"]: rule["expr"] for group in rules["groups"] for rule in group["rules"] if "record" in rule}

    def raw(names: set[str]) -> set[str]:
        resolved = set()
        for name in names:
            resolved |= raw(selector_names(recorded[name])) if name in recorded else {name}
        return resolved

    shown = set().union(*(raw(selector_names(target["expr"])) for _, target in _targets()))
    assert {"ceramic_streams_created_total", "ceramic_stream_creation_duration_seconds_bucket",
            "ceramic_ipfs_pin_failures_total"} <= shown & code_series_names()


def test_panels_have_unique_ids_and_the_provisioned_datasource():
    dashboard = _dashboard()
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    [datasource] = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yaml").read_text())["datasources"]
    for panel, target in _targets():
        assert panel["datasource"]["uid"] == target["datasource"]["uid"] == datasource["uid"]
    assert dashboard["uid"] == "ceramic-pipeline"


def test_dashboard_provider_reads_the_folder_compose_mounts():
    [provider] = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "ceramic-pipeline.yaml").read_text())["providers"]
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"
