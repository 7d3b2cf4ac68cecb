"""The `jobscrape` command line: one entry point, one subcommand per job.

Only the chosen subcommand's module is imported (and each is light at import: its heavy
dependencies, kopf for `operator`, load inside `run`), so `jobscrape run` in a CronJob pod
never loads the operator.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from jobscrape import __version__

Handler = Callable[[argparse.Namespace], int]

# name, help, module with add_arguments(parser) and run(args) -> exit code
SUBCOMMANDS = (
    ("operator", "run the operator (kopf)", "jobscrape.controller.main"),
    ("run", "one scrape run for a JobSource (what the CronJob pod runs)", "jobscrape.runner.main"),
    ("scrape", "scrape boards locally and print the postings", "jobscrape.scrape"),
    ("status", "print the sources' last runs, postings and next runs", "jobscrape.statuscmd"),
    ("postings", "print the postings of a store (SQLite file or PostgreSQL)",
     "jobscrape.postingscmd"),
    ("deliver", "deliver a JobSource's pending notifications now",
     "jobscrape.runner.delivercmd"),
    ("detect", "print spec.boards entries for careers page URLs", "jobscrape.detectcmd"),
)


def _cmd_version(args: argparse.Namespace) -> int:
    print(__version__)
    return 0


def _cmd_crd(args: argparse.Namespace) -> int:
    from jobscrape.api.crd import render_crd_yaml

    sys.stdout.write(render_crd_yaml())
    return 0


def chosen_command(argv: Sequence[str]) -> str | None:
    """The subcommand named in `argv` (its first word that is not an option), if any."""
    return next((a for a in argv if not a.startswith("-")), None)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser with every subcommand registered. With `only`, just that subcommand's
    module is imported for its options ("": none); the others are listed by name and help."""
    parser = argparse.ArgumentParser(prog="jobscrape", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"jobscrape {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("version", help="print the version").set_defaults(handler=_cmd_version)
    sub.add_parser("crd", help="print the JobSource CustomResourceDefinition").set_defaults(
        handler=_cmd_crd)
    for name, help_text, module_name in SUBCOMMANDS:
        p = sub.add_parser(name, help=help_text)
        if only is None or only == name:
            module = importlib.import_module(module_name)
            module.add_arguments(p)
            p.set_defaults(handler=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run the chosen subcommand; return its exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(only=chosen_command(argv) or "").parse_args(argv)
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
