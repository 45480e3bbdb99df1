"""Which executor runs the ingest job's steps: DAGSTER_EXECUTOR = in_process (default) | multiprocess | k8s.

in_process: every step in the run's own process. A 4-chunk document's run took 43–51 s under
the multiprocess executor, of which ~2 s was work: each of its 5 steps paid a fresh Python and
~8 s of imports. The chain is sequential per run, so step parallelism buys nothing there.
multiprocess: steps in subprocesses (Dagster's default). k8s: one pod per step via
dagster-k8s's ``k8s_job_executor``, for deployments that want pods; the K8sRunLauncher
(deploy/kubernetes) already puts each run in its own pod with any executor.
"""

from __future__ import annotations

import os

import dagster as dg

EXECUTOR_VARIABLE = "DAGSTER_EXECUTOR"


def executor_from_env(environ: dict[str, str] | None = None) -> dg.ExecutorDefinition:
    name = (environ if environ is not None else os.environ).get(EXECUTOR_VARIABLE, "in_process").strip() or "in_process"
    if name == "in_process":
        return dg.in_process_executor
    if name == "multiprocess":
        return dg.multiprocess_executor
    if name == "k8s":
        from dagster_k8s import k8s_job_executor

        return k8s_job_executor
    raise ValueError(f"{EXECUTOR_VARIABLE} must be in_process, multiprocess or k8s (got {name!r})")
