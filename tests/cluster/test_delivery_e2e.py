"""Delivery end to end on the real control plane: a JobSource with the PostgreSQL store (DSN
from a Secret) and three targets (Discord and JSON webhooks on local receivers, a topic of the
real Pub/Sub emulator), runs started with run-now and executed as CronJob Jobs. Every change
reaches every target; consumers that de-duplicate on the idempotency key see each change once;
no secret reaches status, events, logs or metrics."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from jobscrape.notify.jsonhook import verify_signature
from jobscrape_dev.boardserver import BoardServer
from jobscrape_dev.devcluster import processes
from jobscrape_dev.pgserver import PgServer
from jobscrape_dev.pubsubemu import PubSubEmulator
from jobscrape_dev.receiver import WebhookReceiver

from conftest import start_operator
from waiting import wait_for

pytestmark = pytest.mark.cluster

G, V, P = "jobscrape.io", "v1alpha1", "jobsources"
TOPIC = "projects/e2e/topics/postings"
SIGNING_KEY = "sk-e2e-9f8e7d6c5b4a"
BOARD = "vercel"  # greenhouse token of the board server; 6 postings with scale
SCALE = 6


@dataclass
class Sinks:
    """The real servers of a delivery test."""

    pg: PgServer
    emulator: PubSubEmulator
    discord: WebhookReceiver
    hook: WebhookReceiver
    boards: BoardServer


@pytest.fixture(scope="module")
def sinks(cluster) -> Iterator[Sinks]:
    h = cluster.host  # where the runner pods reach them
    with (PgServer(host=h) as pg, PubSubEmulator(bind=h) as emu, WebhookReceiver(host=h) as discord,
          WebhookReceiver(host=h) as hook, BoardServer(host=h) as boards):
        boards.set_fault(BOARD, scale=SCALE)
        yield Sinks(pg, emu, discord, hook, boards)


def _co(cluster) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(cluster.api)


def _get(cluster, ns: str, name: str) -> dict[str, Any]:
    return _co(cluster).get_namespaced_custom_object(G, V, ns, P, name)


def _secrets(cluster, ns: str, dsn: str, sinks: Sinks, path: str) -> dict[str, str]:
    """The Secret of the source: DSN, webhook URLs (with a token in the path, as real webhook
    URLs have) and the signing key. Returns the secret values, to grep for."""
    values = {"dsn": dsn, "discord": sinks.discord.hook_url(f"/api/webhooks/1/{path}-tok"),
              "json": sinks.hook.hook_url(f"/hooks/{path}-tok"), "hmac": SIGNING_KEY}
    client.CoreV1Api(cluster.api).create_namespaced_secret(ns, {
        "metadata": {"name": "jobscrape-e2e"},
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in values.items()}})
    return values


def _source(name: str, board_url: str, topic: str) -> dict[str, Any]:
    ref = {"name": "jobscrape-e2e"}
    return {"apiVersion": f"{G}/{V}", "kind": "JobSource", "metadata": {"name": name},
            "spec": {"schedule": "0 0 1 1 *", "suspend": True,
                     "boards": [{"name": "gh", "type": "greenhouse", "token": BOARD,
                                 "url": f"{board_url}/v1/boards/{BOARD}/jobs"}],
                     "store": {"postgres": {"dsnSecretRef": {**ref, "key": "dsn"}}},
                     "notify": [
                         {"name": "chat", "webhook": {"format": "discord",
                                                      "urlSecretRef": {**ref, "key": "discord"}}},
                         {"name": "hook", "webhook": {
                             "format": "json", "urlSecretRef": {**ref, "key": "json"},
                             "signingKeySecretRef": {**ref, "key": "hmac"}}},
                         {"name": "bus", "pubsub": {"topic": topic}}],
                     # a Job deadline with room for a killed pod's retry on a busy machine
                     "run": {"requestsPerSecondPerHost": 50, "timeoutSeconds": 300,
                             "retries": 1}}}


def _last_completion(cluster, ns: str, name: str) -> str | None:
    return (_get(cluster, ns, name).get("status") or {}).get("lastRun", {}).get(
        "completionTime")


def start_run(cluster, ns: str, name: str, value: str) -> str | None:
    """Start a run with the run-now annotation; returns the previous run's completion time."""
    before = _last_completion(cluster, ns, name)
    _co(cluster).patch_namespaced_custom_object(G, V, ns, P, name, {
        "metadata": {"annotations": {"jobscrape.io/run-now": value}}})
    return before


