"""Documents layer: load or convert inbox files, identify them, chunk them, scan the inbox.

Pure Python on docling-core (docling itself only for the optional `convert` extra);
no Dagster here.
"""

import importlib
from typing import Any

# Exported lazily (PEP 562): `ceramic-pipeline ingest` needs only the identity and input rules
# before it knows whether anything changed, and importing the loader and chunker (docling-core,
# pandas: 0.8 s of imports) made an unchanged 10,000-chunk re-ingest take 1.2 s instead of 0.8 s.
_EXPORTS = {
    "CHUNK_COLUMNS": "chunking",
    "Chunk": "chunking",
    "ChunkerConfig": "chunking",
    "chunk_document": "chunking",
    "chunks_to_dataframe": "chunking",
    "ConversionFailedError": "errors",
    "ConversionUnavailableError": "errors",
    "DocumentError": "errors",
    "DocumentReadError": "errors",
    "InboxError": "errors",
    "InvalidChunkError": "errors",
    "InvalidDocumentError": "errors",
    "PdfSupportUnavailableError": "errors",
    "UnsupportedFormatError": "errors",
    "document_id": "identity",
    "id_path": "identity",
    "partition_key": "identity",
    "path_text": "identity",
    "text_path": "identity",
    "FileStamp": "inbox",
    "InboxFile": "inbox",
    "InboxScan": "inbox",
    "ScanError": "inbox",
    "inbox_files": "inbox",
    "scan_inbox": "inbox",
    "resolve_inputs": "inputs",
    "SUPPORTED_SUFFIXES": "formats",
    "load_document": "loading",
    "parse_docling_json": "loading",
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)


__all__ = sorted(_EXPORTS)
