"""deploy/kubernetes: plain manifests (kubernetes-validate --strict) and the Helm values."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import dagster_k8s
import jsonschema
import pytest
import yaml
from dagster._config import validate_config
from dagster._core.errors import DagsterInvalidConfigError
from dagster._core.instance.config import dagster_instance_config

from ceramic_pipeline_tests.deploy.helm_instance import instance_config, k8s_run_launcher_config

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "kubernetes"
MANIFESTS = sorted((K8S / "manifests").glob("*.yaml"))
VALUES = K8S / "helm" / "values.yaml"
SCHEMA = K8S / "helm" / "values.subset.schema.json"


def _values() -> dict:
    return yaml.safe_load(VALUES.read_text())


def _resources() -> dict[tuple[str, str], dict]:
    docs = [doc for path in MANIFESTS for doc in yaml.safe_load_all(path.read_text()) if doc]
    return {(doc["kind"], doc["metadata"]["name"]): doc for doc in docs}


def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _kubernetes_validate(*paths: Path) -> subprocess.CompletedProcess:
    binary = Path(sys.executable).with_name("kubernetes-validate")
    return subprocess.run([str(binary), "--strict", "--kubernetes-version", "1.30", *map(str, paths)],
                          capture_output=True, text=True, timeout=120)


def test_manifests_pass_kubernetes_validate_strict():
    result = _kubernetes_validate(*MANIFESTS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("passed") == len(_resources())


def test_kubernetes_validate_catches_a_misspelt_field(tmp_path):
    broken = tmp_path / "pushgateway.yaml"
    shutil.copy(K8S / "manifests" / "pushgateway.yaml", broken)
    broken.write_text(broken.read_text().replace("readOnlyRootFilesystem: true", "readOnlyRootFileSystem: true"))
    result = _kubernetes_validate(broken)
    assert result.returncode != 0
    assert "'readOnlyRootFileSystem' was unexpected" in result.stdout + result.stderr


def test_secret_template_holds_only_placeholders():
    for (kind, name), doc in _resources().items():
        if kind == "Secret":
            assert "data" not in doc, f"{name}: use stringData placeholders, not encoded values"
            assert all("REPLACE_ME" in value for value in doc["stringData"].values()), name
    pipeline = _resources()[("Secret", "ceramic-pipeline-secrets")]["stringData"]
    assert {"AGENT_DID_SEED_BASE64", "PINATA_JWT", "DATABASE_URL"} <= set(pipeline)
    dagster_pg = _resources()[("Secret", _values()["global"]["postgresqlSecretName"])]
    assert set(dagster_pg["stringData"]) == {"postgresql-password"}  # the key the chart reads


def test_rules_configmap_is_the_prometheus_rules_file():
    configmap = _resources()[("ConfigMap", "ceramic-prometheus-rules")]
    rules = (ROOT / "deploy" / "prometheus" / "rules" / "ceramic-pipeline.yml").read_text()
    assert configmap["data"] == {"ceramic-pipeline.yml": rules}


def test_pushgateway_service_selects_its_deployment():
    resources = _resources()
    deployment = resources[("Deployment", "ceramic-pushgateway")]
    service = resources[("Service", "ceramic-pushgateway")]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    config = resources[("ConfigMap", "ceramic-pipeline-config")]["data"]
    assert config["PROMETHEUS_PUSHGATEWAY_URL"] == "http://ceramic-pushgateway:9091"


def test_helm_values_match_the_project_schema():
    errors = sorted(_validator().iter_errors(_values()), key=str)
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda v: v["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"].update(maxConcurrentRuns=5),
         "maxConcurrentRuns"),
        (lambda v: v["runLauncher"]["config"]["k8sRunLauncher"].update(envSecret=[{"name": "x"}]), "envSecret"),
        (lambda v: v["postgresql"].update(postgresqlScheme="postgresql"), "postgresql+psycopg2"),
        (lambda v: v["telemetry"].update(enabled=True), "False"),
        (lambda v: v["postgresql"].update(postgresqlPassword="hunter2"), "postgresqlPassword"),
    ],
    ids=["limits-in-two-places", "typo", "psycopg3-scheme", "telemetry-on", "literal-password"],
)
def test_the_schema_rejects_what_the_project_forbids(mutate, needle):
    values = copy.deepcopy(_values())
    mutate(values)
    messages = [error.message for error in _validator().iter_errors(values)]
    assert any(needle in message for message in messages), messages


def test_run_launcher_block_passes_k8s_run_launchers_own_config_schema():
    config = k8s_run_launcher_config(_values())
    result = validate_config(dagster_k8s.K8sRunLauncher.config_type(), config)
    assert result.success, [error.message for error in result.errors]
    assert config["run_k8s_config"]["job_spec_config"]["ttlSecondsAfterFinished"] == 3600
    typo = dict(config, job_namspace="ceramic")
    assert not validate_config(dagster_k8s.K8sRunLauncher.config_type(), typo).success


def test_rendered_instance_passes_dagsters_instance_checks(tmp_path):
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(instance_config(_values())))
    config, _ = dagster_instance_config(str(tmp_path))
    assert config["storage"]["postgres"]["postgres_db"]["scheme"] == "postgresql+psycopg2"
    assert config["telemetry"] == {"enabled": False}
    # the conflict Dagster refuses (and the chart too): limits in both places
    values = _values()
    values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]["maxConcurrentRuns"] = 5
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(instance_config(values)))
    with pytest.raises(DagsterInvalidConfigError):
        dagster_instance_config(str(tmp_path))


def test_code_server_and_runs_get_the_secret_and_config_the_manifests_define():
    values, resources = _values(), _resources()
    [deployment] = values["dagster-user-deployments"]["deployments"]
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    assert deployment["dagsterApiGrpcArgs"] == ["-m", "ceramic_pipeline.definitions"]
    for holder in (deployment, launcher):
        assert [s["name"] for s in holder["envSecrets"]] == ["ceramic-pipeline-secrets"]
        for ref in holder["envConfigMaps"]:
            assert ("ConfigMap", ref["name"]) in resources
        for volume in holder["volumes"]:
            assert ("PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"]) in resources
    assert ("Secret", "ceramic-pipeline-secrets") in resources


def test_startup_probe_runs_the_health_command():
    import kubernetes_validate

    [deployment] = _values()["dagster-user-deployments"]["deployments"]
    probe = {k: v for k, v in deployment["startupProbe"].items() if k != "enabled"}  # the chart omits `enabled`
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "probe"},
           "spec": {"containers": [{"name": "dagster-user-deployments", "image": "x:1", "startupProbe": probe}]}}
    kubernetes_validate.validate(pod, "1.30", strict=True)
    argv = probe["exec"]["command"]
    assert argv[:2] == ["ceramic-pipeline", "health"]
    result = subprocess.run([str(Path(sys.executable).with_name("ceramic-pipeline")), "health", "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert all(option in result.stdout for option in argv[2:] if option.startswith("--"))
    # four checks run one after another, each bounded by --timeout (the database twice)
    assert probe["timeoutSeconds"] >= 5 * float(argv[argv.index("--timeout") + 1])
    values = _values()
    values["dagster-user-deployments"]["deployments"][0]["startupProbe"]["exec"]["cmd"] = ["x"]
    assert any("'cmd' was unexpected" in e.message for e in _validator().iter_errors(values))
