"""Seed sources (ceramic_pipeline.keys) against real endpoints: moto's KMS server, a Vault
stand-in over HTTP, files on disk; every failure one line naming the source, never the value."""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from ceramic_pipeline.ceramic.did import DIDKey
from ceramic_pipeline.envparse import ConfigError
from ceramic_pipeline.keys import load_seed, seed_source
from ceramic_pipeline.settings import Settings
from ceramic_pipeline_tests.keys.vault_standin import VaultStandIn

EXE = shutil.which("ceramic-pipeline", path=str(Path(sys.executable).parent))
AWS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}
TOKEN = "hvs.token-marker-value"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def refused(environ: dict[str, str], tmp_path: Path, *fragments: str, never: tuple[str, ...] = ()) -> str:
    with pytest.raises(ConfigError) as info:
        load_seed(environ, tmp_path)
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message
    for value in never:
        assert value not in message, message
    assert not (tmp_path / "agent-seed.b64").exists()  # a configured source never falls back to the dev seed
    return message


def closed_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


# -- choice and the environment / file sources ---------------------------------------------------

def test_one_source_at_a_time(tmp_path):
    assert seed_source({}) == "dev"
    assert seed_source({"AGENT_DID_SEED_FILE": "/x"}) == "file"
    assert seed_source({"KMS_KEY_ID": "k"}) == "kms" and seed_source({"VAULT_SEED_PATH": "p"}) == "vault"
    refused({"AGENT_DID_SEED_BASE64": b64(bytes(32)), "VAULT_SEED_PATH": "agent"}, tmp_path,
            "one DID seed source", "AGENT_DID_SEED_BASE64", "VAULT_SEED_PATH", never=(b64(bytes(32)),))


def test_file_source(tmp_path):
    seed = secrets.token_bytes(32)
    path = tmp_path / "seed"
    path.write_text(b64(seed) + "\n")
    path.chmod(0o644)  # Kubernetes mounts secrets 0644 by default: accepted for an explicit file
    assert load_seed({"AGENT_DID_SEED_FILE": str(path)}, tmp_path) == seed
    refused({"AGENT_DID_SEED_FILE": str(tmp_path / "missing")}, tmp_path, "AGENT_DID_SEED_FILE", "cannot be read")
    path.write_text(b64(b"marker-16-bytes!"))
    refused({"AGENT_DID_SEED_FILE": str(path)}, tmp_path, "AGENT_DID_SEED_FILE", "found 16 bytes", never=(b64(b"marker-16-bytes!"),))
    path.write_bytes(secrets.token_bytes(32) + b"\xff")
    refused({"AGENT_DID_SEED_FILE": str(path)}, tmp_path, "AGENT_DID_SEED_FILE", "not valid base64")


# -- AWS KMS (moto server) -----------------------------------------------------------------------

