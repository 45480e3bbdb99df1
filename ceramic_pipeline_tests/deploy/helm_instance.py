"""The dagster.yaml the dagster/dagster chart would render from our values, for offline checks.

There is no Helm binary offline, so this maps the handful of values the project sets the
way the chart's templates (configmap-instance.yaml, helpers/instance/*.tpl) do, and the
tests validate the result with Dagster's own config schemas. Only keys present in
deploy/kubernetes/helm/values.yaml are handled; the subset JSON schema rejects others.
"""

from __future__ import annotations

from typing import Any

RELEASE_NAMESPACE = "ceramic"
DAGSTER_HOME = "/opt/dagster/dagster_home"

_RUN_K8S_CONFIG_KEYS = {
    "containerConfig": "container_config",
    "podSpecConfig": "pod_spec_config",
    "podTemplateSpecMetadata": "pod_template_spec_metadata",
    "jobSpecConfig": "job_spec_config",
    "jobMetadata": "job_metadata",
}


def k8s_run_launcher_config(values: dict[str, Any]) -> dict[str, Any]:
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    config: dict[str, Any] = {
        "load_incluster_config": launcher["loadInclusterConfig"],
        "job_namespace": launcher.get("jobNamespace") or RELEASE_NAMESPACE,
        "image_pull_policy": launcher["imagePullPolicy"],
        "service_account_name": "ceramic-dagster",
        "dagster_home": DAGSTER_HOME,
        "instance_config_map": "ceramic-dagster-instance",
        "postgres_password_secret": values["global"]["postgresqlSecretName"],
    }
    if launcher.get("envConfigMaps"):
        config["env_config_maps"] = [item["name"] for item in launcher["envConfigMaps"]]
    if launcher.get("envSecrets"):
        config["env_secrets"] = [item["name"] for item in launcher["envSecrets"]]
    for value_key, config_key in (("envVars", "env_vars"), ("volumeMounts", "volume_mounts"),
                                  ("volumes", "volumes"), ("resources", "resources")):
        if launcher.get(value_key):
            config[config_key] = launcher[value_key]
    if launcher.get("runK8sConfig"):
        config["run_k8s_config"] = {
            _RUN_K8S_CONFIG_KEYS[key]: value for key, value in launcher["runK8sConfig"].items() if value
        }
    return config


def _concurrency(values: dict[str, Any]) -> dict[str, Any]:
    block = values.get("concurrency") or {}
    if not block.get("enabled"):
        return {}
    pools = block.get("pools") or {}
    runs = block.get("runs") or {}
    rendered: dict[str, Any] = {}
    pool_keys = {"defaultLimit": "default_limit", "granularity": "granularity",
                 "opGranularityRunBuffer": "op_granularity_run_buffer"}
    if any(key in pools for key in pool_keys):
        rendered["pools"] = {pool_keys[key]: value for key, value in pools.items()}
    if runs:
        rendered["runs"] = {}
        if runs.get("maxConcurrentRuns") is not None:
            rendered["runs"]["max_concurrent_runs"] = runs["maxConcurrentRuns"]
        if runs.get("tagConcurrencyLimits"):
            rendered["runs"]["tag_concurrency_limits"] = runs["tagConcurrencyLimits"]
    return rendered


def instance_config(values: dict[str, Any]) -> dict[str, Any]:
    pg = values["postgresql"]
    postgres_db = {
        "username": pg["postgresqlUsername"],
        "password": {"env": "DAGSTER_PG_PASSWORD"},
        "hostname": pg["postgresqlHost"],
        "db_name": pg["postgresqlDatabase"],
        "port": pg["service"]["port"],
        "scheme": pg["postgresqlScheme"],
    }
    daemon = values["dagsterDaemon"]
    queued = daemon["runCoordinator"]["config"]["queuedRunCoordinator"]
    coordinator_keys = {"maxConcurrentRuns": "max_concurrent_runs", "tagConcurrencyLimits": "tag_concurrency_limits",
                        "dequeueIntervalSeconds": "dequeue_interval_seconds",
                        "dequeueUseThreads": "dequeue_use_threads", "dequeueNumWorkers": "dequeue_num_workers"}
    rendered: dict[str, Any] = {
        "storage": {"postgres": {"postgres_db": postgres_db}},
        "run_coordinator": {
            "module": "dagster.core.run_coordinator",
            "class": "QueuedRunCoordinator",
            "config": {coordinator_keys[key]: value for key, value in queued.items()},
        },
        "run_launcher": {"module": "dagster_k8s", "class": "K8sRunLauncher",
                         "config": k8s_run_launcher_config(values)},
        "telemetry": {"enabled": values["telemetry"]["enabled"]},
    }
    if concurrency := _concurrency(values):
        rendered["concurrency"] = concurrency
    monitoring = daemon.get("runMonitoring") or {}
    if monitoring.get("enabled"):
        rendered["run_monitoring"] = {"enabled": True, "start_timeout_seconds": monitoring["startTimeoutSeconds"]}
    retries = daemon.get("runRetries") or {}
    if retries.get("enabled"):
        rendered["run_retries"] = {"enabled": True, "max_retries": retries["maxRetries"]}
    for name in ("sensors", "schedules"):
        block = daemon.get(name) or {}
        if block.get("useThreads"):
            rendered[name] = {"use_threads": True, "num_workers": block["numWorkers"]}
    retention = values.get("retention") or {}
    if retention.get("enabled"):
        rendered["retention"] = {
            kind: {"purge_after_days": retention[kind]["purgeAfterDays"]} for kind in ("schedule", "sensor")
        }
    return rendered
