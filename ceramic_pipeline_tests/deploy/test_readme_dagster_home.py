"""README command 1 puts the repository's dagster.yaml into DAGSTER_HOME, so the embedded default
runs with its run queue, concurrency limits, run retries and telemetry off (Dagster ignores a
dagster.yaml in the working directory when DAGSTER_HOME is set)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from dagster import DagsterInstance
from dagster._core.instance.ref import InstanceRef

ROOT = Path(__file__).resolve().parents[2]


def readme_command_one() -> str:
    return re.search(r"```sh\n\s*(.+?)\n\s*```", (ROOT / "README.md").read_text()).group(1)


def home_setup_steps(command: str) -> list[str]:
    """The steps between the install and `dagster dev`: they prepare DAGSTER_HOME."""
    steps = command.split(" && ")
    start = next(i for i, s in enumerate(steps) if s.startswith("mkdir -p var/dagster"))
    end = next(i for i, s in enumerate(steps) if s.startswith("DAGSTER_HOME="))
    return steps[start:end]


def test_command_one_is_one_line_that_links_the_instance_config():
    command = readme_command_one()
    assert "\n" not in command
    assert command.endswith("DAGSTER_HOME=$PWD/var/dagster .venv/bin/dagster dev")
    assert any("dagster.yaml var/dagster/dagster.yaml" in step for step in home_setup_steps(command))


def test_the_home_it_prepares_loads_the_repository_config(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(ROOT / "dagster.yaml", repo / "dagster.yaml")
    for _ in range(2):  # a second start finds the home already prepared
        subprocess.run(["bash", "-ec", " && ".join(home_setup_steps(readme_command_one()))], cwd=repo, check=True)
    home = repo / "var" / "dagster"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    instance = DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
    try:
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        queue = instance.get_concurrency_config().run_queue_config
        assert queue.max_concurrent_runs == 10
        assert {"key": "ceramic/kind", "value": "maintenance", "limit": 1} in queue.tag_concurrency_limits
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 2
        assert instance.get_settings("telemetry") == {"enabled": False}
        assert Path(instance.root_directory) == home  # storage stays in DAGSTER_HOME
    finally:
        instance.dispose()
    # The link follows the repository's file, so an edited dagster.yaml applies on the next start.
    assert (home / "dagster.yaml").resolve() == (repo / "dagster.yaml").resolve()
