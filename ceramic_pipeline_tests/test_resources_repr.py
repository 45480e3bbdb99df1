"""Secrets never reach a resource's repr/str, before or inside a run (the seed, DATABASE_URL's password)."""

from __future__ import annotations

import base64
import secrets

import dagster as dg

from ceramic_pipeline.resources import PostgresResource, SignerResource, resources_from_env


def test_resources_hide_their_secrets(monkeypatch, tmp_path):
    seed = base64.b64encode(secrets.token_bytes(32)).decode()
    url = "postgresql://ceramic:s3cr3t-pw@127.0.0.1:1/pipeline"
    monkeypatch.setenv("AGENT_DID_SEED_BASE64", seed)
    monkeypatch.setenv("DATABASE_URL", url)
    built = resources_from_env({"AGENT_DID_SEED_BASE64": seed, "DATABASE_URL": url, "CERAMIC_PIPELINE_DATA": str(tmp_path)})
    seen: list[str] = []

    @dg.asset
    def probe(postgres: PostgresResource, signer: SignerResource) -> None:
        assert postgres.database_url == url and signer.seed_base64 == seed  # resolved inside the run
        seen.extend([repr(postgres), str(postgres), repr(signer), str(signer)])

    assert dg.materialize([probe], resources={k: built[k] for k in ("postgres", "signer")}).success
    text = "\n".join([*seen, repr(built), str(built)])
    assert seen and "s3cr3t-pw" not in text and seed not in text
    assert "data_dir" in seen[0]  # the rest of the repr is still there