@pytest.fixture
def kms(moto_url):
    client = boto3.client("kms", endpoint_url=moto_url, region_name=AWS["AWS_REGION"],
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    key_id = client.create_key(Description="did seed")["KeyMetadata"]["KeyId"]
    return client, key_id


def kms_env(moto_url: str, key_id: str, blob: bytes, context: dict | None = None) -> dict[str, str]:
    env = {**AWS, "AWS_ENDPOINT_URL_KMS": moto_url, "KMS_KEY_ID": key_id, "ENCRYPTED_DID_SEED": b64(blob)}
    if context is not None:
        env["KMS_ENCRYPTION_CONTEXT"] = json.dumps(context)
    return env


def test_kms_decrypts_the_seed_with_its_context(kms, moto_url, tmp_path):
    client, key_id = kms
    seed = secrets.token_bytes(32)
    context = {"purpose": "did-seed", "app": "ceramic-pipeline"}
    blob = client.encrypt(KeyId=key_id, Plaintext=seed, EncryptionContext=context)["CiphertextBlob"]
    assert load_seed(kms_env(moto_url, key_id, blob, context), tmp_path) == seed
    as_text = client.encrypt(KeyId=key_id, Plaintext=b64(seed).encode())["CiphertextBlob"]  # `kms encrypt` of keygen's output
    assert load_seed(kms_env(moto_url, key_id, as_text), tmp_path) == seed
    refused(kms_env(moto_url, key_id, blob, {"purpose": "other"}), tmp_path, "KMS (ENCRYPTED_DID_SEED, KMS_KEY_ID)",
            "decrypt refused: InvalidCiphertextException")
    refused(kms_env(moto_url, key_id, blob), tmp_path, "decrypt refused")  # context missing


def test_kms_failures_are_one_line(kms, moto_url, tmp_path):
    client, key_id = kms
    short = client.encrypt(KeyId=key_id, Plaintext=b"marker-16-bytes!")["CiphertextBlob"]
    refused(kms_env(moto_url, key_id, short), tmp_path, "KMS", "found 16 bytes", never=("marker-16-bytes!",))
    refused(kms_env(moto_url, key_id, secrets.token_bytes(64)), tmp_path, "KMS", "decrypt refused")
    refused({**kms_env(moto_url, key_id, b""), "ENCRYPTED_DID_SEED": "%%not base64%%"}, tmp_path, "ENCRYPTED_DID_SEED is not valid base64")
    refused({**kms_env(moto_url, key_id, b"x"), "KMS_ENCRYPTION_CONTEXT": "[1]"}, tmp_path, "KMS_ENCRYPTION_CONTEXT must be a JSON object")
    refused({"ENCRYPTED_DID_SEED": b64(b"x")}, tmp_path, "KMS_KEY_ID must be set together with ENCRYPTED_DID_SEED")
    refused(kms_env(closed_url(), key_id, short), tmp_path, "KMS (ENCRYPTED_DID_SEED, KMS_KEY_ID)", "Could not connect")


def test_did_command_with_the_kms_source(kms, moto_url, tmp_path):
    client, key_id = kms
    seed = secrets.token_bytes(32)
    blob = client.encrypt(KeyId=key_id, Plaintext=seed)["CiphertextBlob"]
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AGENT_DID", "AWS_", "KMS_", "VAULT_"))}
    env = {**base, **kms_env(moto_url, key_id, blob), "CERAMIC_PIPELINE_DATA": str(tmp_path)}
    out = subprocess.run([EXE, "did"], env=env, capture_output=True, text=True, timeout=60)
    assert (out.returncode, out.stdout.strip(), out.stderr) == (0, DIDKey.from_seed(seed).did, "")
    bad = subprocess.run([EXE, "did"], env={**env, "KMS_ENCRYPTION_CONTEXT": '{"a": "b"}'}, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stdout == "" and len(bad.stderr.strip().splitlines()) == 1 and "KMS" in bad.stderr


# -- Vault KV v2 (stand-in) ----------------------------------------------------------------------

@pytest.fixture
def vault():
    with VaultStandIn() as standin:
        yield standin


def vault_env(vault: VaultStandIn, **extra: str) -> dict[str, str]:
    return {"VAULT_ADDR": vault.url, "VAULT_SEED_PATH": "ceramic/agent", **extra}


def test_vault_token_reads_the_seed(vault, tmp_path):
    seed = secrets.token_bytes(32)
    vault.put("ceramic/agent", {"seed": b64(seed), "other": "x"})
    vault.grant(TOKEN, "ceramic/agent")
    assert load_seed(vault_env(vault, VAULT_TOKEN=TOKEN), tmp_path) == seed
    assert vault.requests[-1] == ("GET", "/v1/secret/data/ceramic/agent", True)
    source = "Vault (secret/ceramic/agent, field seed)"
    refused(vault_env(vault, VAULT_TOKEN="hvs.wrong-marker"), tmp_path, source, "permission denied (HTTP 403)", "VAULT_TOKEN",
            never=("hvs.wrong-marker", b64(seed)))
    vault.grant(TOKEN, "ceramic/missing")
    refused(vault_env(vault, VAULT_TOKEN=TOKEN, VAULT_SEED_PATH="ceramic/missing"), tmp_path, "no such secret (HTTP 404)", never=(TOKEN,))
    refused(vault_env(vault, VAULT_TOKEN=TOKEN, VAULT_SEED_FIELD="did"), tmp_path, "no string field 'did'", never=(TOKEN, b64(seed)))
    vault.put("ceramic/agent", {"seed": b64(b"marker-16-bytes!")})
    refused(vault_env(vault, VAULT_TOKEN=TOKEN), tmp_path, source, "found 16 bytes", never=(b64(b"marker-16-bytes!"),))


def test_vault_kubernetes_auth(vault, tmp_path):
    seed = secrets.token_bytes(32)
    jwt = tmp_path / "sa-token"
    jwt.write_text("eyJ.k8s-jwt-marker.sig")
    vault.put("ceramic/agent", {"seed": b64(seed)})
    vault.add_k8s_role("ceramic-pipeline", "eyJ.k8s-jwt-marker.sig", TOKEN)
    vault.grant(TOKEN, "ceramic/agent")
    env = vault_env(vault, VAULT_K8S_ROLE="ceramic-pipeline", VAULT_K8S_JWT_PATH=str(jwt))
    assert load_seed(env, tmp_path) == seed
    assert [r[:2] for r in vault.requests] == [("POST", "/v1/auth/kubernetes/login"), ("GET", "/v1/secret/data/ceramic/agent")]
    refused({**env, "VAULT_K8S_ROLE": "someone-else"}, tmp_path, "Kubernetes login permission denied (HTTP 403)", "VAULT_K8S_ROLE",
            never=("k8s-jwt-marker",))
    refused({**env, "VAULT_K8S_JWT_PATH": str(tmp_path / "none")}, tmp_path, "VAULT_K8S_JWT_PATH", "cannot be read")


def test_vault_configuration_and_reachability(vault, tmp_path):
    refused({"VAULT_SEED_PATH": "ceramic/agent", "VAULT_TOKEN": TOKEN}, tmp_path, "needs VAULT_ADDR", never=(TOKEN,))
    refused(vault_env(vault), tmp_path, "needs VAULT_TOKEN or VAULT_K8S_ROLE")
    refused({**vault_env(vault, VAULT_TOKEN=TOKEN), "VAULT_ADDR": "vault:8200"}, tmp_path, "VAULT_ADDR must start with http")
    refused({**vault_env(vault, VAULT_TOKEN=TOKEN), "VAULT_ADDR": closed_url()}, tmp_path, "VAULT_ADDR", "unreachable", never=(TOKEN,))


def test_settings_signer_uses_the_configured_source(vault, tmp_path):
    seed = secrets.token_bytes(32)
    vault.put("ceramic/agent", {"seed": b64(seed)})
    vault.grant(TOKEN, "ceramic/agent")
    settings = Settings.from_env({**vault_env(vault, VAULT_TOKEN=TOKEN), "CERAMIC_PIPELINE_DATA": str(tmp_path)})
    assert settings.signer().did == DIDKey.from_seed(seed).did
    assert TOKEN not in repr(settings) and b64(seed) not in repr(settings.signer())
