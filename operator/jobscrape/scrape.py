"""`jobscrape scrape`: the same pipeline on a laptop, no cluster needed."""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from jobscrape.api.vocabulary import BOARD_TYPES, OK_STATES, URL_TYPES
from jobscrape.boards.base import BoardRef
from jobscrape.output import POSTING_FIELDS, posting_row, render_records
from jobscrape.runner.main import allow_private_default

if TYPE_CHECKING:
    from jobscrape.runner.fetch import BoardFetch


class UsageError(ValueError):
    """Bad command-line input; the message names the option and what is wrong."""


def parse_board_option(value: str) -> BoardRef:
    """`TYPE:TOKEN[=URL]` → a board reference named after its token; UsageError naming the
    option when the type, token or URL would be refused in a JobSource."""
    from jobscrape.api.spec import TOKEN_ALPHABETS, URL_MESSAGE, URL_PATTERN

    kind, sep, rest = value.partition(":")
    shown = value.split("=", 1)[0] + ("=URL" if "=" in value else "")  # URLs may hold secrets
    if not sep or not kind:
        raise UsageError(f"--board {shown!r}: expected TYPE:TOKEN[=URL], e.g. greenhouse:vercel")
    if kind not in BOARD_TYPES:
        raise UsageError(f"--board {shown!r}: unknown type {kind!r} "
                         f"(one of {', '.join(BOARD_TYPES)})")
    token, _, url = rest.partition("=")
    if not token:
        raise UsageError(f"--board {shown!r}: the token (or a name for {kind}) is empty")
    if kind in URL_TYPES and not url:
        raise UsageError(f"--board {shown!r}: {kind} boards need a URL: {kind}:NAME=URL")
    alphabet = TOKEN_ALPHABETS.get(kind)
    if alphabet and not re.fullmatch(alphabet.pattern, token):
        raise UsageError(f"--board {shown!r}: {alphabet.message(kind)}")
    if url and not re.fullmatch(URL_PATTERN, url):
        raise UsageError(f"--board {shown!r}: the {URL_MESSAGE} (no user:password@, no "
                         "spaces)")
    # named by the token, up to a ':' (what follows, e.g. a Comeet careers token, is a key)
    return BoardRef(name=token.partition(":")[0], type=kind, token=token, url=url or None)


def bounded_int(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: an integer from `low` to `high` (argparse names the option)."""
    def parse(value: str) -> int:
        try:
            n = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
        if not low <= n <= high:
            raise argparse.ArgumentTypeError(f"{n} is outside {low}..{high}")
        return n
    return parse


def boards_from_file(path: Path) -> tuple[list[BoardRef], Any, Any]:
    """Boards, filters and run settings from a JobSource YAML file."""
    from jobscrape.api.validate import parse_spec, validate_spec
    from jobscrape.runner.main import board_refs

    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise UsageError(f"-f {path}: {e}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("spec"), dict):
        raise UsageError(f"-f {path}: not a JobSource (no spec)")
    spec, problems = parse_spec(doc["spec"])
    if spec is not None and not problems:
        problems = validate_spec(spec)
    if spec is None or problems:
        raise UsageError(f"-f {path}: " + "; ".join(f"{p.path}: {p.message}" for p in problems))
    return board_refs(spec), spec.filters, spec.run


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of `jobscrape scrape`."""
    p.add_argument("-f", "--file", type=Path, help="a JobSource YAML file")
    p.add_argument("--board", action="append", default=[], metavar="TYPE:TOKEN[=URL]",
                   help="a board to scrape (repeatable); URL overrides the API endpoint")
    p.add_argument("--format", choices=("table", "json", "jsonl", "csv"), default="table")
    p.add_argument("--store", default="jobscrape.db",
                   help="SQLite file that remembers postings between runs")
    p.add_argument("--concurrency", type=bounded_int(1, 64), default=8,
                   help="boards fetched at once (1..64)")
    p.add_argument("--allow-private-networks", action="store_true",
                   default=allow_private_default())
    p.add_argument("--no-progress", action="store_true", help="no progress display")


CSV_FIELDS = (*POSTING_FIELDS, "new")
TABLE_COLUMNS = (("", "new"), ("board", "board"), ("title", "title"), ("company", "company"),
                 ("location", "locations"), ("remote", "remote"), ("posted", "posted_at"))


def render(postings: list[dict[str, Any]], new_ids: set[str], fmt: str) -> str:
    """The postings in the chosen output format."""
    if fmt in ("json", "jsonl"):
        return render_records([dict(p, new=p["id"] in new_ids) for p in postings], fmt)
    rows = [dict(posting_row(p), new=p["id"] in new_ids) for p in postings]
    if fmt == "table":
        for r in rows:
            r["new"] = "new" if r["new"] else ""
            r["locations"] = r["locations"][:40]
            r["posted_at"] = (r["posted_at"] or "")[:10]
    return render_records(rows, fmt, CSV_FIELDS, TABLE_COLUMNS,
                          f"{len(postings)} postings ({len(new_ids)} new)")


def run(args: argparse.Namespace) -> int:
    """Scrape the boards once, print the postings, remember them in --store."""
    from jobscrape.runner.fetch import FetchOptions
    from jobscrape.runner.pipeline import run_once
    from jobscrape.runner.report import exit_code
    from jobscrape.store import StoreError, StoreLocked, open_store

    try:
        boards: list[BoardRef] = []
        filters = None
        if args.file:
            boards, filters, _ = boards_from_file(args.file)
        boards += [parse_board_option(b) for b in args.board]
        if not boards:
            raise UsageError("no boards: give -f FILE or --board TYPE:TOKEN[=URL]")
        names = [b.name for b in boards]
        if len(set(names)) != len(names):
            raise UsageError(f"board names must be unique, got {names}")
    except UsageError as e:
        print(f"jobscrape scrape: {e}", file=sys.stderr)
        return 2
    options = FetchOptions(concurrency=args.concurrency,
                           allow_private_networks=args.allow_private_networks)
    progress = _Progress(len(boards), enabled=not args.no_progress and sys.stderr.isatty())
    try:  # the store is opened, checked and locked before any fetch
        store = open_store(args.store)
        try:
            store.migrate()
            with progress:
                out = asyncio.run(run_once("local", boards, store, options, filters=filters,
                                           on_board_done=progress.advance, lock_timeout=5))
            postings = [p.to_dict() for p in store.open_postings("local")
                        if p.board in set(names)]
        finally:
            store.close()
    except (StoreError, StoreLocked) as e:
        print(f"jobscrape scrape: --store {args.store}: {e}", file=sys.stderr)
        return 3
    new_ids = set(out.diff.created)
    sys.stdout.write(render(postings, new_ids, args.format))
    for b in out.summary.boards:
        if b.state not in OK_STATES:
            print(f"board {b.name}: {b.state}: {b.message}", file=sys.stderr)
    return exit_code(out.summary.boards)


class _Progress:
    """Boards done / total and postings so far, on a terminal only."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.enabled, self.postings = total, enabled, 0
        self._p: Any = None
        self._task: Any = None

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import Progress

            self._p = Progress(transient=True, console=Console(stderr=True))
            self._p.__enter__()
            self._task = self._p.add_task("boards", total=self.total)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._p is not None:
            self._p.__exit__(*exc)

    def advance(self, fetch: BoardFetch) -> None:
        self.postings += len(fetch.postings)
        if self._p is not None:
            self._p.update(self._task, advance=1,
                           description=f"boards ({self.postings} postings)")
