"""``ceramic-pipeline devnode``: run the local validating Ceramic node (a development stand-in)."""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Sequence
from pathlib import Path

from ceramic_pipeline.devnode.aggregator import DEFAULT_CACHE_STREAMS

DESCRIPTION = """\
Run the devnode: a DEVELOPMENT STAND-IN for ceramic-one, NOT a Ceramic node.
It serves the ceramic-one HTTP API subset this project uses (under /ceramic) and validates
events the way ceramic-one does (CAR round-trip, signatures, controller, init and prev
before storing; model schema and set-relation rules when aggregating stream state). Like
the official SDK, it refuses any event block over 256,000 bytes. Each stream's verified
state is kept in memory as events arrive and rebuilt from the data folder after a restart.
It does not sync with peers, anchor, or verify time events.
Production uses a real ceramic-one node (e.g. the 3box/ceramic-one image).
"""


def build_parser(prog: str = "ceramic-pipeline devnode") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The devnode options, for wiring into another parser as a sub-command."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s, loopback only)")
    parser.add_argument("--port", type=int, default=5101, help="port to bind, ceramic-one's default (default: %(default)s)")
    parser.add_argument(
        "--data", metavar="DIR", type=Path, default=None,
        help="keep events in DIR/devnode.sqlite3 across restarts (default: in memory, lost on exit)",
    )
    parser.add_argument("--network", default="inmemory", help="name reported by GET /ceramic/config/network (default: %(default)s)")
    parser.add_argument(
        "--state-cache-streams", metavar="N", type=int, default=DEFAULT_CACHE_STREAMS,
        help="keep the verified state of the N most recently used streams in memory (default: %(default)s;"
        " 0 recomputes every stream from storage on each request: the slow reference path)",
    )
    parser.add_argument(
        "--test-hooks", action="store_true",
        help="enable the test-only /_devnode endpoints (fault injection, per-event aggregation results)",
    )


def serve(
    host: str = "127.0.0.1",
    port: int = 5101,
    data_dir: str | Path | None = None,
    *,
    network: str = "inmemory",
    test_hooks: bool = False,
    stop: threading.Event | None = None,
    cache_streams: int = DEFAULT_CACHE_STREAMS,
) -> None:
    """Serve until SIGINT/SIGTERM (or until ``stop`` is set)."""
    if cache_streams < 0:
        raise SystemExit("devnode: --state-cache-streams must be 0 or more")
    from ceramic_pipeline.devnode.runner import DevNode  # the server stack, only when serving

    stop = stop or threading.Event()
    node = DevNode(
        host=host, port=port, data_dir=data_dir, network=network, test_hooks=test_hooks, cache_streams=cache_streams
    )
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    node.start()
    where = f"data in {Path(data_dir) / 'devnode.sqlite3'}" if data_dir else "data in memory only"
    print(f"devnode (development stand-in for ceramic-one) listening on {node.url}/ceramic ({where})", flush=True)
    try:
        stop.wait()
    finally:
        node.close()


def run(args: argparse.Namespace) -> int:
    """Serve with options parsed by a parser that ``add_arguments`` filled in."""
    serve(
        args.host, args.port, args.data, network=args.network, test_hooks=args.test_hooks,
        cache_streams=args.state_cache_streams,
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
