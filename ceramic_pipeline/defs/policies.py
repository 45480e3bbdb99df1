import dagster as dg

# Network-bound steps: exponential backoff with jitter, bounded.
NETWORK_RETRY = dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)

# Back-filling 1,000 documents is one run, not 1,000.
SINGLE_RUN = dg.BackfillPolicy.single_run()

# Maintenance jobs share one tag: dagster.yaml lets one of them run at a time.
MAINTENANCE_TAGS = {"ceramic/kind": "maintenance"}

