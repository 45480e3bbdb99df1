"""Scheduled maintenance without Dagster: backups (pg_dump + local data archive), restore and
restore drill, VACUUM/REINDEX, Dagster run retention, re-sync from Ceramic. ``defs/maintenance/``
wraps these as assets, checks and jobs (archival itself lives with the streams in storage/)."""