def wait_run(cluster, ns: str, name: str, before: str | None, timeout: float = 120
             ) -> dict[str, Any]:
    """The status once a run newer than `before` has written it."""
    def finished() -> dict[str, Any] | None:
        st = _get(cluster, ns, name).get("status") or {}
        done = st.get("lastRun", {}).get("completionTime")
        return st if done and done != before else None

    try:
        return wait_for(finished, timeout=timeout, interval=0.5, what=f"a new run of {name}")
    except AssertionError as e:
        pods = client.CoreV1Api(cluster.api).list_namespaced_pod(ns).items
        states = [(p.metadata.name, p.status.phase, str(p.status.container_statuses)[:400],
                   cluster.pod_log(ns, p.metadata.name)[-800:]) for p in pods]
        raise AssertionError(f"{e}\npods: {states}") from None


def run_now(cluster, ns: str, name: str, value: str, timeout: float = 120) -> dict[str, Any]:
    """Start a run with the run-now annotation and return the status it wrote."""
    return wait_run(cluster, ns, name, start_run(cluster, ns, name, value), timeout)


def _notify(status: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["name"]: n for n in status.get("notify", [])}


def json_changes(receiver: WebhookReceiver, skip: int = 0) -> list[dict[str, Any]]:
    """Every change the JSON receiver got after its first `skip` requests (duplicates
    included), signatures verified."""
    out = []
    for r in list(receiver.requests)[skip:]:
        if r.json is None:
            continue
        assert verify_signature(r.body, r.header("X-Jobscrape-Signature") or "", SIGNING_KEY)
        out += r.json["changes"]
    return out


def discord_embeds(receiver: WebhookReceiver) -> list[dict[str, Any]]:
    """Every embed the Discord receiver got (duplicates included)."""
    return [e for r in receiver.requests if r.json for e in r.json.get("embeds", [])]


