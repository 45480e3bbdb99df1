"""Dagster definitions, one folder per domain; nothing here touches bytes."""

import warnings

import dagster as dg

# BackfillPolicy.single_run is how a back-fill of many documents runs as one run (README).
# Dagster marks the asset decorator's `backfill_policy` parameter beta and warns once per
# decorated asset in every process that loads these definitions (code server, each run,
# each step): ~205 lines per `dagster dev` start. Only that warning is ignored; it is raised
# while this package's modules are imported, so the filter is set here, before any of them.
warnings.filterwarnings(
    "ignore", message=r"Parameter `backfill_policy` of function `asset` is currently in beta", category=dg.BetaWarning
)
