"""Turn one inbox file into a ``DoclingDocument``.

DoclingDocument JSON (what docling's ``save_as_json`` / ``export_to_dict`` write)
is validated with docling-core itself. Raw formats go through docling's converter,
which is an optional extra (see ``conversion``).
"""

from __future__ import annotations

from pathlib import Path

from docling_core.types.doc import DoclingDocument
from pydantic import ValidationError

from ceramic_pipeline.documents.conversion import CONVERTIBLE_SUFFIXES, convert_document
from ceramic_pipeline.documents.errors import (
    DocumentReadError,
    InvalidDocumentError,
    UnsupportedFormatError,
)
from ceramic_pipeline.documents.formats import JSON_SUFFIX, SUPPORTED_SUFFIXES
_MAX_REPORTED_ERRORS = 3


def load_document(path: Path | str) -> DoclingDocument:
    """Load a DoclingDocument JSON file, or convert a raw .md/.html/.docx/.pdf file.

    Raises a ``DocumentError`` subclass naming the file for anything the file
    itself gets wrong (unreadable, invalid, unsupported, unconvertible).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == JSON_SUFFIX:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise DocumentReadError(f"cannot read {path}: {exc.strerror or exc}", path) from exc
        return parse_docling_json(data, source=path)
    if suffix in CONVERTIBLE_SUFFIXES:
        if not path.is_file():
            raise DocumentReadError(f"cannot read {path}: no such file", path)
        return convert_document(path)
    supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
    raise UnsupportedFormatError(f"{path}: unsupported file type {suffix or '(none)'!r}; supported: {supported}", path)


def parse_docling_json(data: bytes | str, source: Path | str) -> DoclingDocument:
    """Validate DoclingDocument JSON; ``source`` names the input in error messages.

    Bytes are handed to pydantic directly, so invalid UTF-8 is reported like any
    other malformed JSON instead of as a decoding crash.
    """
    try:
        doc = DoclingDocument.model_validate_json(data)
    except ValidationError as exc:
        # Only locations and messages are kept, and never the cause: pydantic's errors carry
        # ``input_value``, i.e. the document's content, which must not reach logs or the UI.
        errors = exc.errors(include_url=False, include_input=False, include_context=False)
        if errors and errors[0]["type"] == "json_invalid":
            raise InvalidDocumentError(f"{source} is not valid JSON: {errors[0]['msg']}", source) from None
        raise InvalidDocumentError(f"{source} is not a DoclingDocument: {_summarize(errors)}", source) from None
    # docling always writes schema_name; without it, any object with a "name" would
    # pass as an empty document and silently produce no chunks.
    if "schema_name" not in doc.model_fields_set:
        raise InvalidDocumentError(
            f'{source} is not a DoclingDocument: missing "schema_name": "DoclingDocument"', source
        )
    return doc


def _summarize(errors: list) -> str:
    shown = [
        f"{'.'.join(str(part) for part in err['loc']) or '(root)'}: {err['msg']}"
        for err in errors[:_MAX_REPORTED_ERRORS]
    ]
    more = len(errors) - len(shown)
    return "; ".join(shown) + (f" (and {more} more errors)" if more > 0 else "")
