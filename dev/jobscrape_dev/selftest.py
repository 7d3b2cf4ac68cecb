"""`python -m jobscrape_dev.selftest`: a tiny command for the harness tests of the local pod
executor: print a line, sleep, exit with the given code."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Print --message, sleep --sleep seconds, return --exit-code."""
    p = argparse.ArgumentParser(prog="python -m jobscrape_dev.selftest", description=__doc__)
    p.add_argument("--message", default="jobscrape selftest")
    p.add_argument("--exit-code", type=int, default=0)
    p.add_argument("--sleep", type=float, default=0.0, help="seconds to sleep before exiting")
    args = p.parse_args(argv)
    print(args.message, flush=True)
    if args.sleep:
        time.sleep(args.sleep)
    return int(args.exit_code)


if __name__ == "__main__":
    sys.exit(main())
