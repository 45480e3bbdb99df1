"""One HTTP request with the retry rules every remote pinning backend shares.

429 and 5xx (and network errors) are retried under the :class:`RetryPolicy`, honouring
Retry-After; 401/403 fail at once with a message naming the credential variable;
other 4xx fail at once. Each failed attempt may count towards
``ceramic_ipfs_pin_failures_total{service=...}``.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from ceramic_pipeline.ipfs.errors import (
    PinningAuthError,
    PinningError,
    PinningUnavailableError,
)
from ceramic_pipeline.ceramic.retry import RetryPolicy, parse_retry_after
from ceramic_pipeline.metrics import ceramic_ipfs_pin_failures_total


class ServiceHTTP:
    def __init__(
        self,
        service: str,
        client: httpx.Client,
        policy: RetryPolicy,
        credential_names: str | None = None,
    ) -> None:
        self.service = service
        self.client = client
        self.policy = policy
        self.credential_names = credential_names

    def request(
        self,
        method: str,
        url: str,
        *,
        count_failures: bool,
        accept: Callable[[httpx.Response], bool] | None = None,
        **kwargs,
    ) -> httpx.Response:
        """Send until success; ``accept`` lets a caller take an error status as an answer."""
        what = f"{self.service} {method} {httpx.URL(url).path}"
        for attempt in range(1, self.policy.max_attempts + 1):
            retry_after = None
            try:
                response = self.client.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                failure = f"{type(exc).__name__}: {exc}"
            else:
                if accept is not None and accept(response):
                    return response
                status = response.status_code
                if status < 400:
                    return response
                if status in (401, 403):
                    self._count(count_failures)
                    hint = (
                        f"; check {self.credential_names}"
                        if self.credential_names
                        else ""
                    )
                    raise PinningAuthError(
                        f"{what}: HTTP {status}, credentials rejected{hint}"
                    )
                if status != 429 and status < 500:
                    self._count(count_failures)
                    raise PinningError(f"{what}: HTTP {status}: {response.text[:300]}")
                failure = f"HTTP {status}"
                retry_after = parse_retry_after(response.headers.get("retry-after"))
            self._count(count_failures)
            if attempt == self.policy.max_attempts:
                raise PinningUnavailableError(
                    f"{what}: gave up after {attempt} attempts (last failure: {failure})"
                )
            self.policy.sleep(self.policy.delay(attempt, retry_after))
        raise AssertionError("unreachable")

    def _count(self, enabled: bool) -> None:
        if enabled:
            ceramic_ipfs_pin_failures_total.labels(service=self.service).inc()
