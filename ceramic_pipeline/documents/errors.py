"""Errors raised by the documents layer.

Every failure caused by an input file or a missing optional capability is a
``DocumentError``: an ordinary exception a sensor or asset can catch and report
per file, never a crash of the whole tick.
"""

from __future__ import annotations

from pathlib import Path


class DocumentError(Exception):
    """Base class: something is wrong with one document or how it must be read."""

    def __init__(self, message: str, path: Path | str | None = None) -> None:
        super().__init__(_printable(message))
        self.path = Path(path) if path is not None else None


def _printable(message: str) -> str:
    """The message as valid UTF-8: a file name's undecodable bytes (surrogate escapes) as %XX,
    like document ids (documents.identity), so logs, Dagster's event log and the CLI can
    print it."""
    try:
        message.encode("utf-8")
        return message
    except UnicodeEncodeError:
        return "".join(
            f"%{ord(c) - 0xDC00:02X}" if "\udc80" <= c <= "\udcff" else f"\\u{ord(c):04x}" if "\ud800" <= c <= "\udfff" else c
            for c in message
        )


class DocumentReadError(DocumentError):
    """The file could not be read (missing, permissions, I/O error)."""


class InvalidDocumentError(DocumentError):
    """The file was read but is not valid JSON or not a DoclingDocument."""


class UnsupportedFormatError(DocumentError):
    """The file extension is not one the pipeline knows how to load."""


class ConversionUnavailableError(DocumentError):
    """A raw format needs docling, which is not installed (the `convert` extra)."""


class PdfSupportUnavailableError(DocumentError):
    """PDF conversion needs docling's PDF parser and layout models, which are missing."""


class ConversionFailedError(DocumentError):
    """docling ran but could not convert the file."""


class InvalidChunkError(DocumentError):
    """A chunk's text or heading cannot be stored or published: it is not valid Unicode text
    (a lone surrogate such as U+D800, which has no UTF-8 encoding). Names the document, the
    chunk and the field, never the text."""

    def __init__(self, document: str, chunk_index: int, field: str, reason: str) -> None:
        super().__init__(f"{document}: chunk {chunk_index}: {field}: {reason}")
        self.document = document
        self.chunk_index = chunk_index
        self.field = field


class InboxError(DocumentError):
    """The inbox folder itself cannot be scanned (missing, not a directory)."""
