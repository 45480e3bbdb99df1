"""Errors raised by the IPFS layer; all derive from :class:`PinningError`."""

from __future__ import annotations

from ceramic_pipeline.envparse import ConfigError


class PinningError(Exception):
    """Pinning or fetching content failed."""


class PinningConfigError(PinningError, ConfigError):
    """The environment does not describe a usable pinning setup."""


class PinningAuthError(PinningError):
    """The service rejected our credentials (HTTP 401/403); retrying cannot help."""


class PinningUnavailableError(PinningError):
    """The service kept failing (429, 5xx, network) until the retry budget ran out."""


class CIDMismatchError(PinningError):
    """The service addressed the content differently from our local computation."""


class ContentNotFoundError(PinningError, LookupError):
    """The service holds no content under that CID."""


class ContentIntegrityError(PinningError, ValueError):
    """Bytes do not hash to their CID (corruption), or a DAG does not re-assemble."""