def dedup(changes: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    """What a consumer that de-duplicates on the idempotency key sees: how many distinct
    changes of each (kind, posting id)."""
    seen: dict[str, tuple[str, str]] = {}
    for c in changes:
        seen.setdefault(c["idempotencyKey"], (c["kind"], c["posting"]["id"]))
    return Counter(seen.values())


def pubsub_changes(emu: PubSubEmulator, sub: str, n: int) -> list[dict[str, str]]:
    return [dict(m.message.attributes) for m in emu.pull(sub, n, timeout=30, quiet=2)]


def _edit(boards: BoardServer, title: str | None = None, drop: bool = False) -> None:
    def edit(doc: dict[str, Any]) -> None:
        if title:
            doc["jobs"][0]["title"] = title
        if drop:
            doc["jobs"].pop()
    boards.edits[BOARD] = edit


def test_every_change_reaches_every_target_once(cluster, crd, namespace, sinks, tmp_path):
    dsn = sinks.pg.create_database()
    secrets = _secrets(cluster, namespace, dsn, sinks, namespace)
    topic, sub = f"{TOPIC}-{namespace}", f"projects/e2e/subscriptions/{namespace}"
    sinks.emulator.create_topic(topic)
    sinks.emulator.create_subscription(topic, sub)
    sinks.discord.clear()
    sinks.hook.clear()
    sinks.boards.edits.pop(BOARD, None)
    op = start_operator(cluster, tmp_path,
                        f"--runner-env=PUBSUB_EMULATOR_HOST={sinks.emulator.host}")
    try:
        _co(cluster).create_namespaced_custom_object(G, V, namespace, P,
                                                     _source("e2e", sinks.boards.url, topic))
        # first run: every posting is new, delivered once to each target
        st = run_now(cluster, namespace, "e2e", "first")
        assert st["lastRun"]["created"] == SCALE, st
        n = _notify(st)
        for target in ("chat", "hook", "bus"):
            assert (n[target]["delivered"], n[target]["pending"], n[target]["dead"]) == (
                SCALE, 0, 0), n
        assert len(discord_embeds(sinks.discord)) == SCALE
        hook = json_changes(sinks.hook)
        assert len(hook) == SCALE and {c["kind"] for c in hook} == {"created"}
        bus = pubsub_changes(sinks.emulator, sub, SCALE)
        assert len(bus) == SCALE and {m["kind"] for m in bus} == {"created"}
        assert {m["idempotencyKey"] for m in bus} == {c["idempotencyKey"] for c in hook}
        series = (f'jobscrape_notify_delivered_total{{jobsource="e2e",namespace="{namespace}",'
                  f'target="bus"}} {float(SCALE)}')
        wait_for(lambda: series in _metrics(op), timeout=30, what="deliveries in /metrics")
        titles = [r["title"] for r in st["recentPostings"]]
        assert len(titles) == SCALE and all(r["url"].startswith("http")
                                            for r in st["recentPostings"])

        # second run, nothing changed: nothing delivered
        st = run_now(cluster, namespace, "e2e", "second")
        assert st["lastRun"]["created"] == 0 and _notify(st)["hook"]["delivered"] == SCALE
        assert len(json_changes(sinks.hook)) == SCALE
        assert len(discord_embeds(sinks.discord)) == SCALE
        assert pubsub_changes(sinks.emulator, sub, 0) == []

        # a changed posting is delivered as updated, a removed one as removed
        _edit(sinks.boards, title="Principal Engineer (changed)", drop=True)
        st = run_now(cluster, namespace, "e2e", "third")
        assert (st["lastRun"]["updated"], st["lastRun"]["removed"]) == (1, 1)
        hook = json_changes(sinks.hook)
        assert Counter(c["kind"] for c in hook[SCALE:]) == {"updated": 1, "removed": 1}
        updated = next(c for c in hook[SCALE:] if c["kind"] == "updated")
        assert updated["posting"]["title"] == "Principal Engineer (changed)"
        bus = pubsub_changes(sinks.emulator, sub, 2)
        assert Counter(m["kind"] for m in bus) == {"updated": 1, "removed": 1}
        embeds = discord_embeds(sinks.discord)
        assert len(embeds) == SCALE + 2
        seen = dedup(hook)
        assert len(seen) == SCALE + 2 and set(seen.values()) == {1}
        # the same change has the same key on every target (Discord: the footer's last part)
        assert {e["footer"]["text"].rsplit(" · ", 1)[1] for e in embeds} == {
            c["idempotencyKey"] for c in hook}

        # people can read the postings: kubectl describe and jobscrape postings
        out = _cmd([shutil.which("kubectl") or "kubectl", f"--kubeconfig={cluster.kubeconfig}",
                    "describe", "jsrc", "-n", namespace, "e2e"])
        assert "Recent Postings" in out and "Principal Engineer (changed)" in out
        out = _cmd([str(Path(sys.executable).parent / "jobscrape"), "postings", "--format",
                    "jsonl", "--state", "all"], JOBSCRAPE_STORE=dsn)
        rows = [json.loads(line) for line in out.splitlines()]
        assert len(rows) == SCALE and Counter(r["state"] for r in rows) == {
            "open": SCALE - 1, "removed": 1}

        # no secret anywhere: status, events, operator and pod logs, metrics
        assert_no_secrets(cluster, namespace, op, secrets)
    finally:
        processes.stop(op.proc)


def _cmd(argv: list[str], **env: str) -> str:
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                         env={**os.environ, **env})
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def _metrics(op) -> str:
    return urllib.request.urlopen(f"http://127.0.0.1:{op.metrics_port}/metrics",
                                  timeout=10).read().decode()


def assert_no_secrets(cluster, ns: str, op, secrets: dict[str, str]) -> None:
    """None of the secret values (nor a webhook token, nor the DSN's password) appears in
    the JobSource, the namespace's events, the operator's log, any pod log or /metrics."""
    needles = set(secrets.values())
    needles |= {v.rsplit("/", 1)[-1] for k, v in secrets.items() if k in ("discord", "json")}
    needles.add(secrets["dsn"].split(":")[2].split("@")[0])  # the password
    events = client.CoreV1Api(cluster.api).list_namespaced_event(ns).items
    metrics = _metrics(op)
    pod_logs = cluster.pod_logs(ns)
    haystacks = {"jobsource": json.dumps(_get(cluster, ns, "e2e")),
                 "events": json.dumps([e.to_dict() for e in events], default=str),
                 "operator log": op.output(), "pod logs": pod_logs, "metrics": metrics}
    assert pod_logs and "delivered" in pod_logs  # the logs are there and say something
    for where, text in haystacks.items():
        for needle in needles:
            assert needle not in text, f"a secret value appears in the {where}"


