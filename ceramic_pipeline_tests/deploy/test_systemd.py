"""deploy/systemd: unit syntax, and ExecStart lines checked against the real CLIs' --help."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SYSTEMD = ROOT / "deploy" / "systemd"
UNITS = sorted(SYSTEMD.glob("*.service"))
INSTALL_BIN = "/opt/ceramic-pipeline/venv/bin/"
VENV_BIN = str(Path(sys.executable).parent) + "/"


def parse_unit(path: Path) -> dict[str, list[tuple[str, str]]]:
    """Sections -> (key, value) pairs in order.

    Hand-written because configparser cannot keep repeated keys (EnvironmentFile=,
    Environment= may appear several times in one section, and systemd honours every one).
    """
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
        elif "=" in line and current is not None:
            key, value = line.split("=", 1)
            current.append((key.strip(), value.strip()))
        else:
            raise AssertionError(f"{path.name}:{number}: not a section or key=value: {raw!r}")
    return sections


def values(unit: dict, section: str, key: str) -> list[str]:
    return [value for k, value in unit.get(section, []) if k == key]


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.stem)
def test_units_run_as_the_service_user_with_the_dagster_env(path):
    unit = parse_unit(path)
    assert set(unit) == {"Unit", "Service", "Install"}
    assert values(unit, "Service", "User") == ["ceramic"]
    assert "/etc/ceramic-pipeline/dagster.env" in values(unit, "Service", "EnvironmentFile")
    assert values(unit, "Service", "Environment") == ["DAGSTER_HOME=/var/lib/ceramic-pipeline/dagster_home"]
    assert values(unit, "Install", "WantedBy") == ["ceramic-pipeline.target"]
    assert values(unit, "Unit", "PartOf") == ["ceramic-pipeline.target"]


def test_only_the_code_server_reads_the_pipeline_secrets():
    for path in UNITS:
        files = values(parse_unit(path), "Service", "EnvironmentFile")
        holds_secrets = "/etc/ceramic-pipeline/pipeline.env" in files
        assert holds_secrets == (path.stem == "ceramic-pipeline-code-server"), path.name


def test_target_wants_every_service():
    target = parse_unit(SYSTEMD / "ceramic-pipeline.target")
    assert set(" ".join(values(target, "Unit", "Wants")).split()) == {path.name for path in UNITS}


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.stem)
def test_exec_start_options_exist_in_the_installed_cli(path):
    [exec_start] = values(parse_unit(path), "Service", "ExecStart")
    argv = shlex.split(exec_start)
    assert argv[0].startswith(INSTALL_BIN), argv[0]
    local = [VENV_BIN + argv[0][len(INSTALL_BIN):]]
    subcommands = [arg for arg in argv[1:3] if not arg.startswith("-") and arg in {"api", "grpc", "run"}]
    result = subprocess.run(local + subcommands + ["--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    for option in (arg for arg in argv[1:] if arg.startswith("--")):
        assert option in result.stdout, f"{option} is not an option of {' '.join(argv[:1] + subcommands)}"
    if "grpc" in subcommands:
        assert argv[argv.index("--module-name") + 1] == "ceramic_pipeline.definitions"
    if "--workspace" in argv:
        assert argv[argv.index("--workspace") + 1] == "/etc/ceramic-pipeline/workspace.yaml"


def test_env_examples_hold_placeholders_only():
    for name in ("dagster.env.example", "pipeline.env.example"):
        for line in (SYSTEMD / name).read_text().splitlines():
            if "=" in line and not line.startswith("#"):
                key, value = line.split("=", 1)
                if any(word in key for word in ("PASSWORD", "JWT", "SEED", "SECRET", "DATABASE_URL")):
                    assert "REPLACE_ME" in value, key


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_verify_is_clean(tmp_path):
    # Point ExecStart at this venv so verify can check the binaries exist and are executable.
    for path in [*UNITS, SYSTEMD / "ceramic-pipeline.target"]:
        (tmp_path / path.name).write_text(path.read_text().replace(INSTALL_BIN, VENV_BIN))
    result = subprocess.run(["systemd-analyze", "verify", *sorted(str(p) for p in tmp_path.iterdir())],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Unknown" not in result.stderr and "ignoring" not in result.stderr, result.stderr


def test_code_server_checks_the_dependencies_before_starting():
    [pre] = values(parse_unit(SYSTEMD / "ceramic-pipeline-code-server.service"), "Service", "ExecStartPre")
    argv = shlex.split(pre)
    assert argv[:2] == [INSTALL_BIN + "ceramic-pipeline", "health"]
    result = subprocess.run([VENV_BIN + "ceramic-pipeline", "health", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    for option in (arg for arg in argv[2:] if arg.startswith("--")):
        assert option in result.stdout, f"{option} is not an option of ceramic-pipeline health"
    for path in UNITS:  # only the unit that holds the pipeline's configuration can check it
        assert bool(values(parse_unit(path), "Service", "ExecStartPre")) == (path.stem == "ceramic-pipeline-code-server")
