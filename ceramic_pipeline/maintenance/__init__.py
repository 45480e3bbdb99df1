"""Scheduled maintenance work, without Dagster's job machinery (defs/maintenance/ wraps it)."""
