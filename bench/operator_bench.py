"""Operator benchmark (prints figures; not a test).

On the local control plane (audit log on), in one run:

1. the floor: what converging N JobSources costs without an operator, i.e. creating, with the
   operator's client concurrency (REQUESTS requests in flight), the N JobSources and exactly
   the objects the operator makes for each (ServiceAccount, Role, RoleBinding, store claim,
   CronJob, built by the operator's own builders) plus one status patch per source;
2. the operator: start `jobscrape operator` as a ServiceAccount of its own, create N
   JobSources with the same client and concurrency, and time until every one is Ready (Ready
   needs its CronJob; a watch counts them); the operator's CPU seconds until then (per
   source), its API reads and writes per source (from the audit log, by its own user), the
   reads and writes of one idle resync, and its peak RSS.

    .venv/bin/python bench/operator_bench.py            # N=1000
    .venv/bin/python bench/operator_bench.py -n 5000
    .venv/bin/python bench/operator_bench.py -n 1000 --py-spy /tmp/op.txt  # + a profile
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from jobscrape.api.status import read_status
from jobscrape.api.validate import parse_spec
from jobscrape.controller import builders, decide, naming
from jobscrape.kubeclient import load_api_client
from jobscrape_dev.devcluster import processes
from jobscrape_dev.devcluster.controlplane import ControlPlane
from jobscrape_dev.devcluster.identity import service_account_kubeconfig

REPO = Path(__file__).resolve().parents[1]
REQUESTS = 32  # in flight: the operator's own limit (Runtime.requests)
SCHEDULE = "0 */6 * * *"
G, V, P = "jobscrape.io", "v1alpha1", "jobsources"
#: issue #12, measured on main before this benchmark's changes (floor: 1 CronJob per source)
BEFORE = {1000: "21.5 s, 16.8x the old floor (1.3 s), 14.8 s CPU, 7.0 writes and 1.0 reads "
                "per source, 0 idle-resync writes, 117 MiB peak RSS",
          5000: "147.7 s, 22.9x the old floor (6.5 s), 92.6 s CPU, 0 idle-resync writes, "
                "261 MiB peak RSS"}


def _source(ns: str, i: int) -> dict[str, Any]:
    return {"apiVersion": f"{G}/{V}", "kind": "JobSource",
            "metadata": {"name": f"src-{i:05d}", "namespace": ns},
            "spec": {"schedule": SCHEDULE,
                     "boards": [{"name": "gh", "type": "greenhouse", "token": f"t{i}"}]}}


def _proc_status(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _audit(audit: Path, user: str, start_line: int, verbs: tuple[str, ...],
           end_line: int | None = None) -> tuple[int, collections.Counter[str]]:
    """(lines in the log, requests of `user` with these verbs from `start_line` (to
    `end_line`) by 'verb resource[/subresource]')."""
    per: collections.Counter[str] = collections.Counter()
    lines = audit.read_text().splitlines()
    for line in lines[start_line:end_line]:
        ev = json.loads(line)
        if ev.get("user", {}).get("username") == user and ev.get("verb") in verbs:
            ref = ev.get("objectRef", {})
            per[f"{ev['verb']} {ref.get('resource')}"
                f"{'/' + ref['subresource'] if ref.get('subresource') else ''}"] += 1
    return len(lines), per


def _first_resync(audit: Path, user: str, start_line: int) -> tuple[int, int | None]:
    """Audit lines [begin, end) of the first resync `user` began after `start_line`: from its
    first list of JobSources without a `continue` token to the next such list (None: to the
    end of the log). Pages of a resync still going at `start_line` are not its."""
    begin: int | None = None
    for i, line in enumerate(audit.read_text().splitlines()[start_line:], start_line):
        ev = json.loads(line)
        if (ev.get("user", {}).get("username") == user and ev.get("verb") == "list"
                and ev.get("objectRef", {}).get("resource") == P
                and "continue=" not in ev.get("requestURI", "")):
            if begin is not None:
                return begin, i
            begin = i
    return (start_line if begin is None else begin), None


WRITES = ("create", "update", "patch", "delete")
READS = ("get", "list")


def _fmt(per: collections.Counter[str], n: int = 1) -> str:
    total = sum(per.values())
    parts = ", ".join(f"{k}: {v}" for k, v in sorted(per.items()))
    return f"{total / n:.2f} ({parts})" if n != 1 else f"{total} ({parts or 'none'})"


class Api:
    """A small aiohttp client as cluster admin, REQUESTS in flight (the bench's own client: as
    cheap per request as the operator's, so the floor is not slowed by its client)."""

    def __init__(self, cp: ControlPlane) -> None:
        ctx = ssl.create_default_context(cafile=str(cp.pki.ca_cert))
        ctx.load_cert_chain(str(cp.pki.admin.cert), str(cp.pki.admin.key))
        self.session = aiohttp.ClientSession(
            base_url=cp.server, connector=aiohttp.TCPConnector(limit=0, ssl=ctx),
            timeout=aiohttp.ClientTimeout(total=None, sock_read=600))
        self.slots = asyncio.Semaphore(REQUESTS)

    async def call(self, method: str, path: str, body: Any = None,
                   ctype: str = "application/json") -> dict[str, Any]:
        async with self.slots, self.session.request(
                method, path, data=None if body is None else json.dumps(body),
                headers={"Content-Type": ctype}) as resp:
            raw = await resp.read()
            if resp.status >= 400:
                raise RuntimeError(f"{method} {path}: {resp.status} {raw[:300]!r}")
            return json.loads(raw)

    async def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        ns = obj["metadata"]["namespace"]
        group_version = obj["apiVersion"]
        plural = {"JobSource": P, "ServiceAccount": "serviceaccounts", "Role": "roles",
                  "RoleBinding": "rolebindings", "PersistentVolumeClaim":
                  "persistentvolumeclaims", "CronJob": "cronjobs"}[obj["kind"]]
        root = "/api" if group_version == "v1" else "/apis"
        return await self.call("POST", f"{root}/{group_version}/namespaces/{ns}/{plural}", obj)

    async def close(self) -> None:
        await self.session.close()


async def _floor_one(api: Api, i: int) -> None:
    """What the operator's path costs the API for one source, without the operator."""
    src_obj = await api.create(_source("floor", i))
    m = src_obj["metadata"]
    src = builders.SourceRef(m["namespace"], m["name"], m["uid"])
    spec, _ = parse_spec(src_obj["spec"])
    assert spec is not None
    objs = [builders.build_service_account(src), builders.build_role(src),
            builders.build_role_binding(src), builders.build_store_claim(src, spec),
            builders.build_cronjob(src, spec, builders.OperatorOptions())]
    await asyncio.gather(*(api.create(o) for o in objs if o is not None))
    obs = decide.Observed(generation=m.get("generation"), cronjob_name=naming.cronjob_name(
        src.name), board_count=1, schedule=SCHEDULE, time_zone=None, suspended=False,
        cronjob_status={}, run_now_handled=None)
    status = decide.operator_status(read_status({}), obs, [], datetime.now(UTC))
    await api.call("PATCH", f"/apis/{G}/{V}/namespaces/floor/{P}/{src.name}/status",
                   {"metadata": {"resourceVersion": m["resourceVersion"]},
                    "status": decide.status_patch({}, status)},
                   "application/merge-patch+json")


async def _ready_watch(api: Api, ns: str, n: int, done: asyncio.Event) -> None:
    """Watch the namespace's JobSources until `n` of them are Ready=True."""
    ready: set[str] = set()
    rv = (await api.call("GET", f"/apis/{G}/{V}/namespaces/{ns}/{P}?limit=1"))[
        "metadata"]["resourceVersion"]
    while len(ready) < n:
        path = (f"/apis/{G}/{V}/namespaces/{ns}/{P}?watch=1&resourceVersion={rv}"
                "&allowWatchBookmarks=true&timeoutSeconds=600")
        async with api.session.get(path) as resp:
            async for line in resp.content:
                ev = json.loads(line)
                obj = ev["object"]
                rv = obj["metadata"].get("resourceVersion", rv)
                if ev["type"] == "BOOKMARK":
                    continue
                conds = (obj.get("status") or {}).get("conditions") or []
                if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds):
                    ready.add(obj["metadata"]["name"])
                if len(ready) >= n:
                    break
    done.set()


