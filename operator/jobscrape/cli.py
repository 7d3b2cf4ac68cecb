"""The `jobscrape` command line: one entry point, one subcommand per job."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from jobscrape import __version__

Handler = Callable[[argparse.Namespace], int]


def _cmd_version(args: argparse.Namespace) -> int:
    print(__version__)
    return 0


def _cmd_exec_test(args: argparse.Namespace) -> int:
    """A tiny command for the harness tests: print a line, exit with the given code."""
    print(args.message, flush=True)
    if args.sleep:
        import time

        time.sleep(args.sleep)
    return int(args.exit_code)


def _cmd_operator(args: argparse.Namespace) -> int:
    from jobscrape.controller import main as operator_main

    return operator_main.run(args)


def _cmd_crd(args: argparse.Namespace) -> int:
    from jobscrape.api.crd import render_crd_yaml

    sys.stdout.write(render_crd_yaml())
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from jobscrape.runner import main as runner_main

    return runner_main.run(args)


def _cmd_scrape(args: argparse.Namespace) -> int:
    from jobscrape import scrape

    return scrape.run(args)


def _cmd_status(args: argparse.Namespace) -> int:
    from jobscrape import statuscmd

    return statuscmd.run(args)


def build_parser() -> argparse.ArgumentParser:
    """Return the parser with every subcommand registered."""
    parser = argparse.ArgumentParser(prog="jobscrape", description=__doc__)
    parser.add_argument("--version", action="version", version=f"jobscrape {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("version", help="print the version")
    p.set_defaults(handler=_cmd_version)

    p = sub.add_parser("crd", help="print the JobSource CustomResourceDefinition")
    p.set_defaults(handler=_cmd_crd)

    from jobscrape.controller.main import add_arguments as operator_arguments

    p = sub.add_parser("operator", help="run the operator (kopf)")
    operator_arguments(p)
    p.set_defaults(handler=_cmd_operator)

    from jobscrape.runner.main import add_arguments as run_arguments
    from jobscrape.scrape import add_arguments as scrape_arguments

    p = sub.add_parser("run", help="one scrape run for a JobSource (what the CronJob pod runs)")
    run_arguments(p)
    p.set_defaults(handler=_cmd_run)

    p = sub.add_parser("scrape", help="scrape boards locally and print the postings")
    scrape_arguments(p)
    p.set_defaults(handler=_cmd_scrape)

    from jobscrape.statuscmd import add_arguments as status_arguments

    p = sub.add_parser("status", help="print the sources' last runs, postings and next runs")
    status_arguments(p)
    p.set_defaults(handler=_cmd_status)

    p = sub.add_parser("selftest", help="print a message and exit with a code (harness checks)")
    p.add_argument("--message", default="jobscrape selftest")
    p.add_argument("--exit-code", type=int, default=0)
    p.add_argument("--sleep", type=float, default=0.0, help="seconds to sleep before exiting")
    p.set_defaults(handler=_cmd_exec_test)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run the chosen subcommand; return its exit code."""
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
