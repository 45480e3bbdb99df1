"""Maintenance jobs and their schedules (archival, run retention, re-sync, ...)."""
