"""Bounded runs benchmark (prints figures; asserts nothing).

The runner's pipeline (`run_once` into a fresh SQLite store) against the local board server
(a subprocess of its own, so its memory is not the run's), each scenario in a fresh
interpreter, so that its peak RSS is its own:

1. memory: eight gzip bombs (20 MiB on the wire each, inflating to 20 GiB) and a 200-page
   board of 19.6 MB pages (the hostile paged board that reached 2.2 GB before), next to a
   healthy board. The per-host rate limit is lifted (as if each board were on a host of its
   own) so that the bombs all inflate at once. Printed: the runner process's peak RSS, and the
   peak of the whole process tree (runner, fork server and parse workers) in RSS and in PSS
   (shared pages counted once, as the container's memory limit counts them), sampled every
   20 ms.
2. nested: a board whose description is 200,000 nested <div>s (4.6 MB escaped, the kind that
   took 353 s in the sanitiser) with a healthy board on the same run; once with the default
   limits (the description is refused before the sanitiser and kept as text), once with that
   pre-check turned off, so that the hard parse time limit has to end it.
3. with --rate-limit: eight healthy Lever boards of 3,200 postings (32 pages each) on one host
   at the default 2 requests per second (about 130 s): the per-board fetch budget (120 s) does
   not count waiting for the host's rate limit.

    .venv/bin/python bench/bounded_bench.py
    .venv/bin/python bench/bounded_bench.py --rate-limit
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from jobscrape.boards.base import BoardRef
from jobscrape.runner.fetch import FetchOptions
from jobscrape.runner.pipeline import run_once
from jobscrape.store import open_store

MiB = 1024 * 1024
GiB = 1024 * MiB
BOMBS = 8
FAULTS: dict[str, dict[str, Any]] = {
    **{f"bomb{i}": {"bomb": 20 * GiB} for i in range(BOMBS)},  # gzip: 20 MiB on the wire
    "bigpages": {"scale": 20_000, "pad": 190_000},  # lever: 200 pages of about 19.6 MB
    "deep": {"nested": 200_000},
    **{f"big{i}": {"scale": 3200} for i in range(8)},  # lever: 32 pages each
}


# --- the board server ---------------------------------------------------------------------
def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The board server as a subprocess with FAULTS set, once it answers; its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "jobscrape_dev.boardserver",
                                 "--port", str(port)], stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"board server exited: {log.read_text()[-800:]}")
        try:
            httpx.post(f"{base}/_faults", json=FAULTS, timeout=5).raise_for_status()
            return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("board server did not answer within 30 s")


def gh(base: str, token: str) -> BoardRef:
    return BoardRef(name=token, type="greenhouse", token=token,
                    url=f"{base}/v1/boards/{token}/jobs")


def lever(base: str, token: str) -> BoardRef:
    return BoardRef(name=token, type="lever", token=token, url=f"{base}/v0/postings/{token}")


# --- memory of a process tree -------------------------------------------------------------
def _tree(root: int) -> list[int]:
    """`root` and its descendants (the fork server and the parse workers it forks)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, ()))
    return out


