"""Convert raw .md/.html/.docx/.pdf files with docling (the optional `convert` extra).

docling is imported lazily: the pipeline works on DoclingDocument JSON without it,
and a raw file then gets a ``ConversionUnavailableError`` that says what to install.

PDF needs more than the extra: docling's PDF parser (docling-parse) and its layout
model weights, which cannot be fetched in an offline deployment. Those failures
become a ``PdfSupportUnavailableError`` explaining how to provide them.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from ceramic_pipeline.documents.errors import (
    ConversionFailedError,
    ConversionUnavailableError,
    PdfSupportUnavailableError,
)

PDF_SUFFIX = ".pdf"
CONVERTIBLE_SUFFIXES: frozenset[str] = frozenset({".md", ".html", ".docx", PDF_SUFFIX})

INSTALL_HINT = (
    "install the `convert` extra: pip install 'ceramic-pipeline[convert]' "
    "(docling-slim with the Markdown/HTML/DOCX formats, plus torch)"
)
PDF_HINT = (
    "PDF conversion needs docling's PDF parser and layout models. Install the parser with "
    "pip install 'docling-slim[format-pdf-docling]', then provide the models: on a machine with "
    "network access run `docling-tools models download layout tableformer -o <dir>` and set "
    "DOCLING_ARTIFACTS_PATH=<dir> for the pipeline (or pre-populate the Hugging Face cache). "
    "Alternatively convert the PDF elsewhere and drop its DoclingDocument JSON into the inbox."
)


def convert_document(path: Path) -> Any:
    """Convert one raw file to a ``DoclingDocument`` (typed ``Any``: docling is optional)."""
    is_pdf = path.suffix.lower() == PDF_SUFFIX
    try:
        converter = _converter()
    except ConversionUnavailableError as exc:
        raise ConversionUnavailableError(f"cannot convert {path}: {exc}", path) from exc
    try:
        result = converter.convert(path, raises_on_error=False)
    except Exception as exc:  # docling raises a wide range of types; each one becomes a DocumentError
        if is_pdf and _is_missing_pdf_support(exc):
            reason = str(exc).rstrip(". ")
            raise PdfSupportUnavailableError(f"cannot convert {path}: {reason}. {PDF_HINT}", path) from exc
        raise ConversionFailedError(f"docling could not convert {path}: {exc}", path) from exc

    status = getattr(result.status, "value", str(result.status))
    if status != "success":
        details = "; ".join(err.error_message for err in result.errors) or "no details given"
        # Partial results are rejected too: storing half a document would lose content silently.
        raise ConversionFailedError(f"docling conversion of {path} ended with status {status}: {details}", path)
    return result.document


@functools.cache
def _converter() -> Any:
    """One converter per process: building it loads docling's format backends."""
    try:
        from docling.datamodel.base_models import InputFormat
        from docling.datamodel.pipeline_options import PdfPipelineOptions
        from docling.document_converter import DocumentConverter, PdfFormatOption
    except ImportError as exc:
        raise ConversionUnavailableError(
            f"converting raw documents needs docling, which could not be imported ({exc}); {INSTALL_HINT}"
        ) from exc
    # OCR would need yet another set of model weights; PDFs with a text layer do not need it.
    pdf_options = PdfPipelineOptions(do_ocr=False)
    return DocumentConverter(
        allowed_formats=[InputFormat.MD, InputFormat.HTML, InputFormat.DOCX, InputFormat.PDF],
        format_options={InputFormat.PDF: PdfFormatOption(pipeline_options=pdf_options)},
    )


def _is_missing_pdf_support(exc: BaseException) -> bool:
    """True when the PDF parser is not installed or model weights cannot be fetched."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ImportError) or type(current).__module__.startswith("huggingface_hub"):
            return True
        current = current.__cause__ or current.__context__
    return False
