"""Split a DoclingDocument into deterministic chunks with docling-core's chunkers.

``HierarchicalChunker`` (one chunk per document element, under its heading path)
is the default: it needs no model. ``HybridChunker`` additionally splits and merges
by token count; it is built from a local Hugging Face tokenizer directory only,
so chunking never reaches a model hub.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from docling_core.transforms.chunker.base import BaseChunk, BaseChunker
    from docling_core.types.doc import DoclingDocument

from ceramic_pipeline.documents.errors import InvalidChunkError

ChunkerKind = Literal["hierarchical", "hybrid"]


@dataclass(frozen=True)
class ChunkerConfig:
    """How to chunk. ``hybrid`` needs a local tokenizer dir and an explicit token budget.

    ``max_tokens`` is required because docling-core's auto-detection looks the
    model up on the Hugging Face hub, which fails for a local path and offline.
    """

    kind: ChunkerKind = "hierarchical"
    tokenizer_dir: Path | None = None
    max_tokens: int | None = None
    merge_peers: bool = True

    def __post_init__(self) -> None:
        if self.kind not in ("hierarchical", "hybrid"):
            raise ValueError(f"unknown chunker kind {self.kind!r}; use 'hierarchical' or 'hybrid'")
        if self.kind == "hybrid":
            if self.tokenizer_dir is None:
                raise ValueError("the hybrid chunker needs tokenizer_dir (a local Hugging Face tokenizer folder)")
            if self.max_tokens is None or self.max_tokens <= 0:
                raise ValueError("the hybrid chunker needs a positive max_tokens")
            object.__setattr__(self, "tokenizer_dir", Path(self.tokenizer_dir))


@dataclass(frozen=True)
class Chunk:
    """One chunk as the pipeline stores it; ``text`` has no heading prefix."""

    index: int
    text: str
    headings: tuple[str, ...]
    pages: tuple[int, ...]
    sha256: str
    byte_length: int

    @classmethod
    def from_text(cls, index: int, text: str, headings: Iterable[str] = (), pages: Iterable[int] = ()) -> Chunk:
        encoded = text.encode("utf-8")
        return cls(
            index=index,
            text=text,
            headings=tuple(headings),
            pages=tuple(sorted(set(pages))),
            sha256=hashlib.sha256(encoded).hexdigest(),
            byte_length=len(encoded),
        )


# Column name -> dtype of the DataFrame returned by chunks_to_dataframe.
CHUNK_COLUMNS: dict[str, str] = {
    "document_id": "string",
    "chunk_index": "int64",
    "text": "string",
    "headings": "object",  # list[str]
    "pages": "object",  # list[int]
    "sha256": "string",
    "byte_length": "int64",
}


def chunk_document(doc: DoclingDocument, config: ChunkerConfig | None = None, *, source: str | None = None) -> list[Chunk]:
    """Chunk ``doc``; the same document and config always give the same chunks.

    Text is kept exactly as docling-core gives it, control characters and U+0000 included.
    Raises ``InvalidChunkError`` (naming ``source``, default ``doc.name``, the chunk and the
    field) for text that has no UTF-8 encoding (a lone surrogate), which nothing downstream
    (PostgreSQL, DAG-CBOR, IPFS) could hold.
    """
    chunker = build_chunker(config or ChunkerConfig())
    name = source or doc.name
    return [_to_chunk(index, raw, name) for index, raw in enumerate(chunker.chunk(dl_doc=doc))]


def build_chunker(config: ChunkerConfig) -> BaseChunker:
    if config.kind == "hierarchical":
        _import_chunkers_without_transformers()
        from docling_core.transforms.chunker.hierarchical_chunker import HierarchicalChunker

        return HierarchicalChunker()
    from docling_core.transforms.chunker.hybrid_chunker import HybridChunker

    assert config.tokenizer_dir is not None and config.max_tokens is not None  # checked by ChunkerConfig
    tokenizer = _local_tokenizer(config.tokenizer_dir.resolve(), config.max_tokens)
    return HybridChunker(tokenizer=tokenizer, merge_peers=config.merge_peers)


# Set when docling-core's chunker package was imported with transformers hidden (below).
_TOKENIZER_MODULE_WITHOUT_TRANSFORMERS = False


def _import_chunkers_without_transformers() -> None:
    """Import ``docling_core.transforms.chunker`` without transformers, for the hierarchical chunker.

    The package's ``__init__`` imports the hybrid chunker, whose Hugging Face tokenizer module
    imports transformers, and transformers imports torch when it is installed: measured 2.3 s
    of every ingest process (and every `dagster dev` run process) on the CI machine, 20 % of a
    2,000-chunk ingest, for a chunker that uses no tokenizer. That module treats transformers
    as optional (it catches the ImportError), so it is imported here with ``transformers``
    hidden (``sys.modules[name] = None`` makes ``import`` raise ImportError); a hybrid chunker
    built later re-imports the tokenizer module (``_local_tokenizer``). Nothing is hidden when
    the package or transformers is already loaded.
    """
    global _TOKENIZER_MODULE_WITHOUT_TRANSFORMERS
    if "docling_core.transforms.chunker" in sys.modules or "transformers" in sys.modules:
        return
    sys.modules["transformers"] = None  # type: ignore[assignment]
    try:
        importlib.import_module("docling_core.transforms.chunker")
    finally:
        del sys.modules["transformers"]
    _TOKENIZER_MODULE_WITHOUT_TRANSFORMERS = True


@functools.lru_cache(maxsize=4)
def _local_tokenizer(tokenizer_dir: Path, max_tokens: int):
    """Load (once per process) a tokenizer from disk; ``local_files_only`` forbids hub access."""
    global _TOKENIZER_MODULE_WITHOUT_TRANSFORMERS
    from docling_core.transforms.chunker.tokenizer import huggingface

    if _TOKENIZER_MODULE_WITHOUT_TRANSFORMERS:  # imported for a hierarchical chunker: now import it with transformers
        huggingface = importlib.reload(huggingface)
        _TOKENIZER_MODULE_WITHOUT_TRANSFORMERS = False
    if not tokenizer_dir.is_dir():
        raise ValueError(f"tokenizer directory {tokenizer_dir} does not exist")
    return huggingface.HuggingFaceTokenizer.from_pretrained(str(tokenizer_dir), max_tokens=max_tokens, local_files_only=True)


def _to_chunk(index: int, raw: BaseChunk, source: str) -> Chunk:
    meta = raw.meta
    headings = getattr(meta, "headings", None) or ()
    for field, value in (("text", raw.text), *((f"headings[{i}]", h) for i, h in enumerate(headings))):
        _require_utf8(value, source, index, field)
    pages = (prov.page_no for item in getattr(meta, "doc_items", ()) for prov in item.prov)
    return Chunk.from_text(index, raw.text, headings=headings, pages=pages)


def _require_utf8(value: str, source: str, index: int, field: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(value[exc.start])
        raise InvalidChunkError(
            source, index, field, f"lone surrogate U+{code:04X} at character {exc.start} is not valid Unicode text"
        ) from None


def chunks_to_dataframe(document_id: str, chunks: Sequence[Chunk]) -> pd.DataFrame:
    """One row per chunk with the columns and dtypes of ``CHUNK_COLUMNS`` (also when empty)."""
    frame = pd.DataFrame(
        {
            "document_id": [document_id] * len(chunks),
            "chunk_index": [c.index for c in chunks],
            "text": [c.text for c in chunks],
            "headings": [list(c.headings) for c in chunks],
            "pages": [list(c.pages) for c in chunks],
            "sha256": [c.sha256 for c in chunks],
            "byte_length": [c.byte_length for c in chunks],
        },
        columns=list(CHUNK_COLUMNS),
    )
    return frame.astype(CHUNK_COLUMNS)
