"""`jobscrape operator`: parse options, configure the runtime, and run kopf.

Light at import (the command line imports it to build its parser): kopf and the handlers load
in `run` only."""

from __future__ import annotations

import argparse
import os
import re
import sys

from jobscrape import heap, logs
from jobscrape.api.contract import MAX_SHARDS
from jobscrape.controller import naming
from jobscrape.controller.policy import BOUNDED_RESOURCES, RunnerPolicy, parse_image_list
from jobscrape.kubeapi import parse_quantity


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The operator's command-line options."""
    scope = p.add_mutually_exclusive_group()
    scope.add_argument("-n", "--namespace", action="append", default=[],
                       help="watch this namespace (repeatable); default: all namespaces")
    scope.add_argument("-A", "--all-namespaces", action="store_true",
                       help="watch every namespace (the default)")
    p.add_argument("--health-bind-address", default="127.0.0.1:8080", metavar="HOST:PORT",
                   help="where kopf serves /healthz for liveness probes ('' turns it off; "
                        "in a pod use 0.0.0.0:8080)")
    p.add_argument("--log-format", choices=("text", "json"), default="text")
    p.add_argument("--log-level", default="INFO")
    p.add_argument("--runner-image", default=os.environ.get(
        "JOBSCRAPE_RUNNER_IMAGE", naming.DEFAULT_RUNNER_IMAGE),
        help="image of the runner pods when a JobSource does not name one")
    p.add_argument("--allow-private-networks", action="store_true",
                   default=os.environ.get("JOBSCRAPE_ALLOW_PRIVATE_NETWORKS") == "1",
                   help="let runs fetch boards on loopback and private addresses")
    p.add_argument("--resync-seconds", type=float, default=300.0,
                   help="reconcile every source this often, besides reacting to changes")
    p.add_argument("--metrics-bind-address", default="127.0.0.1:8000", metavar="HOST:PORT",
                   help="where to serve Prometheus /metrics ('' turns it off; in a pod use "
                        "0.0.0.0:8000)")
    pol = p.add_argument_group("runner policy (what a JobSource may make its pods do)")
    pol.add_argument("--allowed-runner-images", default=os.environ.get(
        "JOBSCRAPE_ALLOWED_RUNNER_IMAGES", ""), metavar="LIST",
        help="images a JobSource may pick with spec.run.image besides --runner-image: comma-"
             "separated, an entry ending in '*' is a prefix (default: none)")
    defaults = RunnerPolicy()
    for res in BOUNDED_RESOURCES:
        pol.add_argument(f"--max-runner-{res}", default=defaults.max_resources[res],
                         metavar="QUANTITY",
                         help=f"largest {res} request or limit a JobSource may set")
    pol.add_argument("--max-runner-shards", type=int, default=defaults.max_shards,
                     metavar="N", help="most pods one run may use (spec.run.shards); each "
                                       "pod is bounded by the limits above")
    pol.add_argument("--secret-name-prefix", default=os.environ.get(
        "JOBSCRAPE_SECRET_NAME_PREFIX", defaults.secret_name_prefix), metavar="PREFIX",
        help="JobSources may only reference Secrets whose names start with this ('' allows "
             "any Secret of their namespace)")
    p.add_argument("--runner-env", action="append", default=[], metavar="NAME=VALUE",
                   help="an environment variable of every runner pod (repeatable), e.g. "
                        "PUBSUB_EMULATOR_HOST=10.0.0.5:8085 or HTTPS_PROXY=...; names "
                        "starting with JOBSCRAPE_ are the operator's own and refused")
    p.add_argument("--kubeconfig", default=None, help="default: $KUBECONFIG or in-cluster")


def parse_runner_env(items: list[str]) -> tuple[tuple[str, str], ...]:
    """--runner-env NAME=VALUE items as pairs; SystemExit naming the bad item otherwise."""
    out = []
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise SystemExit(f"--runner-env {item.split('=')[0]!r}: give NAME=VALUE with a "
                             "valid variable name")
        if name.upper().startswith("JOBSCRAPE_"):
            raise SystemExit(f"--runner-env {name}: JOBSCRAPE_ variables are set by the "
                             "operator itself")
        out.append((name, value))
    return tuple(out)


def run(args: argparse.Namespace) -> int:
    """Run the operator until it is stopped."""
    without_official_client()
    import kopf

    from jobscrape.controller import apiclient, builders, operator
    from jobscrape.controller.kopfmemory import EventOnlyMemories

    logs.configure(args.log_format, args.log_level)
    heap.return_large_blocks()  # list pages and watch bodies of thousands of sources
    apiclient.small_tls_read_buffers()
    if args.kubeconfig:
        os.environ["KUBECONFIG"] = args.kubeconfig  # kopf's own login reads it too
    rt = operator.RUNTIME
    rt.kubeconfig = args.kubeconfig
    rt.namespaces = tuple(args.namespace)
    rt.resync_seconds = args.resync_seconds
    rt.metrics_address = bind_address(args.metrics_bind_address, "--metrics-bind-address")
    health = bind_address(args.health_bind_address, "--health-bind-address")
    rt.options = builders.OperatorOptions(
        runner_image=args.runner_image, allow_private_networks=args.allow_private_networks,
        policy=runner_policy(args), runner_env=parse_runner_env(args.runner_env))
    kopf.run(
        standalone=True,  # one replica (the Deployment's strategy is Recreate)
        namespaces=list(args.namespace),
        clusterwide=not args.namespace,
        liveness_endpoint=f"http://{health[0]}:{health[1]}/healthz" if health else None,
        memories=EventOnlyMemories(),
    )
    return 0


def without_official_client() -> None:
    """Keep the official `kubernetes` package out of this process: kopf imports it whenever it
    is installed (for its model classes, which this operator never passes), and that import
    alone is about 18 MiB of the operator's memory. The operator talks to the API through
    kopf's session (controller/apiclient.py) and loads its credentials with the official
    client in a process of its own (jobscrape.kubelogin). No-op when already imported."""
    sys.modules.setdefault("kubernetes", None)  # type: ignore[arg-type]


def bind_address(value: str, option: str) -> tuple[str, int] | None:
    """HOST:PORT as (host, port); None for '' or '0' (off). SystemExit naming the option on
    anything else."""
    if value in ("", "0"):
        return None
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise SystemExit(f"{option}: {value!r} is not HOST:PORT (e.g. 127.0.0.1:8000)")
    return (host.strip("[]") or "0.0.0.0"), int(port)


def runner_policy(args: argparse.Namespace) -> RunnerPolicy:
    """The runner policy from the command line; SystemExit naming a bad option."""
    maxima = {}
    for res in BOUNDED_RESOURCES:
        raw = getattr(args, f"max_runner_{res.replace('-', '_')}")
        try:
            parse_quantity(raw)
        except ValueError:
            raise SystemExit(f"--max-runner-{res}: {raw!r} is not a Kubernetes quantity"
                             ) from None
        maxima[res] = raw
    if not 1 <= args.max_runner_shards <= MAX_SHARDS:
        raise SystemExit(f"--max-runner-shards: {args.max_runner_shards} is outside "
                         f"1..{MAX_SHARDS}")
    return RunnerPolicy(allowed_images=parse_image_list(args.allowed_runner_images),
                        max_resources=maxima, secret_name_prefix=args.secret_name_prefix,
                        max_shards=args.max_runner_shards)
