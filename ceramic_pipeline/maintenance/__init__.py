"""Scheduled maintenance without Dagster: backups (pg_dump + local data archive), restore and
restore drill, VACUUM/REINDEX. ``defs/maintenance/`` wraps these as assets, checks and jobs."""
