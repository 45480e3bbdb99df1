"""Dagster definitions, one folder per domain; nothing here touches bytes."""
