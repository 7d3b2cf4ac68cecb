"""The `jobscrape` command line: one entry point, one subcommand per job."""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Callable, Sequence

from jobscrape import __version__

Handler = Callable[[argparse.Namespace], int]

# name, help, module with add_arguments(parser) and run(args) -> exit code
SUBCOMMANDS = (
    ("operator", "run the operator (kopf)", "jobscrape.controller.main"),
    ("run", "one scrape run for a JobSource (what the CronJob pod runs)", "jobscrape.runner.main"),
    ("scrape", "scrape boards locally and print the postings", "jobscrape.scrape"),
    ("status", "print the sources' last runs, postings and next runs", "jobscrape.statuscmd"),
)


def _cmd_version(args: argparse.Namespace) -> int:
    print(__version__)
    return 0


def _cmd_crd(args: argparse.Namespace) -> int:
    from jobscrape.api.crd import render_crd_yaml

    sys.stdout.write(render_crd_yaml())
    return 0


def _cmd_selftest(args: argparse.Namespace) -> int:
    """A tiny command for the harness tests: print a line, sleep, exit with the given code."""
    print(args.message, flush=True)
    if args.sleep:
        time.sleep(args.sleep)
    return int(args.exit_code)


def build_parser() -> argparse.ArgumentParser:
    """Return the parser with every subcommand registered."""
    parser = argparse.ArgumentParser(prog="jobscrape", description=__doc__)
    parser.add_argument("--version", action="version", version=f"jobscrape {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("version", help="print the version").set_defaults(handler=_cmd_version)
    sub.add_parser("crd", help="print the JobSource CustomResourceDefinition").set_defaults(
        handler=_cmd_crd)
    for name, help_text, module_name in SUBCOMMANDS:
        module = importlib.import_module(module_name)
        p = sub.add_parser(name, help=help_text)
        module.add_arguments(p)
        p.set_defaults(handler=module.run)
    p = sub.add_parser("selftest", help="print a message and exit with a code (harness checks)")
    p.add_argument("--message", default="jobscrape selftest")
    p.add_argument("--exit-code", type=int, default=0)
    p.add_argument("--sleep", type=float, default=0.0, help="seconds to sleep before exiting")
    p.set_defaults(handler=_cmd_selftest)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run the chosen subcommand; return its exit code."""
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
