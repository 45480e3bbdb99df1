from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from ceramic_pipeline.envparse import ConfigError

from ceramic_pipeline.ipfs import (
    EmbeddedBlockstore,
    FallbackPinningService,
    KuboPinningService,
    PinataPinningService,
    PinningConfigError,
    pinning_service_from_env,
)
from ceramic_pipeline.ceramic.retry import RetryPolicy, parse_retry_after


def test_embedded_is_the_default(tmp_path):
    service = pinning_service_from_env({}, tmp_path)
    assert isinstance(service, EmbeddedBlockstore) and service.root.is_relative_to(
        tmp_path
    )


def test_local_uses_ipfs_api_url(tmp_path):
    service = pinning_service_from_env({"IPFS_PINNING_SERVICE": "local"}, tmp_path)
    assert (
        isinstance(service, KuboPinningService)
        and service.api_url == "http://localhost:5001"
    )
    custom = pinning_service_from_env(
        {"IPFS_PINNING_SERVICE": "local", "IPFS_API_URL": "http://127.0.0.1:9/"},
        tmp_path,
    )
    assert custom.api_url == "http://127.0.0.1:9"


def test_pinata_jwt_selects_v3_and_keys_select_v1(tmp_path):
    v3 = pinning_service_from_env(
        {"IPFS_PINNING_SERVICE": "pinata", "PINATA_JWT": "j"}, tmp_path
    )
    v1 = pinning_service_from_env(
        {
            "IPFS_PINNING_SERVICE": "pinata",
            "PINATA_API_KEY": "k",
            "PINATA_API_SECRET": "secret-value-42",
        },
        tmp_path,
    )
    assert isinstance(v3, PinataPinningService) and v3.api_version == 3
    assert (
        v3.uploads_url == "https://uploads.pinata.cloud"
        and v3.api_url == "https://api.pinata.cloud"
    )
    assert v1.api_version == 1 and "secret-value-42" not in repr(v1)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"IPFS_PINNING_SERVICE": "pinata"}, "PINATA_JWT"),
        (
            {"IPFS_PINNING_SERVICE": "pinata", "PINATA_API_KEY": "k"},
            "PINATA_API_SECRET",
        ),
        (
            {"IPFS_PINNING_SERVICE": "pinata", "PINATA_API_SECRET": "s"},
            "PINATA_API_KEY",
        ),
        (
            {"IPFS_PINNING_SERVICE": "web3storage"},
            "IPFS_PINNING_SERVICE must be one of",
        ),
        ({"IPFS_FALLBACK_SERVICE": "embedded"}, "must differ"),
        ({"IPFS_RETRY_MAX_ATTEMPTS": "0"}, "IPFS_RETRY_MAX_ATTEMPTS"),
    ],
)
def test_bad_configuration_is_a_one_line_error(tmp_path, env, message):
    with pytest.raises(ConfigError, match=message) as excinfo:
        pinning_service_from_env(env, tmp_path)
    assert "\n" not in str(excinfo.value)


def test_missing_fallback_credentials_are_reported_too(tmp_path):
    with pytest.raises(PinningConfigError, match="PINATA_JWT"):
        pinning_service_from_env(
            {"IPFS_PINNING_SERVICE": "local", "IPFS_FALLBACK_SERVICE": "pinata"},
            tmp_path,
        )


def test_fallback_wraps_primary(tmp_path):
    service = pinning_service_from_env(
        {"IPFS_PINNING_SERVICE": "local", "IPFS_FALLBACK_SERVICE": "embedded"}, tmp_path
    )
    assert isinstance(service, FallbackPinningService)
    assert (service.primary.name, service.fallback.name) == ("local", "embedded")


def test_backoff_grows_with_jitter_and_is_capped():
    policy = RetryPolicy(base_delay=1, max_delay=5, random=lambda: 1.0)
    assert [policy.delay(n) for n in range(1, 6)] == [1, 2, 4, 5, 5]
    low = RetryPolicy(base_delay=1, max_delay=5, random=lambda: 0.0)
    assert [low.delay(n) for n in range(1, 4)] == [0.5, 1, 2]
    assert policy.delay(1, retry_after=12) == 12
    assert RetryPolicy(max_retry_after=60).delay(1, retry_after=3600) == 60


def test_retry_after_accepts_seconds_and_http_dates():
    now = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("30") == 30.0
    assert (
        parse_retry_after(
            format_datetime(now + timedelta(seconds=90), usegmt=True), now=now
        )
        == 90.0
    )
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
