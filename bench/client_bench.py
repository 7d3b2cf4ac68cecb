"""Kubernetes client benchmark (prints figures; not a test): what one API request costs the
operator's process with each client it could use in its hot path.

Against the local control plane, as a ServiceAccount with a bearer token (as the operator
runs), each option runs in a fresh interpreter and makes N GETs of one CronJob and N
server-side-apply PATCHes of it, CONCURRENCY requests in flight. Printed per option: the
memory its import adds (to a bare interpreter, and on top of what the operator loads anyway:
aiohttp, kopf's HTTP client, and the official `kubernetes` package, which kopf, configuration
loading, quantities and the runner keep; note that kopf also imports kubernetes_asyncio
whenever it is installed), and CPU microseconds of the client process per request.

    .venv/bin/python bench/client_bench.py            # N=2000, 32 in flight
    .venv/bin/python bench/client_bench.py -n 5000 --only aiohttp httpx

Options:
  official-threads  the official client's typed API (models), sync, on a 32-thread pool
  kube-threads      jobscrape.kubeclient.Kube (the official ApiClient, raw call_api, dicts):
                    the operator's path before this benchmark, on a 32-thread pool
  kube-one-thread   the same calls in one thread, one at a time (no pool, no overlap)
  asyncio-typed     kubernetes_asyncio, the official client's generated asyncio sibling, typed
  asyncio-raw       kubernetes_asyncio's ApiClient.call_api without models (dicts)
  aiohttp           a plain aiohttp session made from the kopf.ConnectionInfo the operator's
                    login handler returns: what kopf's own API calls cost (kopf's client
                    module is private)
  httpx             an httpx.AsyncClient (a dependency already: the runner fetches with it)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

OPTIONS = ("official-threads", "kube-threads", "kube-one-thread", "asyncio-typed",
           "asyncio-raw", "aiohttp", "httpx")
NS, NAME = "clientbench", "target"
FIELD_MANAGER = "client-bench"
PATH = f"/apis/batch/v1/namespaces/{NS}/cronjobs"


def _cronjob() -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": NAME, "namespace": NS,
                         "labels": {"app.kubernetes.io/managed-by": "jobscrape"}},
            "spec": {"schedule": "0 */6 * * *", "jobTemplate": {"spec": {"template": {"spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "runner", "image": "ghcr.io/jobscrape/jobscrape:0.1.0",
                                "args": ["run"]}]}}}}}}


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _cpu() -> float:
    t = os.times()
    return t.user + t.system  # every thread of this process


# --- the child: one option, fresh interpreter ------------------------------------------------

async def _bounded(n: int, concurrency: int, call: Callable[[], Awaitable[None]]) -> None:
    sem = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with sem:
            await call()
    await asyncio.gather(*(one() for _ in range(n)))


def _threaded(n: int, concurrency: int, call: Callable[[], None]) -> None:
    import concurrent.futures

    async def run() -> None:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(concurrent.futures.ThreadPoolExecutor(concurrency))
        await _bounded(n, concurrency, lambda: asyncio.to_thread(call))
    asyncio.run(run())


def _apply_body() -> bytes:
    return json.dumps(_cronjob()).encode()


def _child(option: str, kubeconfig: str, n: int, concurrency: int) -> dict[str, Any]:
    base = _rss_kib()
    with_operator = option.startswith("+")
    option = option.lstrip("+")
    if with_operator:  # what the operator has loaded anyway
        import aiohttp  # noqa: F401
        import kubernetes  # noqa: F401
    before = _rss_kib()
    t_import = time.perf_counter()
    get: Callable[[], Any]
    apply: Callable[[], Any]
    sync = option in ("official-threads", "kube-threads", "kube-one-thread")
    query = f"fieldManager={FIELD_MANAGER}&force=true"
    if option == "official-threads":
        from kubernetes import client, config

        cfg = client.Configuration()
        config.load_kube_config(config_file=kubeconfig, client_configuration=cfg)
        cfg.connection_pool_maxsize = concurrency
        batch = client.BatchV1Api(client.ApiClient(cfg))
        body = _cronjob()
        get = lambda: batch.read_namespaced_cron_job(NAME, NS)  # noqa: E731
        apply = lambda: batch.patch_namespaced_cron_job(  # noqa: E731
            NAME, NS, body, field_manager=FIELD_MANAGER, force=True,
            _content_type="application/apply-patch+yaml")
    elif option in ("kube-threads", "kube-one-thread"):
        from jobscrape.kubeclient import Kube, load_api_client

        kube = Kube(load_api_client(kubeconfig), field_manager=FIELD_MANAGER)
        get = lambda: kube.get("batch/v1", "CronJob", NS, NAME)  # noqa: E731
        apply = lambda: kube.apply(_cronjob())  # noqa: E731
    after_import = _rss_kib()
    import_seconds = time.perf_counter() - t_import
    if sync:
        c0, w0 = _cpu(), time.perf_counter()
        if option == "kube-one-thread":
            for _ in range(n):
                get()
        else:
            _threaded(n, concurrency, get)
        c1, w1 = _cpu(), time.perf_counter()
        if option == "kube-one-thread":
            for _ in range(n):
                apply()
        else:
            _threaded(n, concurrency, apply)
        c2, w2 = _cpu(), time.perf_counter()
    else:
        c0 = c1 = c2 = w0 = w1 = w2 = 0.0

        async def run() -> tuple[int, float]:
            nonlocal c0, c1, c2, w0, w1, w2
            t = time.perf_counter()
            aget, aapply, close = await _async_client(option, kubeconfig, concurrency, query)
            rss, secs = _rss_kib(), time.perf_counter() - t
            await aget()  # connect outside the timed part, as the sync clients do lazily too
            c0, w0 = _cpu(), time.perf_counter()
            await _bounded(n, concurrency, aget)
            c1, w1 = _cpu(), time.perf_counter()
            await _bounded(n, concurrency, aapply)
            c2, w2 = _cpu(), time.perf_counter()
            await close()
            return rss, secs
        after_import, import_seconds = asyncio.run(run())
    return {"option": option, "with_operator": with_operator,
            "import_mib": (after_import - before) / 1024, "base_mib": base / 1024,
            "import_seconds": import_seconds,
            "get_cpu_us": (c1 - c0) / n * 1e6, "apply_cpu_us": (c2 - c1) / n * 1e6,
            "get_wall": w1 - w0, "apply_wall": w2 - w1, "peak_mib": _peak_mib()}


def _peak_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def _async_client(option: str, kubeconfig: str, concurrency: int, query: str
                        ) -> tuple[Callable[[], Awaitable[None]], Callable[[], Awaitable[None]],
                                   Callable[[], Awaitable[None]]]:
    """(get, apply, close) coroutine functions of an async option."""
    body = _apply_body()
    if option in ("asyncio-typed", "asyncio-raw"):
        from kubernetes_asyncio import client as aclient
        from kubernetes_asyncio import config as aconfig

        cfg = aclient.Configuration()
        await aconfig.load_kube_config(config_file=kubeconfig, client_configuration=cfg)
        cfg.connection_pool_maxsize = concurrency
        api = aclient.ApiClient(cfg)
        if option == "asyncio-typed":
            batch = aclient.BatchV1Api(api)
            obj = _cronjob()

            async def tget() -> None:
                await batch.read_namespaced_cron_job(NAME, NS)

            async def tapply() -> None:
                await batch.patch_namespaced_cron_job(
                    NAME, NS, obj, field_manager=FIELD_MANAGER, force=True,
                    _content_type="application/apply-patch+yaml")
            return tget, tapply, api.close

        raw_body = _cronjob()

        async def rcall(method: str, path: str, payload: Any, ctype: str) -> None:
            resp = await api.call_api(
                path, method, header_params={"Accept": "application/json",
                                             "Content-Type": ctype},
                body=payload, auth_settings=["BearerToken"], _preload_content=False,
                _return_http_data_only=True)
            json.loads(await resp.read())
            resp.release()

        async def rget() -> None:
            await rcall("GET", f"{PATH}/{NAME}", None, "application/json")

        async def rapply() -> None:
            await rcall("PATCH", f"{PATH}/{NAME}?{query}", raw_body,
                        "application/apply-patch+yaml")
        return rget, rapply, api.close
    if option == "aiohttp":
        import aiohttp

        from jobscrape.controller import operator

        operator.RUNTIME.kubeconfig = kubeconfig
        info = operator._login()
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, ssl=info.as_ssl_context()),
            headers=info.as_http_headers())
        base = info.server.rstrip("/")

        async def hcall(method: str, url: str, payload: bytes | None, ctype: str) -> None:
            async with session.request(method, url, data=payload,
                                       headers={"Content-Type": ctype}) as resp:
                json.loads(await resp.read())
                assert resp.status < 400, resp.status

        async def hget() -> None:
            await hcall("GET", f"{base}{PATH}/{NAME}", None, "application/json")

        async def happly() -> None:
            await hcall("PATCH", f"{base}{PATH}/{NAME}?{query}", body,
                        "application/apply-patch+yaml")
        return hget, happly, session.close
    if option == "httpx":
        import ssl

        import httpx

        from jobscrape.controller import operator

        operator.RUNTIME.kubeconfig = kubeconfig
        info = operator._login()
        ctx = ssl.create_default_context(cafile=info.ca_path)
        cx = httpx.AsyncClient(base_url=info.server, verify=ctx, headers={
            "Authorization": f"Bearer {info.token}"}, limits=httpx.Limits(
                max_connections=concurrency, max_keepalive_connections=concurrency))

        async def xcall(method: str, url: str, payload: bytes | None, ctype: str) -> None:
            resp = await cx.request(method, url, content=payload,
                                    headers={"Content-Type": ctype})
            json.loads(resp.content)
            assert resp.status_code < 400, resp.status_code

        async def xget() -> None:
            await xcall("GET", f"{PATH}/{NAME}", None, "application/json")

        async def xapply() -> None:
            await xcall("PATCH", f"{PATH}/{NAME}?{query}", body, "application/apply-patch+yaml")
        return xget, xapply, cx.aclose
    raise SystemExit(f"unknown option {option}")


# --- the parent: control plane, one child per option, the table ------------------------------

def _import_only(option: str, with_operator: bool) -> float:
    """MiB an option's import adds (fresh interpreter; on top of what the operator loads
    anyway if asked: aiohttp and kubernetes)."""
    mods = {"official-threads": "kubernetes", "kube-threads": "jobscrape.kubeclient",
            "kube-one-thread": "jobscrape.kubeclient",
            "asyncio-typed": "kubernetes_asyncio.client", "asyncio-raw":
            "kubernetes_asyncio.client", "aiohttp": "aiohttp", "httpx": "httpx"}[option]
    # kopf's own dependencies; not kopf itself: it imports kubernetes_asyncio too when that is
    # installed (kopf._cogs.helpers.thirdparty), which would hide that option's cost
    pre = "import aiohttp, kubernetes\n" if with_operator else ""
    code = (pre + "from pathlib import Path\n"
            "def rss():\n"
            " return next(int(x.split()[1]) for x in Path('/proc/self/status').read_text()"
            ".splitlines() if x.startswith('VmRSS:'))\n"
            f"a = rss()\nimport {mods}\nprint((rss() - a) / 1024)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip())


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-n", type=int, default=2000, help="GETs, and as many applies, per option")
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--only", nargs="*", choices=OPTIONS, default=list(OPTIONS))
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--kubeconfig", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.kubeconfig, args.n, args.concurrency)))
        return 0

    from kubernetes import client

    from jobscrape.kubeclient import Kube, load_api_client
    from jobscrape_dev.devcluster.controlplane import ControlPlane
    from jobscrape_dev.devcluster.identity import service_account_kubeconfig

    with ControlPlane() as cp, tempfile.TemporaryDirectory() as tmp:
        admin = load_api_client(str(cp.kubeconfig))
        client.CoreV1Api(admin).create_namespace({"metadata": {"name": NS}})
        Kube(admin).create(_cronjob())
        kc = service_account_kubeconfig(admin, cp.server, cp.pki.ca_cert,
                                         Path(tmp) / "sa.kubeconfig", "clientbench-system",
                                         "bench", cluster_role="cluster-admin")
        rows = []
        for option in args.only:
            out = subprocess.run([sys.executable, __file__, "--child", option,
                                  "--kubeconfig", str(kc), "-n", str(args.n),
                                  "--concurrency", str(args.concurrency)],
                                 capture_output=True, text=True)
            if out.returncode != 0:
                print(f"{option}: failed\n{out.stderr[-3000:]}", file=sys.stderr)
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            r["import_alone"] = _import_only(option, False)
            r["import_extra"] = _import_only(option, True)
            rows.append(r)
            print(f"  {option}: done", file=sys.stderr, flush=True)
    n = args.n
    print(f"\n{n} GETs and {n} server-side applies of one CronJob, {args.concurrency} in "
          "flight, bearer token over TLS; CPU of the client process (all threads)\n")
    print("| client | import alone | import beyond aiohttp + kubernetes | CPU per GET | "
          "CPU per apply | GETs/s | applies/s |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['option']} | {r['import_alone']:.1f} MiB | {r['import_extra']:.1f} MiB | "
              f"{r['get_cpu_us']:.0f} µs | {r['apply_cpu_us']:.0f} µs | "
              f"{n / r['get_wall']:.0f} | {n / r['apply_wall']:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