async def _timed(api: Api, fn: Any, n: int) -> float:
    t0 = time.perf_counter()
    await asyncio.gather(*(fn(api, i) for i in range(n)))
    return time.perf_counter() - t0


async def _create_sources(api: Api, n: int) -> tuple[float, float]:
    """(seconds to create the N sources, seconds until all are Ready), both from the start."""
    done = asyncio.Event()
    watch = asyncio.create_task(_ready_watch(api, "bench", n, done))
    await asyncio.sleep(0.5)  # the watch is open
    t0 = time.perf_counter()
    await asyncio.gather(*(api.create(_source("bench", i)) for i in range(n)))
    created = time.perf_counter() - t0
    await done.wait()
    await watch
    return created, time.perf_counter() - t0


# the operator with tracemalloc on: SIGUSR1 appends where its memory is to `out`
_TRACED = """
import os, signal, sys, tracemalloc
tracemalloc.start(int(os.environ.get("BENCH_TRACE_DEPTH", "1")))
def dump(*_):
    snap = tracemalloc.take_snapshot()
    with open({out!r}, "a") as f:
        now, peak = tracemalloc.get_traced_memory()
        f.write(f"traced: {{now / 2**20:.1f}} MiB now, {{peak / 2**20:.1f}} MiB peak\\n")
        for kind in ("filename", "lineno"):
            f.write(f"-- by {{kind}}\\n")
            for st in snap.statistics(kind)[:30]:
                f.write(f"{{st.size / 2**20:8.2f}} MiB {{st.count:8d}} {{st.traceback[0]}}\\n")
        f.write("-- biggest tracebacks\\n")
        for st in snap.statistics("traceback")[:8]:
            f.write(f"{{st.size / 2**20:8.2f}} MiB {{st.count:8d}}\\n")
            for line in st.traceback.format()[-24:]:
                f.write(f"    {{line}}\\n")
signal.signal(signal.SIGUSR1, dump)
from jobscrape import cli
sys.exit(cli.main({argv!r}))
"""


