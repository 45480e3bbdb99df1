"""The pinata backend against the loopback Pinata stand-in (real HTTP, multipart, auth)."""

import json
import random

import httpx
import pytest
from ceramic_pipeline.metrics import REGISTRY

from ceramic_pipeline.ipfs import (
    CIDMismatchError,
    ContentNotFoundError,
    PinataPinningService,
    PinningAuthError,
    PinningUnavailableError,
    RetryPolicy,
    file_cid,
    pinning_service_from_env,
)

CHUNK = (
    "Ünïcode chunk text, long enough to be pinned. ".encode() * 400
)  # ~19 KB, one block
LARGE = random.Random(3).randbytes(600 * 1024)  # three leaves, dag-pb root


def failures(service: str) -> float:
    return (
        REGISTRY.get_sample_value(
            "ceramic_ipfs_pin_failures_total", {"service": service}
        )
        or 0.0
    )


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def policy(sleeps):
    return RetryPolicy(
        max_attempts=4,
        base_delay=1.0,
        max_delay=8.0,
        sleep=sleeps.append,
        random=lambda: 0.5,
    )


def v3_service(pinata, policy, **overrides):
    options = {
        "jwt": pinata.jwt,
        "api_url": pinata.url,
        "uploads_url": pinata.url,
        "policy": policy,
    }
    return PinataPinningService(**{**options, **overrides})


def v1_service(pinata, policy, **overrides):
    options = {
        "api_key": pinata.api_key,
        "api_secret": pinata.api_secret,
        "api_url": pinata.url,
        "uploads_url": pinata.url,
        "policy": policy,
    }
    return PinataPinningService(**{**options, **overrides})


@pytest.mark.parametrize("content", [CHUNK, LARGE], ids=["single-block", "multi-block"])
def test_v3_upload_with_jwt(pinata, policy, content):
    service = v3_service(pinata, policy)
    record = service.pin(content, "chunk-1.txt")
    assert record.cid == file_cid(content)
    assert (record.service, record.status, record.size) == (
        "pinata",
        "pinned",
        len(content),
    )
    [stored] = pinata.active_pins("v3:public")
    assert stored.cid == record.cid and stored.name == "chunk-1.txt"
    assert pinata.upload_forms == [
        {"network": "public", "name": "chunk-1.txt", "cid_version": "v1"}
    ]
    assert pinata.uploads() == [("POST", "/v3/files")]
    assert service.is_pinned(record.cid)
    assert service.health()["ok"] is True


@pytest.mark.parametrize("content", [CHUNK, LARGE], ids=["single-block", "multi-block"])
def test_v1_upload_with_api_key_and_secret(pinata, policy, content):
    service = v1_service(pinata, policy)
    record = service.pin(content, "chunk-1.txt")
    assert record.cid == file_cid(content) and record.service == "pinata"
    [stored] = pinata.active_pins("v1")
    assert stored.cid == record.cid
    form = pinata.upload_forms[0]
    assert json.loads(form["pinataOptions"]) == {
        "cidVersion": 1
    }  # stringified JSON, CIDv1 asked
    assert json.loads(form["pinataMetadata"]) == {"name": "chunk-1.txt"}
    assert pinata.uploads() == [("POST", "/pinning/pinFileToIPFS")]
    assert service.is_pinned(str(record.cid))
    assert service.health() == {
        "service": "pinata",
        "api_version": 1,
        "url": pinata.url,
        "ok": True,
        "message": "Congratulations! You are communicating with the Pinata API!",
    }


def test_bad_jwt_fails_fast_naming_the_variable(pinata, policy, sleeps):
    secret = "eyJ-wrong-token-value"
    service = v3_service(pinata, policy, jwt=secret)
    before = failures("pinata")
    with pytest.raises(PinningAuthError, match="PINATA_JWT") as excinfo:
        service.pin(CHUNK, "chunk.txt")
    assert secret not in str(excinfo.value)
    assert sleeps == [] and len(pinata.requests) == 1  # no retry
    assert failures("pinata") == before + 1
    health = service.health()
    assert (
        health["ok"] is False
        and health["auth_rejected"] is True
        and "PINATA_JWT" in health["error"]
        and secret not in str(health)
    )


def test_bad_api_secret_names_the_key_variables(pinata, policy):
    with pytest.raises(PinningAuthError, match="PINATA_API_KEY / PINATA_API_SECRET"):
        v1_service(pinata, policy, api_secret="nope").pin(CHUNK, "chunk.txt")


def test_429_storm_then_success_backs_off_and_honours_retry_after(
    pinata, policy, sleeps
):
    pinata.inject(429, times=2, method="POST", path="/v3/files")
    pinata.inject(429, times=1, method="POST", path="/v3/files", retry_after="7")
    before = failures("pinata")
    record = v3_service(pinata, policy).pin(CHUNK, "chunk.txt")
    assert record.cid == file_cid(CHUNK)
    assert sleeps == [
        0.75,
        1.5,
        7.0,
    ]  # jittered backoff 1 s, 2 s ceilings, then the server's 7 s
    assert failures("pinata") == before + 3
    assert len(pinata.uploads()) == 4


