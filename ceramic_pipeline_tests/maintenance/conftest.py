# The write-path fixtures (signer, connect, conn, client, requests) over the real devnode and PostgreSQL.
from ceramic_pipeline_tests.writer.conftest import client, conn, connect, requests, signer  # noqa: F401