def _py_spy(pid: int, out: Path) -> subprocess.Popen[bytes] | None:
    exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(exe).exists():
        print("py-spy not found (pip install py-spy): no profile", flush=True)
        return None
    return subprocess.Popen([exe, "record", "--pid", str(pid), "--format", "raw", "--rate",
                             "200", "--output", str(out), "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _summarise_profile(path: Path, top: int = 25) -> None:
    """Sample shares by owner (jobscrape, kopf, aiohttp or the loop), and by function (own
    and inclusive time)."""
    self_: collections.Counter[str] = collections.Counter()
    incl: collections.Counter[str] = collections.Counter()
    pkgs: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        c = int(count)
        total += c
        frames = [f for f in stack.split(";") if not f.startswith("process ")
                  and not f.startswith("thread ")]
        if not frames:
            continue
        self_[frames[-1]] += c
        for f in set(frames):
            incl[f] += c
        # whose work a sample is: the innermost frame of jobscrape, kopf or aiohttp (what
        # runs below it, json or ssl, is on its behalf); none: the event loop itself
        owner = "event loop (select, callbacks)"
        for f in reversed(frames):
            where = "/" + f.rsplit("(", 1)[-1]  # "func (pkg/module.py:line)"
            if any(r in where for r in ("/kopf/_core/reactor/running.py", "/jobscrape/cli.py",
                                        "/jobscrape/controller/main.py")):
                continue  # the roots every task runs under
            hit = next((pkg for pkg in ("jobscrape", "kopf", "aiohttp")
                        if f"/{pkg}/" in where), None)
            if hit:
                owner = hit
                break
        pkgs[owner] += c
    if not total:
        print("profile: no samples")
        return
    print(f"\nprofile of the operator during convergence ({total} samples, py-spy):")
    print("  samples by whose work they are: " + ", ".join(
        f"{k} {v / total:.0%}" for k, v in pkgs.most_common()))
    print("  top functions by own time:")
    for f, c in self_.most_common(top):
        print(f"    {c / total:6.1%}  {f[:150]}")
    print("  top functions by inclusive time:")
    for f, c in incl.most_common(top):
        print(f"    {c / total:6.1%}  {f[:150]}")


async def _setup(cp: ControlPlane) -> Api:
    """The bench's client on a fresh control plane, with the namespaces and the CRD."""
    api = Api(cp)
    for ns in ("bench", "floor"):
        await api.call("POST", "/api/v1/namespaces", {"metadata": {"name": ns}})
    crd = yaml.safe_load((REPO / "crds" / "jobsources.jobscrape.io.yaml").read_text())
    await api.call("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
    await asyncio.sleep(3)
    return api


async def _amain(args: argparse.Namespace) -> int:
    n = args.n
    # the floor on a control plane of its own (same settings, audit log on too), so that the
    # operator's run starts from the same empty state and never sees the floor's objects
    with ControlPlane(audit=True) as cp:
        api = await _setup(cp)
        try:
            floor = await _timed(api, _floor_one, n)
        finally:
            await api.close()
    print(f"floor: {n} JobSources, each with its ServiceAccount, Role, RoleBinding, claim and "
          f"CronJob created and one status patch, directly: {floor:.1f}s ({n * 7 / floor:.0f} "
          f"requests/s, {REQUESTS} in flight)", flush=True)
    with ControlPlane(audit=True) as cp, tempfile.TemporaryDirectory() as tmp:
        admin = load_api_client(str(cp.kubeconfig))
        api = await _setup(cp)
        try:
            kc = service_account_kubeconfig(admin, cp.server, cp.pki.ca_cert,
                                             Path(tmp) / "op.kubeconfig", "jobscrape-system",
                                             "jobscrape-operator", cluster_role="cluster-admin")
            user = "system:serviceaccount:jobscrape-system:jobscrape-operator"
            log = Path(tmp) / "operator.log"
            argv = ["operator", f"--kubeconfig={kc}", "--health-bind-address=",
                    "--metrics-bind-address=", f"--resync-seconds={args.resync_seconds}",
                    "--log-level=WARNING"]
            start = ([sys.executable, "-c", _TRACED.format(out=args.tracemalloc, argv=argv)]
                     if args.tracemalloc else [sys.executable, "-m", "jobscrape.cli", *argv])
            op = processes.spawn(start, log)
            spy = None
            try:
                await asyncio.sleep(4)  # operator start-up, outside the timed part
                if op.poll() is not None:
                    print(log.read_text()[-3000:])
                    return 1
                idle_rss = _proc_status(op.pid, "VmRSS")
                cpu0 = _cpu_seconds(op.pid)
                start_mark, _ = _audit(cp.audit_log, user, 0, WRITES)
                if args.py_spy:
                    spy = _py_spy(op.pid, Path(args.py_spy))
                if args.tracemalloc:  # where the memory is before any source
                    os.kill(op.pid, signal.SIGUSR1)
                    await asyncio.sleep(2)
                create_time, total = await _create_sources(api, n)
                busy = _cpu_seconds(op.pid) - cpu0
                if spy is not None:
                    spy.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
                    spy.wait()
                if args.tracemalloc:
                    os.kill(op.pid, signal.SIGUSR1)
                print(f"operator: {n} JobSources created in {create_time:.1f}s; every one "
                      f"Ready (its CronJob made) after {total:.1f}s: {total / floor:.2f}x "
                      f"the floor (goal: 1.5x)", flush=True)
                print(f"operator CPU until then: {busy:.1f}s, {busy / n * 1000:.1f} ms per "
                      f"source (one Python process)", flush=True)
                await asyncio.sleep(5)  # let in-flight events settle
                mark, per = _audit(cp.audit_log, user, start_mark, WRITES)
                print(f"writes per JobSource: {_fmt(per, n)}", flush=True)
                _, reads = _audit(cp.audit_log, user, start_mark, READS)
                print(f"reads per JobSource: {_fmt(reads, n)}", flush=True)
                await asyncio.sleep(args.resync_seconds + 10)
                _, idle = _audit(cp.audit_log, user, mark, WRITES)
                begin, end = _first_resync(cp.audit_log, user, mark)
                _, idle_reads = _audit(cp.audit_log, user, begin, READS, end)
                print(f"one idle resync ({args.resync_seconds:.0f}s + 10s watched): writes "
                      f"{_fmt(idle)}, reads {_fmt(idle_reads)}", flush=True)
                if args.tracemalloc:
                    os.kill(op.pid, signal.SIGUSR1)
                    await asyncio.sleep(5)
                print(f"operator RSS: {idle_rss:.0f} MiB idle after start-up, peak "
                      f"{_proc_status(op.pid, 'VmHWM'):.0f} MiB, now "
                      f"{_proc_status(op.pid, 'VmRSS'):.0f} MiB (goal: peak <= 120 MiB at "
                      f"5,000)", flush=True)
                if n in BEFORE:
                    print(f"before (issue #12, -n {n}): {BEFORE[n]}")
                lines = log.read_text().splitlines()
                for level in ("ERROR", "WARNING"):
                    hits = [x for x in lines if level in x]
                    if hits:
                        print(f"operator log: {len(hits)} {level} lines, e.g. {hits[0][:300]}")
                if args.log:
                    shutil.copy(log, args.log)
            finally:
                if spy is not None and spy.poll() is None:
                    spy.send_signal(signal.SIGINT)
                    spy.wait()
                processes.stop(op)
        finally:
            await api.close()
    if args.py_spy and Path(args.py_spy).exists():
        _summarise_profile(Path(args.py_spy))
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-n", type=int, default=1000)
    p.add_argument("--resync-seconds", type=float, default=60.0)
    p.add_argument("--log", metavar="FILE", help="keep the operator's log here")
    p.add_argument("--tracemalloc", metavar="FILE",
                   help="run the operator with tracemalloc: where its memory is, when all "
                        "are Ready and after the idle resync, into FILE (slows it down)")
    p.add_argument("--py-spy", metavar="FILE",
                   help="profile the operator during convergence with py-spy into FILE")
    return asyncio.run(_amain(p.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
