"""The ``ceramic-pipeline`` console script."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from ceramic_pipeline.ceramic.devnode import cli as devnode_cli
from ceramic_pipeline.ceramic.did import generate_seed_base64
from ceramic_pipeline.settings import ConfigError, Settings


def _did(_args: argparse.Namespace) -> int:
    print(Settings.from_env().signer().did)
    return 0


def _keygen(_args: argparse.Namespace) -> int:
    print(generate_seed_base64())
    return 0


def _ingest(args: argparse.Namespace) -> int:
    from ceramic_pipeline.commands import format_summary, group_by_inbox
    from ceramic_pipeline.ingest import ingest

    Settings.from_env()  # configuration errors before any work
    summary = ingest(group_by_inbox([Path(p) for p in args.paths]))
    print(format_summary(summary, args.json))
    return 1 if summary["failed"] else 0


def _stream_show(args: argparse.Namespace) -> int:
    from ceramic_pipeline.commands import show_stream

    print(json.dumps(show_stream(Settings.from_env(), args.stream_id), indent=2, ensure_ascii=False))
    return 0


def _stream_verify(args: argparse.Namespace) -> int:
    from ceramic_pipeline.commands import verify_stream

    ok, report = verify_stream(Settings.from_env(), args.stream_id)
    print(report)
    return 0 if ok else 1


def _publish(_args: argparse.Namespace) -> int:
    import psycopg

    from ceramic_pipeline.commands import ceramic_client
    from ceramic_pipeline.storage.embedded import resolve_database_url
    from ceramic_pipeline.writer.publisher import publish_outbox

    settings = Settings.from_env()
    url = resolve_database_url(settings.environ, settings.data_dir)
    with ceramic_client(settings) as client:
        report = publish_outbox(lambda: psycopg.connect(url), client)
    print(f"published {report.published}, rejected {report.rejected}, failed {report.failed}, pending {report.pending}")
    return 1 if report.rejected else 0


def _embedded_stop(_args: argparse.Namespace) -> int:
    from ceramic_pipeline.embedded_node import stop_embedded_node
    from ceramic_pipeline.storage.embedded import stop_embedded_server

    data_dir = Settings.from_env().data_dir
    stop_embedded_node(data_dir)
    stop_embedded_server(data_dir)
    print(f"stopped the embedded Ceramic node and PostgreSQL under {data_dir} (data kept)")
    return 0


# --- restore (maintenance): kept in one block ---------------------------------------------
def _restore(args: argparse.Namespace) -> int:
    from ceramic_pipeline.maintenance.backup import BackupError
    from ceramic_pipeline.maintenance.pgtools import PgToolError
    from ceramic_pipeline.maintenance.restore import RestoreRefused, restore_backup

    url = args.database_url
    if not url:
        from ceramic_pipeline.storage.embedded import resolve_database_url  # starts pgserver if needed

        settings = Settings.from_env()
        url = resolve_database_url(settings.environ, settings.data_dir)
    try:
        report = restore_backup(Path(args.backup), url, force=args.force)
    except (BackupError, RestoreRefused, PgToolError) as exc:
        print(f"ceramic-pipeline restore: {exc}", file=sys.stderr)
        return 1
    if not report.matches:
        print(f"ceramic-pipeline restore: restored, but the data differs from the manifest: "
              f"{', '.join(sorted(report.mismatches)) or 'content checksum'}", file=sys.stderr)
        return 1
    print(f"restored {report.backup}: {report.tables} tables, {report.rows} rows, matching the manifest "
          f"({report.seconds:.1f} s)")
    return 0


def _add_restore(sub: argparse._SubParsersAction) -> None:
    restore = sub.add_parser("restore", help="restore a backup (NAME.dump, checked against its manifest) into a database")
    restore.add_argument("backup", help="the backup's .dump (or .manifest.json) file in BACKUP_DIR")
    restore.add_argument("--database-url", help="target database (default: DATABASE_URL, else the embedded one)")
    restore.add_argument("--force", action="store_true", help="overwrite a database that already holds tables")
    restore.set_defaults(func=_restore)
# --- end restore ----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ceramic-pipeline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("did", help="print the agent's did:key (never the seed)").set_defaults(func=_did)
    sub.add_parser("keygen", help="print a fresh base64 32-byte seed for AGENT_DID_SEED_BASE64").set_defaults(func=_keygen)
    devnode = sub.add_parser(
        "devnode", help="run the local validating Ceramic node (a DEVELOPMENT STAND-IN for ceramic-one)",
        description=devnode_cli.DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    devnode_cli.add_arguments(devnode)
    devnode.set_defaults(func=devnode_cli.run)
    ingest = sub.add_parser("ingest", help="materialise the pipeline in-process for files or folders")
    ingest.add_argument("paths", nargs="+", help="DoclingDocument JSON (or .md/.html/.docx) files, or folders of them")
    ingest.add_argument("--json", action="store_true", help="print the summary as JSON")
    ingest.set_defaults(func=_ingest)
    stream = sub.add_parser("stream", help="read a stream back from the Ceramic node").add_subparsers(dest="action", required=True)
    show = stream.add_parser("show", help="current content, controller, model, version, tip and the chunk text")
    show.add_argument("stream_id")
    show.set_defaults(func=_stream_show)
    verify = stream.add_parser("verify", help="check every event's signature, CID and prev link (exit 0 only if all hold)")
    verify.add_argument("stream_id")
    verify.set_defaults(func=_stream_verify)
    sub.add_parser("publish", help="post pending outbox events to the Ceramic node").set_defaults(func=_publish)
    embedded = sub.add_parser("embedded", help="the embedded default's background services").add_subparsers(dest="action", required=True)
    embedded.add_parser("stop", help="stop the embedded Ceramic node and PostgreSQL (they outlive dagster dev)").set_defaults(
        func=_embedded_stop
    )
    _add_restore(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request otherwise
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"ceramic-pipeline: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