def _runner_pids(namespace: str, name: str) -> list[int]:
    """Processes of `jobscrape run` for this source (the executor runs pods as processes)."""
    out = subprocess.run(["pgrep", "-f", f"jobscrape run --namespace={namespace} --name={name}"],
                         capture_output=True, text=True, timeout=10).stdout
    return [int(p) for p in out.split()]


def _condition(status: dict[str, Any], type_: str) -> dict[str, Any]:
    return next(c for c in status.get("conditions", []) if c["type"] == type_)


def test_faults_delay_delivery_but_lose_nothing(cluster, crd, namespace, sinks, tmp_path):
    dsn = sinks.pg.create_database()
    _secrets(cluster, namespace, dsn, sinks, namespace)
    topic, sub = f"{TOPIC}-{namespace}", f"projects/e2e/subscriptions/{namespace}"
    sinks.emulator.create_topic(topic)
    sinks.emulator.create_subscription(topic, sub)
    sinks.hook.clear()
    sinks.boards.edits.pop(BOARD, None)
    op = start_operator(cluster, tmp_path,
                        f"--runner-env=PUBSUB_EMULATOR_HOST={sinks.emulator.host}")
    consumed: list[dict[str, Any]] = []  # what the JSON consumer accepted (2xx answers)
    try:
        _co(cluster).create_namespaced_custom_object(G, V, namespace, P,
                                                     _source("faults", sinks.boards.url, topic))
        # the receiver fails every request of a run: nothing lost, all of it pending
        sinks.hook.fail(500, count=None)
        st = run_now(cluster, namespace, "faults", "f1")
        hook = _notify(st)["hook"]
        assert (hook["delivered"], hook["pending"]) == (0, SCALE), hook
        assert "HTTP 500" in hook["lastError"]
        assert _condition(st, "Degraded")["reason"] == "DeliveryFailing"
        assert _notify(st)["chat"]["delivered"] == SCALE  # other targets are not held up
        sinks.hook.clear()  # the failed requests were refused: the consumer saw nothing
        sinks.hook.ok()
        # back up: the next run (once the first backoff of 30 s is over) delivers them once
        time.sleep(31)
        st = run_now(cluster, namespace, "faults", "f2")
        hook = _notify(st)["hook"]
        assert (hook["delivered"], hook["pending"], hook.get("lastError")) == (SCALE, 0, None)
        consumed += json_changes(sinks.hook)
        assert len(consumed) == SCALE
        assert _condition(st, "Degraded")["status"] == "False"

        # 429 with retry_after: waited out within the run, then delivered
        sinks.hook.clear()
        sinks.hook.rate_limit(retry_after=2, count=1)
        _edit(sinks.boards, title="Staff Engineer (429)")
        st = run_now(cluster, namespace, "faults", "f3")
        first, second = sinks.hook.wait_for(2)[:2]
        assert second.time - first.time >= 2.0  # Retry-After honoured
        assert _notify(st)["hook"]["pending"] == 0
        consumed += json_changes(sinks.hook, skip=1)  # the first request was refused (429)
        sinks.hook.clear()

        # SIGKILL between the store's commit and delivery: the retried pod delivers it
        sinks.hook.hang(120, count=1)
        _edit(sinks.boards, title="Staff Engineer (killed)")
        before = start_run(cluster, namespace, "faults", "f4")
        sinks.hook.wait_for(1, timeout=120)  # committed; the delivery is in flight
        pids = wait_for(lambda: _runner_pids(namespace, "faults"), timeout=10,
                        what="the runner's process")
        for pid in pids:
            os.kill(pid, 9)
        sinks.hook.ok()
        st = wait_run(cluster, namespace, "faults", before, 240)  # by the Job's second pod
        assert st["lastRun"]["updated"] == 0  # the killed pod had stored the change
        assert _notify(st)["hook"]["pending"] == 0
        consumed += json_changes(sinks.hook)  # the hung request, answered 2xx, and the retry
        assert [c["posting"]["title"] for c in json_changes(sinks.hook)].count(
            "Staff Engineer (killed)") >= 1

        # PostgreSQL restarted between runs: the next run just works
        sinks.pg.restart()
        _edit(sinks.boards, title="Staff Engineer (restart)", drop=True)
        sinks.hook.clear()
        st = run_now(cluster, namespace, "faults", "f5")
        assert st["lastRun"]["result"] == "Succeeded"
        assert (st["lastRun"]["updated"], st["lastRun"]["removed"]) == (1, 1)
        consumed += json_changes(sinks.hook)

        # every change reached the consumer, each exactly once after de-duplication (raw, the
        # killed run's change came twice); posting 0 was updated three times: three keys
        seen = dedup(consumed)
        assert len(consumed) > sum(seen.values())
        assert Counter(kind for kind, _ in seen.elements()) == {
            "created": SCALE, "updated": 3, "removed": 1}
        assert _notify(st)["bus"]["pending"] == 0, _notify(st)
        bus = pubsub_changes(sinks.emulator, sub, SCALE + 4)
        keys = {m["idempotencyKey"] for m in bus}
        assert len(keys) == SCALE + 4, (_notify(st), sorted(
            (m["kind"], m["postingId"]) for m in bus))  # Pub/Sub got every change too

        # PostgreSQL unreachable: the run fails clearly within its timeout, writes nothing
        sinks.pg.stop()
        try:
            sinks.hook.clear()
            before = start_run(cluster, namespace, "faults", "f6")
            cond = wait_for(lambda: (c := _condition(_get(cluster, namespace, "faults")[
                "status"], "Healthy"))["reason"] == "StoreUnavailable" and c, timeout=90,
                what="Healthy=False StoreUnavailable")
            assert cond["status"] == "False"
            assert "cannot connect to PostgreSQL" in cond["message"]
            assert sinks.pg.password not in cond["message"]
            assert sinks.hook.requests == []
            assert _last_completion(cluster, namespace, "faults") == before  # no run recorded
        finally:
            sinks.pg.start()
    finally:
        processes.stop(op.proc)


