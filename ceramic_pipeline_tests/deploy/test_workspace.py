"""workspace.yaml files: the root one for `dagster dev`, the gRPC ones for compose and systemd."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import yaml
from dagster._core.workspace.config_schema import ensure_workspace_config

ROOT = Path(__file__).resolve().parents[2]
GRPC_WORKSPACES = [ROOT / "deploy" / "docker-compose" / "workspace.yaml", ROOT / "deploy" / "systemd" / "workspace.yaml"]


def test_root_workspace_names_the_code_location():
    config = ensure_workspace_config(yaml.safe_load((ROOT / "workspace.yaml").read_text()), "workspace.yaml")
    [entry] = config["load_from"]
    target = entry["python_module"]
    assert target == {"module_name": "ceramic_pipeline.definitions", "location_name": "ceramic_pipeline"}
    assert importlib.util.find_spec(target["module_name"]) is not None


@pytest.mark.parametrize("path", GRPC_WORKSPACES, ids=lambda p: p.parent.name)
def test_grpc_workspaces_point_at_the_code_server(path):
    config = ensure_workspace_config(yaml.safe_load(path.read_text()), str(path))
    [entry] = config["load_from"]
    assert entry["grpc_server"]["location_name"] == "ceramic_pipeline"
    assert entry["grpc_server"]["port"] == 4000
