"""did:key identities for Ed25519 keys (PyNaCl), and strict parsing of the agent seed."""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from dataclasses import dataclass, field

import libipld
import nacl.exceptions
import nacl.signing

ED25519_PUB_MULTICODEC = b"\xed\x01"
SEED_VARIABLE = "AGENT_DID_SEED_BASE64"


class SeedError(ValueError):
    """A seed that is not strict base64 of exactly 32 bytes. The message never contains the value."""


class DIDError(ValueError):
    """A DID we cannot resolve to an Ed25519 key."""


def parse_seed_base64(text: str, variable: str = SEED_VARIABLE) -> bytes:
    try:
        seed = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SeedError(f"{variable} is not valid base64 (expected 32 bytes, e.g. from `ceramic-pipeline keygen`)") from None
    if len(seed) != 32:
        raise SeedError(f"{variable} must decode to exactly 32 bytes, found {len(seed)} bytes")
    return seed


def generate_seed_base64() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def did_from_public_key(public_key: bytes) -> str:
    return "did:key:" + libipld.encode_multibase("z", ED25519_PUB_MULTICODEC + public_key)


def public_key_from_did(did: str) -> bytes:
    """Return the Ed25519 public key a ``did:key:z6Mk…`` names (a ``#fragment`` is ignored)."""
    method_id = did.split("#", 1)[0].removeprefix("did:key:")
    if not did.startswith("did:key:") or not method_id.startswith("z"):
        raise DIDError(f"not a base58btc did:key: {did[:80]!r}")
    try:
        raw = bytes(libipld.decode_multibase(method_id)[1])
    except ValueError:
        raise DIDError(f"not a base58btc did:key: {did[:80]!r}") from None
    if not raw.startswith(ED25519_PUB_MULTICODEC) or len(raw) != 34:
        raise DIDError(f"did:key is not an Ed25519 key: {did[:80]!r}")
    return raw[2:]


def verify_signature(did: str, message: bytes, signature: bytes) -> bool:
    try:
        nacl.signing.VerifyKey(public_key_from_did(did)).verify(message, signature)
    except (nacl.exceptions.BadSignatureError, ValueError):
        return False
    return True


def b64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


@dataclass(frozen=True)
class DIDKey:
    """An Ed25519 did:key signer. ``repr`` never shows the seed."""

    _signing_key: nacl.signing.SigningKey = field(repr=False)
    did: str
    kid: str
    protected: bytes  # the JWS protected header JSON, exactly as the SDK writes it
    protected_b64url: bytes

    @classmethod
    def from_seed(cls, seed: bytes) -> DIDKey:
        key = nacl.signing.SigningKey(seed)
        did = did_from_public_key(bytes(key.verify_key))
        kid = f"{did}#{did.removeprefix('did:key:')}"
        # fast-json-stable-stringify: sorted keys, no whitespace, no "typ".
        protected = json.dumps({"alg": "EdDSA", "kid": kid}, separators=(",", ":")).encode()
        return cls(key, did, kid, protected, b64url(protected))

    @property
    def public_key(self) -> bytes:
        return bytes(self._signing_key.verify_key)

    def sign(self, message: bytes) -> bytes:
        return self._signing_key.sign(message).signature
