"""IPFS: local CID computation (raw and UnixFS) and pinning to pinata, a Kubo-RPC node, or disk.

Pure domain code: no Dagster here. Entry points are :func:`pinning_service_from_env`
and the :class:`PinningService` interface (``pin``, ``is_pinned``, ``fetch``, ``health``).
"""

from ceramic_pipeline.ipfs.config import (
    pinning_service_from_env,
)
from ceramic_pipeline.ipfs.embedded import EmbeddedBlockstore
from ceramic_pipeline.ipfs.errors import (
    CIDMismatchError,
    ContentIntegrityError,
    ContentNotFoundError,
    PinningAuthError,
    PinningConfigError,
    PinningError,
    PinningUnavailableError,
)
from ceramic_pipeline.ipfs.fallback import FallbackPinningService
from ceramic_pipeline.ipfs.kubo import KuboPinningService
from ceramic_pipeline.ipfs.pinata import PinataPinningService
from ceramic_pipeline.ipfs.records import PinRecord
from ceramic_pipeline.ceramic.retry import RetryPolicy
from ceramic_pipeline.ipfs.service import PinningService
from ceramic_pipeline.ipfs.unixfs import file_cid, import_file

__all__ = [
    "CIDMismatchError",
    "ContentIntegrityError",
    "ContentNotFoundError",
    "EmbeddedBlockstore",
    "FallbackPinningService",
    "KuboPinningService",
    "PinRecord",
    "PinataPinningService",
    "PinningAuthError",
    "PinningConfigError",
    "PinningError",
    "PinningService",
    "PinningUnavailableError",
    "RetryPolicy",
    "file_cid",
    "import_file",
    "pinning_service_from_env",
]
