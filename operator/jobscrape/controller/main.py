"""`jobscrape operator`: parse options, configure the runtime, and run kopf."""

from __future__ import annotations

import argparse
import os

import kopf

from jobscrape import logs
from jobscrape.controller import naming


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The operator's command-line options."""
    scope = p.add_mutually_exclusive_group()
    scope.add_argument("-n", "--namespace", action="append", default=[],
                       help="watch this namespace (repeatable); default: all namespaces")
    scope.add_argument("-A", "--all-namespaces", action="store_true",
                       help="watch every namespace (the default)")
    peer = p.add_mutually_exclusive_group()
    peer.add_argument("--standalone", action="store_true", default=True,
                      help="run without kopf peering (default)")
    peer.add_argument("--peering", metavar="NAME",
                      help="coordinate with other operator replicas via kopf peering NAME")
    p.add_argument("--liveness", default="http://0.0.0.0:8080/healthz", metavar="URL",
                   help="liveness endpoint kopf serves ('' to disable)")
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
    p.add_argument("--metrics-port", type=int, default=8000,
                   help="serve Prometheus metrics on this port (0: off)")
    p.add_argument("--kubeconfig", default=None, help="default: $KUBECONFIG or in-cluster")


def run(args: argparse.Namespace) -> int:
    """Run the operator until it is stopped."""
    from jobscrape.controller import builders, operator

    logs.configure(args.log_format, args.log_level)
    if args.kubeconfig:
        os.environ["KUBECONFIG"] = args.kubeconfig  # kopf's own login reads it too
    rt = operator.RUNTIME
    rt.kubeconfig = args.kubeconfig
    rt.namespaces = tuple(args.namespace)
    rt.resync_seconds = args.resync_seconds
    rt.metrics_port = args.metrics_port or None
    rt.options = builders.OperatorOptions(runner_image=args.runner_image,
                                          allow_private_networks=args.allow_private_networks)
    kopf.run(
        standalone=args.peering is None,
        peering_name=args.peering,
        namespaces=list(args.namespace),
        clusterwide=not args.namespace,
        liveness_endpoint=args.liveness or None,
    )
    return 0
