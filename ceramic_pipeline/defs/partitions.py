from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import dagster as dg

# One partition per inbox document; keys use only [A-Za-z0-9_-] (documents.identity.partition_key).
documents = dg.DynamicPartitionsDefinition(name="documents")

# Dagster's system run tags for a partition-range run (one run, many partitions).
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


@dataclass(frozen=True)
class PartitionBatch:
    keys: list[str]  # consecutive in partition order

    @property
    def tags(self) -> dict[str, str]:
        return {RANGE_START_TAG: self.keys[0], RANGE_END_TAG: self.keys[-1]}


def partition_batches(ordered_keys: Sequence[str], wanted: Sequence[str], max_per_run: int) -> list[PartitionBatch]:
    """Group ``wanted`` keys into runs of consecutive partitions, at most ``max_per_run`` each.

    A Dagster run covers a *range* of partitions (start..end in the partitions' order), so a
    batch never spans a key that is not wanted: the run would materialise it too. New
    documents are added to the end of the dynamic partitions together, so a drop of 1,000 new
    files becomes ``ceil(1000 / max_per_run)`` runs. ``ordered_keys`` is the partitions'
    order (``instance.get_dynamic_partitions``, plus keys being added, at the end).
    """
    if max_per_run < 1:
        raise ValueError("max_per_run must be at least 1")
    want = set(wanted)
    batches: list[PartitionBatch] = []
    current: list[str] = []
    for key in ordered_keys:
        if key in want and len(current) < max_per_run:
            current.append(key)
            continue
        if current:
            batches.append(PartitionBatch(current))
        current = [key] if key in want else []
    if current:
        batches.append(PartitionBatch(current))
    return batches
