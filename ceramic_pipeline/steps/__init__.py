"""What each pipeline asset does, as plain functions over domain objects (no Dagster).

Assets in ``ceramic_pipeline.defs`` call these; the CLI and tests can call them directly.
"""
