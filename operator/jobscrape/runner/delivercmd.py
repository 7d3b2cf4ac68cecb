"""`jobscrape deliver`: deliver a JobSource's pending notifications now, without a scrape
(after fixing a target, or to retry dead changes), and update status.notify."""

from __future__ import annotations

import argparse
import asyncio
import base64
import logging
import os
from collections.abc import Mapping
from typing import Any

log = logging.getLogger("jobscrape.deliver")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of `jobscrape deliver`."""
    p.add_argument("--namespace", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--store", default="jobscrape.db",
                   help="SQLite file (ignored when the source uses PostgreSQL: its DSN comes "
                        "from $JOBSCRAPE_POSTGRES_DSN or the source's Secret)")
    p.add_argument("--retry-dead", action="store_true",
                   help="make dead changes pending again before delivering")
    p.add_argument("--allow-private-networks", action="store_true",
                   default=os.environ.get("JOBSCRAPE_ALLOW_PRIVATE_NETWORKS") == "1")
    p.add_argument("--kubeconfig", default=None)
    p.add_argument("--log-format", choices=("text", "json"), default="text")


def secret_env(kube: Any, namespace: str, spec: Any, env: Mapping[str, str]) -> dict[str, str]:
    """`env`, completed from the source's Secrets for what the operator would have put in the
    runner pod's environment (DSN, webhook URLs, signing keys) and `env` lacks."""
    from jobscrape.api import contract
    from jobscrape.kubeclient import NotFound

    wanted: list[tuple[str, Any]] = []
    if spec.store.postgres is not None:
        wanted.append((contract.DSN_ENV, spec.store.postgres.dsn_secret_ref))
    for n in spec.notify:
        if n.webhook is not None:
            wanted.append((contract.webhook_url_env(n.name), n.webhook.url_secret_ref))
            if n.webhook.signing_key_secret_ref is not None:
                wanted.append((contract.webhook_signing_key_env(n.name),
                               n.webhook.signing_key_secret_ref))
    out = dict(env)
    for var, ref in wanted:
        if out.get(var):
            continue
        try:
            secret = kube.get("v1", "Secret", namespace, ref.name)
        except NotFound:
            raise SystemExit(f"jobscrape deliver: Secret {ref.name!r} not found in namespace "
                             f"{namespace}") from None
        raw = (secret.get("data") or {}).get(ref.key)
        if raw is None:
            raise SystemExit(f"jobscrape deliver: Secret {ref.name!r} has no key {ref.key!r}")
        out[var] = base64.b64decode(raw).decode()
    return out


def run(args: argparse.Namespace) -> int:
    """Deliver what is pending for the named JobSource; 0 when nothing failed, 1 otherwise."""
    from jobscrape import logs
    from jobscrape.api import contract
    from jobscrape.api.validate import parse_spec
    from jobscrape.kubeclient import Kube, load_api_client
    from jobscrape.runner import report
    from jobscrape.runner.delivery import deliver_source
    from jobscrape.runner.main import delivery_budget
    from jobscrape.store import StoreError, StoreLocked, open_store

    logs.configure(args.log_format)
    kube = Kube(load_api_client(args.kubeconfig), field_manager="jobscrape-runner")
    body = kube.get(contract.API_VERSION, contract.KIND, args.namespace, args.name)
    spec, problems = parse_spec(body.get("spec") or {})
    if spec is None or problems:
        for p in problems:
            log.error("invalid spec: %s: %s", p.path, p.message)
        return 2
    env = secret_env(kube, args.namespace, spec, os.environ)
    source = f"{args.namespace}/{args.name}"
    try:
        store = open_store(env.get(contract.DSN_ENV) or args.store)
        try:
            store.migrate()
            if args.retry_dead:
                log.info("%d dead changes pending again", store.retry_dead(source))
            outcomes = asyncio.run(deliver_source(store, source, spec.notify, env,
                                                  args.allow_private_networks,
                                                  delivery_budget(spec)))
            stats = report.notify_statuses([n.name for n in spec.notify],
                                           store.notify_stats(source))
        finally:
            store.close()
    except (StoreError, StoreLocked) as e:
        log.error("store: %s", e)
        return 3
    for o in outcomes:
        print(f"{o.target}: {o.delivered} delivered"
              + (f", {o.failed} not delivered: {o.error}" if o.error else ""))
    kube.merge_patch_status(contract.API_VERSION, contract.KIND, args.namespace, args.name,
                            {"status": {"notify": [report.wire(s) for s in stats]}})
    return 1 if any(o.error for o in outcomes) else 0
