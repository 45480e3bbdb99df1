"""Where the agent's 32-byte Ed25519 DID seed comes from, chosen by configuration.

At most one source may be configured; with none, a development seed is generated once and
kept (mode 0600) under the data folder, with a warning. Every source ends in the same
check (strict base64 of exactly 32 bytes, ``did.parse_seed_base64``) and every failure is
one :class:`ConfigError` line naming the source and the cause, never the value.

| source | variables |
|---|---|
| environment | ``AGENT_DID_SEED_BASE64``: base64 of the seed (``ceramic-pipeline keygen``) |
| file | ``AGENT_DID_SEED_FILE``: a file holding that base64 text (a mounted Kubernetes secret, a systemd credential under ``$CREDENTIALS_DIRECTORY``) |
| AWS KMS | ``ENCRYPTED_DID_SEED``: base64 of the ciphertext blob of ``kms encrypt`` over the 32 raw bytes (or their base64 text); ``KMS_KEY_ID``; optional ``KMS_ENCRYPTION_CONTEXT`` (a JSON object of strings). Region, credentials and endpoint follow boto3's usual variables (``AWS_REGION``, ``AWS_ENDPOINT_URL_KMS``, ...) |
| Vault KV v2 | ``VAULT_ADDR``, ``VAULT_SEED_PATH`` (path under the mount), ``VAULT_SEED_FIELD`` (default ``seed``), ``VAULT_KV_MOUNT`` (default ``secret``), optional ``VAULT_NAMESPACE``; auth by ``VAULT_TOKEN``, or Kubernetes auth with ``VAULT_K8S_ROLE`` (``VAULT_K8S_MOUNT`` default ``kubernetes``, ``VAULT_K8S_JWT_PATH`` default the pod's service-account token) |

KMS and Vault are asked every time a seed is needed (each step that signs), so a rotated
seed is picked up by the next run without a restart.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from ceramic_pipeline.ceramic.did import SEED_VARIABLE, generate_seed_base64, parse_seed_base64
from ceramic_pipeline.envparse import ConfigError, env_url

log = logging.getLogger(__name__)

FILE_VARIABLE = "AGENT_DID_SEED_FILE"
K8S_JWT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount/token"
TIMEOUT_S = 10  # per request to KMS or Vault: a seed that cannot be had fails the run fast
DEV_SEED_FILE = "agent-seed.b64"

_warned: set[Path] = set()  # dev seed files already warned about in this process


def _set(environ: Mapping[str, str], name: str) -> str:
    return environ.get(name, "").strip()


def seed_source(environ: Mapping[str, str]) -> str:
    """``env``, ``file``, ``kms``, ``vault`` or ``dev``; ConfigError when several are configured."""
    found = {
        "env": SEED_VARIABLE if _set(environ, SEED_VARIABLE) else None,
        "file": FILE_VARIABLE if _set(environ, FILE_VARIABLE) else None,
        "kms": "ENCRYPTED_DID_SEED/KMS_KEY_ID" if _set(environ, "ENCRYPTED_DID_SEED") or _set(environ, "KMS_KEY_ID") else None,
        "vault": "VAULT_SEED_PATH" if _set(environ, "VAULT_SEED_PATH") else None,
    }
    chosen = {kind: names for kind, names in found.items() if names}
    if len(chosen) > 1:
        raise ConfigError(f"configure one DID seed source, not several: {', '.join(chosen.values())}")
    return next(iter(chosen), "dev")


def load_seed(environ: Mapping[str, str], data_dir: Path) -> bytes:
    """The 32-byte seed from the configured source (see the module docstring).

    Raises ConfigError (one line, naming the source) when the source is misconfigured,
    unreachable, refuses access, or yields anything but 32 bytes.
    """
    kind = seed_source(environ)
    if kind == "env":
        return _checked(environ[SEED_VARIABLE], SEED_VARIABLE)
    if kind == "file":
        return _from_file(Path(_set(environ, FILE_VARIABLE)).expanduser())
    if kind == "kms":
        return _from_kms(environ)
    if kind == "vault":
        return _from_vault(environ)
    return _dev_seed(data_dir)


def _checked(text: str, source: str) -> bytes:
    try:
        return parse_seed_base64(text, variable=source)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _from_file(path: Path) -> bytes:
    source = f"{FILE_VARIABLE} ({path})"
    try:
        text = path.read_text(encoding="ascii")
    except UnicodeDecodeError:
        raise ConfigError(f"{source} is not valid base64 (expected 32 bytes, e.g. from `ceramic-pipeline keygen`)") from None
    except OSError as exc:
        raise ConfigError(f"{source} cannot be read ({exc.strerror or type(exc).__name__})") from None
    return _checked(text, source)


def _from_kms(environ: Mapping[str, str]) -> bytes:
    import boto3
    import botocore.config
    import botocore.exceptions

    source = "KMS (ENCRYPTED_DID_SEED, KMS_KEY_ID)"
    encrypted, key_id = _set(environ, "ENCRYPTED_DID_SEED"), _set(environ, "KMS_KEY_ID")
    if not encrypted or not key_id:
        missing = "KMS_KEY_ID" if encrypted else "ENCRYPTED_DID_SEED"
        raise ConfigError(f"{missing} must be set together with {'ENCRYPTED_DID_SEED' if encrypted else 'KMS_KEY_ID'}")
    try:
        blob = base64.b64decode(encrypted, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError("ENCRYPTED_DID_SEED is not valid base64 (expected the base64 ciphertext blob of `kms encrypt`)") from None
    context = _encryption_context(environ)
    credentials = {
        "aws_access_key_id": _set(environ, "AWS_ACCESS_KEY_ID") or None,
        "aws_secret_access_key": _set(environ, "AWS_SECRET_ACCESS_KEY") or None,
        "aws_session_token": _set(environ, "AWS_SESSION_TOKEN") or None,
    }
    try:
        client = boto3.session.Session(**credentials).client(
            "kms",
            region_name=_set(environ, "AWS_REGION") or _set(environ, "AWS_DEFAULT_REGION") or None,
            endpoint_url=env_url(environ, "AWS_ENDPOINT_URL_KMS") or env_url(environ, "AWS_ENDPOINT_URL"),
            config=botocore.config.Config(connect_timeout=TIMEOUT_S, read_timeout=TIMEOUT_S, retries={"mode": "standard", "max_attempts": 3}),
        )
        plaintext = client.decrypt(CiphertextBlob=blob, KeyId=key_id, EncryptionContext=context)["Plaintext"]
    except botocore.exceptions.ClientError as exc:
        error = exc.response.get("Error", {})
        raise ConfigError(f"{source}: decrypt refused: {error.get('Code', 'error')}") from None
    except botocore.exceptions.BotoCoreError as exc:  # no region/credentials, endpoint unreachable
        raise ConfigError(f"{source}: {_one_line(str(exc))}") from None
    if len(plaintext) == 32:
        return plaintext
    try:  # `kms encrypt` over keygen's base64 output
        seed = base64.b64decode(plaintext.strip(), validate=True)
    except (binascii.Error, ValueError):
        seed = plaintext
    if len(seed) != 32:
        raise ConfigError(f"{source}: the decrypted seed must be 32 bytes (raw, or their base64 text), found {len(seed)} bytes")
    return seed


def _encryption_context(environ: Mapping[str, str]) -> dict[str, str]:
    raw = _set(environ, "KMS_ENCRYPTION_CONTEXT")
    if not raw:
        return {}
    try:
        context = json.loads(raw)
    except ValueError:
        context = None
    if not isinstance(context, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in context.items()):
        raise ConfigError('KMS_ENCRYPTION_CONTEXT must be a JSON object of strings, e.g. {"purpose": "did-seed"}')
    return context


def _from_vault(environ: Mapping[str, str]) -> bytes:
    import hvac
    import hvac.exceptions
    import requests

    address = env_url(environ, "VAULT_ADDR")
    if not address:
        raise ConfigError("VAULT_SEED_PATH needs VAULT_ADDR (the Vault server URL)")
    path, field = _set(environ, "VAULT_SEED_PATH").strip("/"), _set(environ, "VAULT_SEED_FIELD") or "seed"
    mount = _set(environ, "VAULT_KV_MOUNT").strip("/") or "secret"
    source = f"Vault ({mount}/{path}, field {field})"
    token, role = _set(environ, "VAULT_TOKEN"), _set(environ, "VAULT_K8S_ROLE")
    if not token and not role:
        raise ConfigError("VAULT_SEED_PATH needs VAULT_TOKEN or VAULT_K8S_ROLE (Kubernetes auth)")
    # Explicit token and URL: hvac would otherwise fall back to ~/.vault-token and os.environ.
    client = hvac.Client(url=address, token=token or "", namespace=_set(environ, "VAULT_NAMESPACE") or None, timeout=TIMEOUT_S)
    step = "read"
    try:
        if not token:
            step = "Kubernetes login"
            jwt_path = Path(_set(environ, "VAULT_K8S_JWT_PATH") or K8S_JWT_PATH)
            try:
                jwt = jwt_path.read_text().strip()
            except OSError as exc:
                raise ConfigError(f"{source}: VAULT_K8S_JWT_PATH ({jwt_path}) cannot be read ({exc.strerror})") from None
            client.auth.kubernetes.login(role=role, jwt=jwt, mount_point=_set(environ, "VAULT_K8S_MOUNT") or "kubernetes")
            step = "read"
        answer = client.secrets.kv.v2.read_secret_version(path=path, mount_point=mount, raise_on_deleted_version=True)
    except hvac.exceptions.Forbidden:
        raise ConfigError(f"{source}: {step} permission denied (HTTP 403); check {'VAULT_TOKEN' if token else 'VAULT_K8S_ROLE'} and its policy") from None
    except hvac.exceptions.Unauthorized:
        raise ConfigError(f"{source}: {step} unauthorized (HTTP 401)") from None
    except hvac.exceptions.InvalidPath:
        raise ConfigError(f"{source}: no such secret (HTTP 404); check VAULT_KV_MOUNT and VAULT_SEED_PATH") from None
    except hvac.exceptions.VaultError as exc:
        raise ConfigError(f"{source}: {step} failed ({type(exc).__name__})") from None
    except requests.RequestException as exc:
        raise ConfigError(f"{source}: VAULT_ADDR {address} unreachable ({type(exc).__name__})") from None
    value = ((answer or {}).get("data") or {}).get("data", {}).get(field)
    if not isinstance(value, str):
        raise ConfigError(f"{source}: the secret has no string field {field!r}; check VAULT_SEED_FIELD")
    return _checked(value, source)


def _dev_seed(data_dir: Path) -> bytes:
    """A development seed generated once and kept (0600) under ``data_dir``, with a warning."""
    path = data_dir / DEV_SEED_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(generate_seed_base64() + "\n")
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise ConfigError(f"{path} must not be readable by group or others (chmod 600 it)")
    if path not in _warned:  # once per process: every step that signs asks for the seed again
        _warned.add(path)
        log.warning(
            "%s is not set: signing with a development seed kept at %s. Production MUST set %s "
            "(or %s, KMS or Vault: see the README).",
            SEED_VARIABLE, path, SEED_VARIABLE, FILE_VARIABLE,
        )
    return _checked(path.read_text(), str(path))


def _one_line(message: str) -> str:
    return " ".join(message.split())
