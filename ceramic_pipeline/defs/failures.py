"""How a step fails: transient errors are retried by the step's policy, anything else fails once.

Per-document errors never get here (steps.outcomes records them on the document). What does is
either transient (the database or a service unreachable: raised as is, so ``NETWORK_RETRY``
retries the step) or permanent for the whole step (configuration, credentials, a bug): that
becomes one ``dg.Failure`` line with retries disabled, so a bad seed fails in a second instead
of going through minutes of retries and a 500-line traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from ceramic_pipeline.logs import log_context
from ceramic_pipeline.steps.outcomes import is_transient, one_line


@contextmanager
def fail_fast_unless_transient(context: dg.OpExecutionContext | dg.AssetExecutionContext | None = None) -> Iterator[None]:
    """Guard a step's body; with ``context``, the project's log lines inside carry the run id."""
    with log_context(run_id=context.run.run_id if context is not None else None), _fail_fast():
        yield


@contextmanager
def _fail_fast() -> Iterator[None]:
    try:
        yield
    except dg.Failure:
        raise
    except Exception as exc:
        if is_transient(exc):
            raise
        # `from None`: the cause may quote input (e.g. pydantic's input_value); the line names the error.
        raise dg.Failure(description=one_line(exc), allow_retries=False) from None
