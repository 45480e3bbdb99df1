"""deploy/prometheus: promtool checks and unit tests, and the metric names the rules use."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

from ceramic_pipeline_tests.deploy.catalogue import (
    PROPOSED, RULES_FILE, code_metric_types, known_names, selector_names,
)

PROMETHEUS = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"


def _promtool(*args: str) -> subprocess.CompletedProcess:
    binary = shutil.which("promtool")
    assert binary, "promtool is missing: apt-get install prometheus (CI installs it)"
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=120, cwd=PROMETHEUS)


def test_promtool_check_rules_and_config():
    rules = _promtool("check", "rules", str(RULES_FILE))
    assert rules.returncode == 0, rules.stdout + rules.stderr
    config = _promtool("check", "config", "prometheus.yml")
    assert config.returncode == 0, config.stdout + config.stderr


def test_promtool_rule_unit_tests_pass():
    result = _promtool("test", "rules", "tests/ceramic-pipeline.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_unit_tests_would_catch_a_wrong_threshold(tmp_path):
    # The slow-creation threshold lowered to 30 s: the test expecting it to fire must fail.
    (tmp_path / "rules").mkdir()
    (tmp_path / "tests").mkdir()
    (tmp_path / "rules" / RULES_FILE.name).write_text(
        RULES_FILE.read_text().replace("p95_5m > 10", "p95_5m > 30"))
    shutil.copy(PROMETHEUS / "tests" / "ceramic-pipeline.test.yml", tmp_path / "tests")
    result = subprocess.run([shutil.which("promtool"), "test", "rules", "tests/ceramic-pipeline.test.yml"],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode != 0
    assert "CeramicStreamCreationSlow" in result.stdout + result.stderr


def test_every_alert_has_a_unit_test_that_fires_it_and_one_that_does_not():
    alerts = {rule["alert"] for group in yaml.safe_load(RULES_FILE.read_text())["groups"]
              for rule in group["rules"] if "alert" in rule}
    tests = yaml.safe_load((PROMETHEUS / "tests" / "ceramic-pipeline.test.yml").read_text())["tests"]
    cases = [case for test in tests for case in test.get("alert_rule_test", [])]
    fired = {case["alertname"] for case in cases if case["exp_alerts"]}
    silent = {case["alertname"] for case in cases if not case["exp_alerts"]}
    assert alerts == fired
    assert alerts == silent


def test_rules_only_use_metrics_that_exist():
    unknown = {}
    for group in yaml.safe_load(RULES_FILE.read_text())["groups"]:
        for rule in group["rules"]:
            missing = selector_names(rule["expr"]) - known_names()
            if missing:
                unknown[rule.get("record") or rule["alert"]] = missing
    assert not unknown


def test_proposed_metrics_have_the_agreed_type_once_the_code_defines_them():
    defined = code_metric_types()
    for name, kind in PROPOSED.items():
        if name in defined:
            assert defined[name] == kind, f"{name} is a {defined[name]}, the rules expect a {kind}"


def test_scrape_config_keeps_pushed_labels():
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    [pushgateway] = [job for job in config["scrape_configs"] if job["job_name"] == "pushgateway"]
    assert pushgateway["honor_labels"] is True
