"""The ``ceramic-pipeline`` console script."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

from ceramic_pipeline.devnode import cli as devnode_cli
from ceramic_pipeline.ceramic.did import generate_seed_base64
from ceramic_pipeline.settings import ConfigError, Settings


def _did(_args: argparse.Namespace) -> int:
    print(Settings.from_env().signer().did)
    return 0


def _keygen(_args: argparse.Namespace) -> int:
    print(generate_seed_base64())
    return 0


def _checked_settings() -> Settings:
    """Settings after the whole-configuration preflight (ConfigError: exit 2, one line)."""
    from ceramic_pipeline.preflight import preflight

    settings = Settings.from_env()
    preflight(settings)
    return settings


def _ingest(args: argparse.Namespace) -> int:
    _checked_settings()  # before importing Dagster: configuration errors fail in seconds, not retries
    from ceramic_pipeline.ingest import ingest

    summary = ingest([Path(p) for p in args.paths], progress=None if args.json else progress_bar)
    print(format_summary(summary, args.json))
    return summary["exit_code"]


def format_summary(summary: dict[str, Any], as_json: bool) -> str:
    if as_json:
        return json.dumps(summary, indent=2, sort_keys=True)
    width = max(len(k) for k in summary)
    lines = []
    for key, value in summary.items():
        if isinstance(value, list):  # failures, failed checks: one per line, readable
            lines.append(key)
            lines += [f"  - {item}" for item in value]
        elif isinstance(value, dict):  # phases: one "name  seconds" per line
            lines.append(key)
            inner = max((len(name) for name in value), default=0)
            lines += [f"  {name.ljust(inner)}  {item}" for name, item in value.items()]
        else:
            lines.append(f"{key.ljust(width)}  {value}")
    return "\n".join(lines)


def progress_bar(total: int):
    """A tqdm bar on stderr: documents done / total, chunks/s and ETA (quiet with --json)."""
    from tqdm import tqdm

    # No monitor thread: ingest forks its worker processes only from a single-threaded process
    # (ingest._fork_is_safe), and tqdm's monitor (it only re-tunes miniters) made every text-mode
    # ingest run its runs one after another.
    tqdm.monitor_interval = 0
    bar = tqdm(total=total, unit="doc", file=sys.stderr, dynamic_ncols=True, disable=total < 2 or None)
    started, chunks = time.perf_counter(), 0

    def tick(documents: int, new_chunks: int) -> None:
        nonlocal chunks
        chunks += new_chunks
        bar.set_postfix_str(f"{chunks / max(time.perf_counter() - started, 1e-9):,.0f} chunks/s", refresh=False)
        bar.update(documents)
        if bar.n >= total:
            bar.close()

    return tick


def _stream_show(args: argparse.Namespace) -> int:
    from ceramic_pipeline.ceramic.client import CeramicError
    from ceramic_pipeline.ceramic.identifiers import StreamIDError
    from ceramic_pipeline.ceramic.verify import EventError
    from ceramic_pipeline.commands import show_stream
    from ceramic_pipeline.ipfs.errors import PinningError

    as_text = args.format == "text" if args.format else sys.stdout.isatty()
    try:
        if as_text:
            from ceramic_pipeline.stream_view import render, stream_view

            view = stream_view(Settings.from_env(), args.stream_id)
        else:
            shown = show_stream(Settings.from_env(), args.stream_id)
    except StreamIDError as exc:  # bad input: exit 2 like argparse
        print(f"ceramic-pipeline: stream show: not a StreamID: {exc}", file=sys.stderr)
        return 2
    except (EventError, CeramicError, PinningError) as exc:  # unknown stream, node down, pinned text missing
        print(f"ceramic-pipeline: stream show {args.stream_id}: {exc}", file=sys.stderr)
        return 1
    if as_text:
        from rich.console import Console

        render(view, Console(highlight=False, soft_wrap=False))
    else:
        print(json.dumps(shown, indent=2, ensure_ascii=False))
    return 0


def _stream_verify(args: argparse.Namespace) -> int:
    from ceramic_pipeline.ceramic.identifiers import StreamID, StreamIDError
    from ceramic_pipeline.commands import verify_stream

    try:
        StreamID.from_string(args.stream_id)
    except StreamIDError as exc:  # bad input: exit 2 like argparse (and like `stream show`)
        print(f"ceramic-pipeline: stream verify: not a StreamID: {exc}", file=sys.stderr)
        return 2
    ok, report = verify_stream(Settings.from_env(), args.stream_id)
    print(report)
    return 0 if ok else 1


def _publish(_args: argparse.Namespace) -> int:
    """Post pending events, then read back the documents that were waiting on them (as the
    ``publish_outbox`` job does), so they end ``ingested`` or ``failed`` without another ingest."""
    settings = _checked_settings()
    from datetime import datetime, timezone

    import psycopg

    from ceramic_pipeline.commands import ceramic_client
    from ceramic_pipeline.ingest import EXIT_FAILED, EXIT_OK, EXIT_PENDING
    from ceramic_pipeline.steps.readback import read_back_documents
    from ceramic_pipeline.storage.documents import awaiting_read_back
    from ceramic_pipeline.storage.embedded import resolve_database_url
    from ceramic_pipeline.writer.publisher import publish_outbox

    url = resolve_database_url(settings.environ, settings.data_dir)
    did = settings.signer().did
    started = datetime.now(timezone.utc)
    with ceramic_client(settings) as client:
        report = publish_outbox(lambda: psycopg.connect(url), client)
        with psycopg.connect(url) as conn:
            back = read_back_documents(conn, client, awaiting_read_back(conn, did), did, tips_since=started)
    print(f"published {report.published}, rejected {report.rejected}, failed {report.failed}, pending {report.pending}"
          + (f", not posted (already on the node) {report.dropped}" if report.dropped else "")
          + f"; documents verified and ingested {len(back.ingested)}, still pending {len(back.pending)}")
    for line in (report.errors + back.failures)[:20]:
        print(f"  {line}", file=sys.stderr)
    # Same convention as ingest: 1 something was refused, 3 nothing failed but events wait for the node.
    if report.rejected or report.dropped or back.failures or back.mismatched:
        return EXIT_FAILED
    return EXIT_PENDING if report.pending or back.pending else EXIT_OK


def _resync(args: argparse.Namespace) -> int:
    settings = _checked_settings()
    import psycopg

    from ceramic_pipeline.commands import ceramic_client
    from ceramic_pipeline.maintenance.resync import resync_from_ceramic
    from ceramic_pipeline.storage.embedded import resolve_database_url
    from ceramic_pipeline.storage.migrations import migrate

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


def _health(args: argparse.Namespace) -> int:
    from ceramic_pipeline.health import run_checks

    checks = run_checks(Settings.from_env(), timeout_s=args.timeout)
    for check in checks:
        print(check.line())
    return 0 if all(check.ok for check in checks) else 1


def _db_url(_args: argparse.Namespace) -> int:
    from ceramic_pipeline.database_cli import database_url, display_url

    print(display_url(database_url(Settings.from_env())))
    return 0


def _db_shell(args: argparse.Namespace) -> int:
    from ceramic_pipeline.database_cli import database_url, exec_psql

    exec_psql(database_url(Settings.from_env()), [a for a in args.psql_args if a != "--"])
    return 0  # not reached: psql replaced this process


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
    parser = argparse.ArgumentParser(
        prog="ceramic-pipeline",
        description="Signed, verifiable Ceramic streams for Docling chunks: ingest, inspect, publish, maintain.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("did", help="print the agent's did:key (never the seed)").set_defaults(func=_did)
    sub.add_parser("keygen", help="print a fresh base64 32-byte seed for AGENT_DID_SEED_BASE64").set_defaults(func=_keygen)
    devnode = sub.add_parser(
        "devnode", help="run the local validating Ceramic node (a DEVELOPMENT STAND-IN for ceramic-one)",
        description=devnode_cli.DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    devnode_cli.add_arguments(devnode)
    devnode.set_defaults(func=devnode_cli.run)
    ingest = sub.add_parser(
        "ingest", help="materialise the pipeline in-process for files or folders",
        description="Exit codes: 0 every document ingested and verified; 1 a document or check failed (listed); "
                    "2 configuration error; 3 nothing failed but events are pending (node unreachable: run `publish` later).",
    )
    ingest.add_argument("paths", nargs="+", help="DoclingDocument JSON (or .md/.html/.docx) files, or folders of them")
    ingest.add_argument("--json", action="store_true", help="print the summary as JSON")
    ingest.set_defaults(func=_ingest)
    stream = sub.add_parser("stream", help="read a stream back from the Ceramic node").add_subparsers(dest="action", required=True)
    show = stream.add_parser("show", help="current content, controller, model, version, tip and the chunk text")
    show.add_argument("stream_id")
    view = show.add_mutually_exclusive_group()
    view.add_argument("--format", choices=("text", "json"),
                      help="text: tables with the history of versions and the pins; json: the state (default: text on a terminal, else json)")
    view.add_argument("--json", dest="format", action="store_const", const="json", help="same as --format json")
    show.set_defaults(func=_stream_show)
    verify = stream.add_parser("verify", help="check every event's signature, CID and prev link (exit 0 only if all hold)")
    verify.add_argument("stream_id")
    verify.set_defaults(func=_stream_verify)
    sub.add_parser("publish", help="post pending outbox events to the Ceramic node").set_defaults(func=_publish)
    resync = sub.add_parser("resync", help="rebuild ceramic_streams rows for our model and controller from the node's feed")
    resync.add_argument("--full", action="store_true", help="read the feed from its start, not the stored resume token")
    resync.set_defaults(func=_resync)
    health = sub.add_parser(
        "health", help="check the Ceramic node, PostgreSQL, the pinning service and the outbox (exit 1 if one is down)"
    )
    health.add_argument("--timeout", type=float, default=5.0, help="seconds per check (default 5)")
    health.set_defaults(func=_health)
    db = sub.add_parser("db", help="the pipeline's PostgreSQL (DATABASE_URL or the embedded one)").add_subparsers(
        dest="action", required=True
    )
    db.add_parser("url", help="print the database URL (a password is shown as ***)").set_defaults(func=_db_url)
    shell = db.add_parser("shell", help="open psql on the database; arguments after -- go to psql")
    shell.add_argument("psql_args", nargs=argparse.REMAINDER, help="e.g. -- -c 'SELECT count(*) FROM chunks_with_ceramic'")
    shell.set_defaults(func=_db_shell)
    embedded = sub.add_parser("embedded", help="the embedded default's background services").add_subparsers(dest="action", required=True)
    embedded.add_parser("stop", help="stop the embedded Ceramic node and PostgreSQL (they outlive dagster dev)").set_defaults(
        func=_embedded_stop
    )
    _add_restore(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from ceramic_pipeline.logs import configure_logging, not_ours

    third_party = logging.StreamHandler(sys.stderr)  # plain lines for other libraries' loggers
    third_party.addFilter(not_ours)  # the project's own records are JSON lines (configure_logging)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", handlers=[third_party])
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request otherwise
    logging.getLogger("alembic").setLevel(logging.WARNING)  # ~40 INFO lines per temporary Dagster instance
    args = build_parser().parse_args(argv)
    try:
        configure_logging()  # the project's loggers: JSON lines, LOG_LEVEL
        return args.func(args)
    except ConfigError as exc:
        print(f"ceramic-pipeline: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C: one line, not a traceback (work done so far is committed)
        print(f"ceramic-pipeline: {args.command}: interrupted; what was committed stays, "
              "and the next run picks up the rest", file=sys.stderr)
        return 130
    except Exception as exc:  # anything unexpected: one line; the traceback only at LOG_LEVEL=DEBUG
        if logging.getLogger("ceramic_pipeline").isEnabledFor(logging.DEBUG):
            raise
        lines = str(exc).strip().splitlines()
        print(f"ceramic-pipeline: {args.command}: {type(exc).__name__}: {lines[0] if lines else ''} "
              "(LOG_LEVEL=DEBUG shows the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
