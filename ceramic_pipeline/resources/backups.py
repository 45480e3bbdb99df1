from __future__ import annotations

from pathlib import Path

import dagster as dg


class BackupResource(dg.ConfigurableResource):
    """Where backups go (BACKUP_DIR), how many are kept (BACKUP_RETENTION_COUNT) and which
    local data of the embedded default is archived with them (archive name -> path)."""

    backup_dir: str
    retention_count: int = 7
    local_data: dict[str, str] = {}

    def local_data_paths(self) -> dict[str, Path]:
        return {name: Path(path) for name, path in self.local_data.items()}
