"""Documents layer: load or convert inbox files, identify them, chunk them, scan the inbox.

Pure Python on docling-core (docling itself only for the optional `convert` extra);
no Dagster here.
"""

from ceramic_pipeline.documents.chunking import (
    CHUNK_COLUMNS,
    Chunk,
    ChunkerConfig,
    chunk_document,
    chunks_to_dataframe,
)
from ceramic_pipeline.documents.errors import (
    ConversionFailedError,
    ConversionUnavailableError,
    DocumentError,
    DocumentReadError,
    InboxError,
    InvalidChunkError,
    InvalidDocumentError,
    PdfSupportUnavailableError,
    UnsupportedFormatError,
)
from ceramic_pipeline.documents.identity import document_id, id_path, partition_key, path_text, text_path
from ceramic_pipeline.documents.inbox import FileStamp, InboxFile, InboxScan, ScanError, inbox_files, scan_inbox
from ceramic_pipeline.documents.inputs import resolve_inputs
from ceramic_pipeline.documents.loading import SUPPORTED_SUFFIXES, load_document, parse_docling_json

__all__ = [
    "CHUNK_COLUMNS",
    "SUPPORTED_SUFFIXES",
    "Chunk",
    "ChunkerConfig",
    "ConversionFailedError",
    "ConversionUnavailableError",
    "DocumentError",
    "DocumentReadError",
    "FileStamp",
    "InboxError",
    "InboxFile",
    "InvalidChunkError",
    "InboxScan",
    "InvalidDocumentError",
    "PdfSupportUnavailableError",
    "ScanError",
    "UnsupportedFormatError",
    "chunk_document",
    "chunks_to_dataframe",
    "document_id",
    "id_path",
    "load_document",
    "parse_docling_json",
    "partition_key",
    "path_text",
    "resolve_inputs",
    "text_path",
    "inbox_files",
    "scan_inbox",
]
