import pytest

from ceramic_pipeline.envparse import ConfigError
from ceramic_pipeline.settings import MAX_INLINE_TEXT_BYTES, Settings, usable_cpus


def test_defaults_are_the_embedded_setup(tmp_path):
    s = Settings.from_env({"CERAMIC_PIPELINE_DATA": str(tmp_path)})
    assert (s.database_url, s.ceramic_url) == (None, None)
    assert s.inbox == tmp_path / "inbox" and s.pin_threshold_bytes == 16384
    assert (s.ceramic_timeout_s, s.ceramic_batch_size, s.chunker) == (60.0, 50, "hierarchical")
    assert (s.ingest_documents_per_run, s.ingest_workers) == (500, usable_cpus())


def test_ingest_workers_default_to_the_cpus_this_process_may_use(tmp_path):
    import os

    affinity = len(os.sched_getaffinity(0))
    cpu_max = tmp_path / "cpu.max"
    assert usable_cpus(tmp_path / "absent") == affinity >= 1
    cpu_max.write_text("max 100000\n")  # no quota
    assert usable_cpus(cpu_max) == affinity
    cpu_max.write_text("50000 100000\n")  # half a CPU (a container limited to 500m): one worker
    assert usable_cpus(cpu_max) == 1
    cpu_max.write_text(f"{150000 * affinity} 100000\n")  # a quota above the affinity mask does not raise it
    assert usable_cpus(cpu_max) == affinity
    cpu_max.write_text("garbage")
    assert usable_cpus(cpu_max) == affinity
    assert Settings.from_env({"INGEST_WORKERS": "3", "INGEST_DOCUMENTS_PER_RUN": "50"}).ingest_workers == 3


def test_data_dir_follows_dagster_home(tmp_path):
    assert Settings.from_env({"DAGSTER_HOME": str(tmp_path)}).data_dir == tmp_path / "ceramic-pipeline"


@pytest.mark.parametrize(
    "env, message",
    [
        ({"PIN_THRESHOLD_BYTES": "lots"}, "PIN_THRESHOLD_BYTES must be an integer"),
        ({"PIN_THRESHOLD_BYTES": str(MAX_INLINE_TEXT_BYTES + 1)}, "between 1 and 16384"),
        ({"CERAMIC_TIMEOUT": "0"}, "CERAMIC_TIMEOUT"),
        ({"CERAMIC_BATCH_SIZE": "-1"}, "CERAMIC_BATCH_SIZE"),
        ({"CHUNKER": "fancy"}, "CHUNKER must be"),
        ({"CERAMIC_URL": "localhost:5101"}, "CERAMIC_URL must start with http:// or https://"),
        ({"CERAMIC_URL": "http://user:pw@:5101"}, "CERAMIC_URL has no host"),
        ({"CERAMIC_URL": "http://node:port"}, "CERAMIC_URL is not a valid URL"),
        ({"CHUNKER": "hybrid"}, "CHUNKER_TOKENIZER_PATH"),
        ({"CHUNKER": "hybrid", "CHUNKER_TOKENIZER_PATH": "/tok"}, "CHUNKER_MAX_TOKENS"),
        ({"ARCHIVE_AFTER_DAYS": "0"}, "ARCHIVE_AFTER_DAYS must be between 1 and 36500"),
        ({"DAGSTER_RUN_RETENTION_DAYS": "a month"}, "DAGSTER_RUN_RETENTION_DAYS must be an integer"),
        ({"INGEST_WORKERS": "0"}, "INGEST_WORKERS must be between 1 and 256"),
        ({"INGEST_DOCUMENTS_PER_RUN": "many"}, "INGEST_DOCUMENTS_PER_RUN must be an integer"),
    ],
)
def test_bad_values_are_one_line_errors_naming_the_variable(env, message):
    with pytest.raises(ConfigError, match=message) as info:
        Settings.from_env(env)
    assert "\n" not in str(info.value)


def test_ceramic_url_and_timeout(tmp_path):
    s = Settings.from_env({"CERAMIC_URL": "http://node:5101/", "CERAMIC_TIMEOUT": "2500"})
    assert s.ceramic_url == "http://node:5101" and s.ceramic_timeout_s == 2.5


def test_backup_settings_default_under_the_data_dir_and_parse(tmp_path):
    s = Settings.from_env({"CERAMIC_PIPELINE_DATA": str(tmp_path)})
    assert (s.backup_dir, s.backup_retention_count) == (tmp_path / "backups", 7)
    assert (s.cron("BACKUP_CRON", "0 2 * * *"), s.maintenance_timezone) == ("0 2 * * *", "UTC")
    s = Settings.from_env({"BACKUP_DIR": str(tmp_path / "elsewhere"), "BACKUP_RETENTION_COUNT": "30"})
    assert (s.backup_dir, s.backup_retention_count) == (tmp_path / "elsewhere", 30)
    with pytest.raises(ConfigError, match="BACKUP_RETENTION_COUNT must be between 1 and"):
        Settings.from_env({"BACKUP_RETENTION_COUNT": "0"})


def test_maintenance_defaults_and_overrides():
    s = Settings.from_env({})
    assert (s.archive_after_days, s.dagster_run_retention_days) == (90, 30)
    assert s.cron("ARCHIVE_CRON", "30 3 * * *") == "30 3 * * *"
    s = Settings.from_env({"ARCHIVE_AFTER_DAYS": "180", "DAGSTER_RUN_RETENTION_DAYS": "7", "ARCHIVE_CRON": " 0 2 * * * "})
    assert (s.archive_after_days, s.dagster_run_retention_days) == (180, 7)
    assert s.cron("ARCHIVE_CRON", "30 3 * * *") == "0 2 * * *"
