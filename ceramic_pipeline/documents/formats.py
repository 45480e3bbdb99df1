"""The file formats the documents layer takes, by suffix: DoclingDocument JSON and what the
``convert`` extra converts. Kept apart from ``loading`` so that scanning a folder or naming
inputs does not import docling-core (0.36 s; an unchanged re-ingest needs no document loaded)."""

from __future__ import annotations

from ceramic_pipeline.documents.conversion import CONVERTIBLE_SUFFIXES

JSON_SUFFIX = ".json"
SUPPORTED_SUFFIXES: frozenset[str] = frozenset({JSON_SUFFIX, *CONVERTIBLE_SUFFIXES})