def test_dead_changes_are_kept_and_delivered_by_jobscrape_deliver(cluster, crd, namespace,
                                                                   sinks, tmp_path):
    dsn = sinks.pg.create_database()
    _secrets(cluster, namespace, dsn, sinks, namespace)
    sinks.hook.clear()
    sinks.boards.edits.pop(BOARD, None)
    body = _source("dead", sinks.boards.url, TOPIC)
    body["spec"]["notify"] = [{**body["spec"]["notify"][1], "maxAttempts": 1}]  # json only
    op = start_operator(cluster, tmp_path)
    try:
        _co(cluster).create_namespaced_custom_object(G, V, namespace, P, body)
        sinks.hook.fail(500, count=None)
        st = run_now(cluster, namespace, "dead", "d1")
        hook = _notify(st)["hook"]
        assert (hook["delivered"], hook["pending"], hook["dead"]) == (0, 0, SCALE), hook
        assert "dead" in _condition(st, "Degraded")["message"]
        series = (f'jobscrape_notify_dead{{jobsource="dead",namespace="{namespace}",'
                  f'target="hook"}} {float(SCALE)}')
        wait_for(lambda: series in _metrics(op), timeout=30, what="the dead changes in /metrics")
        sinks.hook.ok()
        sinks.hook.clear()
        # the target is fixed: `jobscrape deliver --retry-dead` sends them, the Secrets read
        # with the caller's own credentials
        out = _cmd([str(Path(sys.executable).parent / "jobscrape"), "deliver",
                    f"--kubeconfig={cluster.kubeconfig}", f"--namespace={namespace}",
                    "--name=dead", "--retry-dead", "--allow-private-networks"])
        assert f"hook: {SCALE} delivered" in out
        assert len(json_changes(sinks.hook)) == SCALE
        hook = _notify(_get(cluster, namespace, "dead")["status"])["hook"]
        assert (hook["delivered"], hook["pending"], hook["dead"]) == (SCALE, 0, 0), hook
        assert dsn not in out and SIGNING_KEY not in out
    finally:
        processes.stop(op.proc)
