"""The ``ceramic-pipeline`` console script."""

from __future__ import annotations

import argparse
import logging
import sys

from ceramic_pipeline.ceramic.did import generate_seed_base64
from ceramic_pipeline.settings import ConfigError, Settings


def _did(_args: argparse.Namespace) -> int:
    print(Settings.from_env().signer().did)
    return 0


def _keygen(_args: argparse.Namespace) -> int:
    print(generate_seed_base64())
    return 0


def _devnode(args: argparse.Namespace) -> int:
    from ceramic_pipeline.ceramic.devnode.cli import main as devnode_main

    return devnode_main(args.rest)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ceramic-pipeline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("did", help="print the agent's did:key (never the seed)").set_defaults(func=_did)
    sub.add_parser("keygen", help="print a fresh base64 32-byte seed for AGENT_DID_SEED_BASE64").set_defaults(func=_keygen)
    devnode = sub.add_parser(
        "devnode", help="run the local validating Ceramic node (a development stand-in for ceramic-one)", add_help=False
    )
    devnode.add_argument("rest", nargs=argparse.REMAINDER)
    devnode.set_defaults(func=_devnode)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"ceramic-pipeline: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