def test_5xx_past_budget_falls_back_and_record_names_fallback(
    pinata, policy, sleeps, tmp_path
):
    env = {
        "IPFS_PINNING_SERVICE": "pinata",
        "IPFS_FALLBACK_SERVICE": "embedded",
        "PINATA_JWT": pinata.jwt,
        "PINATA_API_URL": pinata.url,
        "PINATA_UPLOADS_URL": pinata.url,
    }
    service = pinning_service_from_env(env, tmp_path, policy=policy)
    pinata.inject(503, times=100, method="POST", path="/v3/files")
    before = failures("pinata")
    record = service.pin(CHUNK, "chunk.txt")
    assert record.service == "embedded" and record.cid == file_cid(CHUNK)
    assert (
        len(pinata.uploads()) == policy.max_attempts
        and len(sleeps) == policy.max_attempts - 1
    )
    assert failures("pinata") == before + policy.max_attempts
    assert pinata.active_pins() == []
    assert service.is_pinned(record.cid) and service.fetch(record.cid) == CHUNK


def test_5xx_then_recovery_needs_no_fallback(pinata, policy, sleeps):
    pinata.inject(500, times=1, method="POST", path="/pinning/pinFileToIPFS")
    pinata.inject(502, times=1, method="POST", path="/pinning/pinFileToIPFS")
    assert v1_service(pinata, policy).pin(CHUNK, "c").service == "pinata"
    assert sleeps == [0.75, 1.5]


def test_5xx_past_budget_without_fallback_raises(pinata, policy):
    pinata.inject(500, times=100)
    with pytest.raises(PinningUnavailableError, match="gave up after 4 attempts"):
        v3_service(pinata, policy).pin(CHUNK, "chunk.txt")


@pytest.mark.parametrize("make", [v3_service, v1_service], ids=["v3", "v1"])
def test_already_pinned_content_is_not_uploaded_again(pinata, policy, make):
    service = make(pinata, policy)
    first = service.pin(LARGE, "a")
    second = service.pin(LARGE, "b")
    assert second.cid == first.cid and second.service == "pinata"
    assert len(pinata.uploads()) == 1
    # A second client, unaware of the first, also asks before uploading.
    make(pinata, policy).pin(LARGE, "c")
    assert len(pinata.uploads()) == 1


def test_standin_flags_duplicates_like_pinata(pinata):
    auth = {"Authorization": f"Bearer {pinata.jwt}"}
    answers = [
        httpx.post(
            f"{pinata.url}/pinning/pinFileToIPFS",
            headers=auth,
            files={"file": ("x", b"same")},
            data={"pinataOptions": '{"cidVersion":1}'},
        ).json()
        for _ in range(2)
    ]
    assert [a["isDuplicate"] for a in answers] == [False, True]
    v3 = [
        httpx.post(
            f"{pinata.url}/v3/files",
            headers=auth,
            files={"file": ("x", b"same")},
            data={"network": "public"},
        ).json()["data"]
        for _ in range(2)
    ]
    assert [a["is_duplicate"] for a in v3] == [False, True]
    # Without cidVersion the legacy API answers CIDv0.
    legacy = httpx.post(
        f"{pinata.url}/pinning/pinFileToIPFS",
        headers=auth,
        files={"file": ("y", b"other")},
    )
    assert legacy.json()["IpfsHash"].startswith("Qm")


@pytest.mark.parametrize("make", [v3_service, v1_service], ids=["v3", "v1"])
def test_cid_mismatch_is_an_error_and_nothing_stays_pinned(pinata, policy, make):
    pinata.ignore_cid_version = True  # the service answers CIDv0 whatever we asked
    before = failures("pinata")
    service = make(pinata, policy)
    with pytest.raises(CIDMismatchError, match=str(file_cid(CHUNK))):
        service.pin(CHUNK, "chunk.txt")
    assert failures("pinata") == before + 1
    assert (
        len(pinata.pins) == 1 and pinata.active_pins() == []
    )  # the wrong pin was removed
    assert not service.is_pinned(file_cid(CHUNK))


def test_fetch_goes_through_the_gateway_when_configured(pinata, policy):
    service = v3_service(pinata, policy, gateway_url=pinata.url)
    record = service.pin(LARGE, "large")
    assert service.fetch(record.cid) == LARGE
    with pytest.raises(ContentNotFoundError):
        service.fetch(file_cid(b"unknown"))
    with pytest.raises(NotImplementedError, match="PINATA_GATEWAY_URL"):
        v3_service(pinata, policy).fetch(record.cid)


def test_rejected_credentials_are_not_hidden_behind_the_fallback(
    pinata, policy, tmp_path
):
    env = {
        "IPFS_PINNING_SERVICE": "pinata",
        "IPFS_FALLBACK_SERVICE": "embedded",
        "PINATA_JWT": "expired-token",
        "PINATA_API_URL": pinata.url,
        "PINATA_UPLOADS_URL": pinata.url,
    }
    service = pinning_service_from_env(env, tmp_path, policy=policy)
    with pytest.raises(PinningAuthError, match="PINATA_JWT"):
        service.pin(CHUNK, "chunk.txt")
    assert not service.fallback.is_pinned(file_cid(CHUNK))
