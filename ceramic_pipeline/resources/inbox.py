from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg

from ceramic_pipeline.documents import ChunkerConfig
from ceramic_pipeline.samples import sample_documents_dir


class InboxResource(dg.ConfigurableResource):
    """Where documents arrive (DOCLING_INBOX) and how they are chunked (CHUNKER*).

    With ``seed_samples`` (the embedded default, no DOCLING_INBOX) a missing inbox is
    created holding the sample documents, so a fresh install has something to ingest.
    """

    path: str
    seed_samples: bool = False
    chunker: str = "hierarchical"
    tokenizer_path: str = ""
    max_tokens: int = 0

    def folder(self) -> Path:
        folder = Path(self.path)
        if self.seed_samples and not folder.exists():
            shutil.copytree(sample_documents_dir(), folder)
        return folder

    def chunker_config(self) -> ChunkerConfig:
        return ChunkerConfig(
            kind=self.chunker,
            tokenizer_dir=Path(self.tokenizer_path) if self.tokenizer_path else None,
            max_tokens=self.max_tokens or None,
        )
