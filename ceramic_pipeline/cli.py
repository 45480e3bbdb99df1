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


def _resync(args: argparse.Namespace) -> int:
    import psycopg

    from ceramic_pipeline.commands import ceramic_client
    from ceramic_pipeline.maintenance.resync import resync_from_ceramic
    from ceramic_pipeline.storage.embedded import resolve_database_url
    from ceramic_pipeline.storage.migrations import migrate

    settings = Settings.from_env()
    url = resolve_database_url(settings.environ, settings.data_dir)
    migrate(url)
    with ceramic_client(settings) as client, psycopg.connect(url) as conn:
        report = resync_from_ceramic(conn, client, settings.signer(), node_url=client.url, full=args.full)
    print(f"{'full' if report.full else 'incremental'} re-sync: read {report.events_read} events, "
          f"{report.streams_touched} streams of ours, adopted {report.adopted}, unchanged {report.unchanged}, "
          f"failed {len(report.failures)}")
    for failure in report.failures:
        print(f"FAILED {failure}")
    return 1 if report.failures else 0


def _embedded_stop(_args: argparse.Namespace) -> int:
    from ceramic_pipeline.embedded_node import stop_embedded_node
    from ceramic_pipeline.storage.embedded import stop_embedded_server

    data_dir = Settings.from_env().data_dir
    stop_embedded_node(data_dir)
    stop_embedded_server(data_dir)
    print(f"stopped the embedded Ceramic node and PostgreSQL under {data_dir} (data kept)")
    return 0


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
    resync = sub.add_parser("resync", help="rebuild ceramic_streams rows for our model and controller from the node's feed")
    resync.add_argument("--full", action="store_true", help="read the feed from its start, not the stored resume token")
    resync.set_defaults(func=_resync)
    embedded = sub.add_parser("embedded", help="the embedded default's background services").add_subparsers(dest="action", required=True)
    embedded.add_parser("stop", help="stop the embedded Ceramic node and PostgreSQL (they outlive dagster dev)").set_defaults(
        func=_embedded_stop
    )
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