def _kb(path: str, key: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeSampler:
    """Samples the RSS and PSS of this process and its descendants; keeps the peaks."""

    def __init__(self, every: float = 0.02) -> None:
        self.every = every
        self.peak_rss_kb = self.peak_pss_kb = self.processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            pids = _tree(me)
            self.processes = max(self.processes, len(pids))
            rss = sum(_kb(f"/proc/{p}/status", "VmRSS:") for p in pids)
            pss = sum(_kb(f"/proc/{p}/smaps_rollup", "Pss:") for p in pids)
            self.peak_rss_kb = max(self.peak_rss_kb, rss)
            self.peak_pss_kb = max(self.peak_pss_kb, pss)
            self._stop.wait(self.every)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# --- scenarios (each in a child interpreter) ----------------------------------------------
async def _run(boards: list[BoardRef], options: FetchOptions, db: Path) -> dict[str, Any]:
    store = open_store(db)
    store.migrate()
    done: dict[str, float] = {}
    t0 = time.monotonic()
    try:
        out = await run_once("bench", boards, store, options,
                             on_board_done=lambda f: done.setdefault(
                                 f.board.name, time.monotonic() - t0))
    finally:
        store.close()
    return {"seconds": time.monotonic() - t0,
            "boards": [{"name": b.name, "state": b.state, "message": b.message,
                        "postings": b.postings, "done_after": done.get(b.name)}
                       for b in out.summary.boards]}


def scenario(name: str, base: str, db: Path) -> dict[str, Any]:
    """One scenario's figures (run in a child interpreter)."""
    fast = FetchOptions(allow_private_networks=True, requests_per_second_per_host=1000)
    if name == "memory":
        boards = [lever(base, "bigpages"), *(gh(base, f"bomb{i}") for i in range(BOMBS)),
                  gh(base, "fine")]
        with TreeSampler() as tree:
            result = asyncio.run(_run(boards, fast, db))
        result.update(main_peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                      / 1024, tree_peak_rss_mib=tree.peak_rss_kb / 1024,
                      tree_peak_pss_mib=tree.peak_pss_kb / 1024, processes=tree.processes)
        return result
    if name == "nested":
        return asyncio.run(_run([gh(base, "deep"), gh(base, "fine")], fast, db))
    if name == "nested-unchecked":
        off = FetchOptions(allow_private_networks=True, requests_per_second_per_host=1000,
                           max_description_chars=10**9, max_description_depth=10**9)
        return asyncio.run(_run([gh(base, "deep"), gh(base, "fine")], off, db))
    if name == "rate-limit":
        return asyncio.run(_run([lever(base, f"big{i}") for i in range(8)],
                                FetchOptions(allow_private_networks=True), db))
    raise SystemExit(f"unknown scenario {name}")


def in_child(name: str, base: str, tmp: Path) -> dict[str, Any]:
    """A scenario in a fresh interpreter (its own peak RSS); its figures."""
    db = tmp / f"{name}.db"
    proc = subprocess.run([sys.executable, __file__, "--child", name, "--base", base,
                           "--db", str(db)], capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(f"{name}: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


# --- output -------------------------------------------------------------------------------
def print_boards(r: dict[str, Any], only: set[str] | None = None) -> None:
    for b in r["boards"]:
        if only is None or b["name"] in only:
            after = f"{b['done_after']:6.1f} s" if b["done_after"] is not None else "    -"
            print(f"    {b['name']:<10} {b['state']:<12} {after}  {b['message'][:90]}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rate-limit", action="store_true",
                   help="also 8 x 3,200 postings on one host at 2 requests/s (about 130 s)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--base", help=argparse.SUPPRESS)
    p.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(scenario(args.child, args.base, args.db)))
        return 0
    print(f"bounded runs: python {sys.version.split()[0]}, {os.cpu_count()} CPUs; defaults: "
          f"{FetchOptions().max_bytes // MiB} MiB per response, "
          f"{FetchOptions().max_board_bytes // MiB} MiB per board, "
          f"{FetchOptions().max_postings} postings, {FetchOptions().parse_timeout:g} s parse, "
          f"{FetchOptions().total_timeout:g} s fetch per board")
    with tempfile.TemporaryDirectory(prefix="bounded-bench-") as d:
        tmp = Path(d)
        proc, base = start_server(tmp / "boardserver.log")
        try:
            m = in_child("memory", base, tmp)
            print(f"\n1. eight gzip bombs (20 MiB on the wire, 20 GiB inflated) + a 200-page "
                  f"board of 19.6 MB pages + a healthy board: {m['seconds']:.1f} s")
            print(f"    peak RSS, runner process:            {m['main_peak_rss_mib']:6.0f} MiB")
            print(f"    peak RSS, runner + parse processes:  {m['tree_peak_rss_mib']:6.0f} MiB"
                  f"  ({m['processes']} processes)")
            print(f"    peak PSS, runner + parse processes:  {m['tree_peak_pss_mib']:6.0f} MiB")
            print_boards(m, {"bigpages", "bomb0", "bomb7", "fine"})

            n = in_child("nested", base, tmp)
            print(f"\n2a. 200,000 nested <div>s + a healthy board, default limits: "
                  f"{n['seconds']:.1f} s")
            print_boards(n)
            u = in_child("nested-unchecked", base, tmp)
            print(f"2b. the same with the pre-check off (the parse time limit ends it): "
                  f"{u['seconds']:.1f} s")
            print_boards(u)
            if args.rate_limit:
                r = in_child("rate-limit", base, tmp)
                print(f"\n3. 8 Lever boards x 3,200 postings on one host, 2 requests/s: "
                      f"{r['seconds']:.1f} s")
                print_boards(r)
        finally:
            proc.terminate()
            proc.wait(10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
