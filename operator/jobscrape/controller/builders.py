"""Pure builders: a JobSource in, the Kubernetes objects the operator keeps for it out."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from jobscrape.api.contract import (  # noqa: F401  (re-exported for controller code)
    API_VERSION,
    DSN_ENV,
    FINISH_RUN_ENV,
    GROUP,
    JOB_NAME_ENV,
    KIND,
    PARSE_WORKERS_ENV,
    PLURAL,
    SHARDS_ENV,
    STORE_MOUNT,
    TMP_MOUNT,
    VERSION,
    webhook_signing_key_env,
    webhook_url_env,
)
from jobscrape.api.spec import JobSourceSpec
from jobscrape.controller import naming
from jobscrape.controller.policy import RunnerPolicy, runner_resources

SPEC_HASH_ANNOTATION = "jobscrape.io/spec-hash"
RUNNER_UID = 65532

Obj = dict[str, Any]


@dataclass(frozen=True)
class OperatorOptions:
    """Operator-wide settings that shape what it builds."""

    runner_image: str = naming.DEFAULT_RUNNER_IMAGE
    allow_private_networks: bool = False
    image_pull_policy: str = "IfNotPresent"
    policy: RunnerPolicy = field(default_factory=RunnerPolicy)
    runner_env: tuple[tuple[str, str], ...] = ()  # --runner-env: plain values for every pod


@dataclass(frozen=True)
class SourceRef:
    """Identity of a JobSource: what owner references and RBAC need."""

    namespace: str
    name: str
    uid: str


def owner_reference(src: SourceRef) -> Obj:
    """An owner reference to the JobSource (controller, blocks owner deletion)."""
    return {"apiVersion": API_VERSION, "kind": KIND, "name": src.name, "uid": src.uid,
            "controller": True, "blockOwnerDeletion": True}


def _meta(name: str, src: SourceRef, owned: bool = True) -> Obj:
    m: Obj = {"name": name, "namespace": src.namespace, "labels": naming.labels(src.name)}
    if owned:
        m["ownerReferences"] = [owner_reference(src)]
    return m


def _runner_env(spec: JobSourceSpec, opts: OperatorOptions) -> list[Obj]:
    env: list[Obj] = [{"name": k, "value": v} for k, v in opts.runner_env]
    env.append({"name": JOB_NAME_ENV, "valueFrom": {"fieldRef": {
        "fieldPath": "metadata.labels['batch.kubernetes.io/job-name']"}}})
    if spec.run.shards > 1:
        env.append({"name": SHARDS_ENV, "value": str(spec.run.shards)})
    # the pod's CPU request, rounded up to whole CPUs (at least 1), sizes its parse pool
    env.append({"name": PARSE_WORKERS_ENV, "valueFrom": {"resourceFieldRef": {
        "containerName": "runner", "resource": "requests.cpu", "divisor": "1"}}})
    if spec.store.postgres is not None:
        ref = spec.store.postgres.dsn_secret_ref
        env.append({"name": DSN_ENV, "valueFrom": {"secretKeyRef": {"name": ref.name,
                                                                    "key": ref.key}}})
    for n in spec.notify or []:
        if n.webhook is not None:
            ref = n.webhook.url_secret_ref
            env.append({"name": webhook_url_env(n.name), "valueFrom": {
                "secretKeyRef": {"name": ref.name, "key": ref.key}}})
            key = n.webhook.signing_key_secret_ref
            if key is not None:
                env.append({"name": webhook_signing_key_env(n.name), "valueFrom": {
                    "secretKeyRef": {"name": key.name, "key": key.key}}})
    return env


def runner_args(src: SourceRef, spec: JobSourceSpec, opts: OperatorOptions) -> list[str]:
    """Arguments of `jobscrape` in the runner container."""
    args = ["run", f"--namespace={src.namespace}", f"--name={src.name}"]
    if spec.store.postgres is None:
        args.append(f"--store={STORE_MOUNT}/jobscrape.db")
    if opts.allow_private_networks:
        args.append("--allow-private-networks")
    return args


def pod_template(src: SourceRef, spec: JobSourceSpec, opts: OperatorOptions) -> Obj:
    """The runner pod: restricted security context, store volume, env from Secret refs."""
    volumes: list[Obj] = [{"name": "tmp", "emptyDir": {}}]
    mounts: list[Obj] = [{"name": "tmp", "mountPath": TMP_MOUNT}]
    if spec.store.postgres is None:
        volumes.append({"name": "store", "persistentVolumeClaim": {
            "claimName": naming.store_claim_name(src.name)}})
        mounts.append({"name": "store", "mountPath": STORE_MOUNT})
    container: Obj = {
        "name": "runner",
        "image": spec.run.image or opts.runner_image,
        "imagePullPolicy": opts.image_pull_policy,
        "args": runner_args(src, spec, opts),
        "env": _runner_env(spec, opts),
        "resources": runner_resources(spec, opts.policy),
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": mounts,
    }
    return {
        "metadata": {"labels": naming.labels(src.name)},
        "spec": {
            "serviceAccountName": naming.runner_name(src.name),
            "automountServiceAccountToken": True,
            "restartPolicy": "Never",
            "enableServiceLinks": False,
            "securityContext": {
                "runAsNonRoot": True, "runAsUser": RUNNER_UID, "runAsGroup": RUNNER_UID,
                "fsGroup": RUNNER_UID, "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [container],
            "volumes": volumes,
        },
    }


def job_spec(src: SourceRef, spec: JobSourceSpec, opts: OperatorOptions) -> Obj:
    """The Job spec every run uses (CronJob template and run-now Jobs alike). With
    `spec.run.shards` N > 1 it is an Indexed Job of N pods at once, each shard retried
    within its own limit while the others go on."""
    shards = spec.run.shards
    if shards <= 1:
        return {"activeDeadlineSeconds": spec.run.timeout_seconds,
                "backoffLimit": spec.run.retries,
                "template": pod_template(src, spec, opts)}
    # a shard's pod is replaced only once it has stopped (not while it terminates), so two
    # pods of one shard never fetch its hosts at once
    return {"activeDeadlineSeconds": spec.run.timeout_seconds,
            "completionMode": "Indexed", "completions": shards, "parallelism": shards,
            "backoffLimitPerIndex": spec.run.retries, "maxFailedIndexes": shards - 1,
            "podReplacementPolicy": "Failed",
            "template": pod_template(src, spec, opts)}


def job_labels(src: SourceRef, spec: JobSourceSpec) -> dict[str, str]:
    """Labels of a run's Job: the source's, and on a sharded run its shard count (the operator
    watches those Jobs, to finish a run that ends with shards missing)."""
    labels = naming.labels(src.name)
    if spec.run.shards > 1:
        labels[naming.SHARDS_LABEL] = str(spec.run.shards)
    return labels


def build_cronjob(src: SourceRef, spec: JobSourceSpec, opts: OperatorOptions) -> Obj:
    """The CronJob for a JobSource, annotated with a hash of itself for cheap drift checks."""
    cj_spec: Obj = {
        "schedule": spec.schedule,
        "suspend": spec.suspend,
        "concurrencyPolicy": spec.concurrency_policy,
        "successfulJobsHistoryLimit": spec.successful_runs_history_limit,
        "failedJobsHistoryLimit": spec.failed_runs_history_limit,
        "jobTemplate": {"metadata": {"labels": job_labels(src, spec)},
                        "spec": job_spec(src, spec, opts)},
    }
    if spec.time_zone:
        cj_spec["timeZone"] = spec.time_zone
    if spec.starting_deadline_seconds is not None:
        cj_spec["startingDeadlineSeconds"] = spec.starting_deadline_seconds
    obj: Obj = {"apiVersion": "batch/v1", "kind": "CronJob",
                "metadata": _meta(naming.cronjob_name(src.name), src), "spec": cj_spec}
    return with_spec_hash(obj)


def build_run_now_job(src: SourceRef, spec: JobSourceSpec, opts: OperatorOptions, value: str,
                      cronjob_uid: str | None) -> Obj:
    """A one-off Job for a run-now value, garbage-collected with the CronJob. Like a Job from
    `kubectl create job --from=cronjob/...` it is marked manual; its owner reference is not a
    controller reference, so the CronJob controller neither counts it nor warns about it."""
    meta = _meta(naming.run_now_job_name(src.name, value), src, owned=False)
    meta["labels"] = job_labels(src, spec)
    meta["labels"][naming.RUN_NOW_LABEL] = naming.run_now_hash(value)
    meta["annotations"] = {"cronjob.kubernetes.io/instantiate": "manual"}
    meta["ownerReferences"] = (
        [{"apiVersion": "batch/v1", "kind": "CronJob", "name": naming.cronjob_name(src.name),
          "uid": cronjob_uid, "controller": False, "blockOwnerDeletion": True}]
        if cronjob_uid else [owner_reference(src)])
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta,
            "spec": job_spec(src, spec, opts)}


#: Tries of a finishing pod (it only reads the store, delivers and writes the status)
FINISH_RETRIES = 2


def build_finish_job(src: SourceRef, spec: JobSourceSpec, opts: OperatorOptions,
                     job_name: str, job_uid: str, shards: int) -> Obj:
    """The Job that finishes the sharded run of Job `job_name` (`shards` shards) when it ended
    with shards missing: one runner pod that merges the shards' records (the missing shards'
    boards as failed), delivers and writes the run's status. Owned by that Job, so it goes
    with it."""
    template = pod_template(src, spec, opts)
    container = template["spec"]["containers"][0]
    plain = {JOB_NAME_ENV: job_name, SHARDS_ENV: str(shards), FINISH_RUN_ENV: "true"}
    container["env"] = ([e for e in container["env"] if e["name"] not in plain]
                        + [{"name": k, "value": v} for k, v in plain.items()])
    meta = _meta(naming.finish_job_name(job_name), src, owned=False)
    meta["ownerReferences"] = [{"apiVersion": "batch/v1", "kind": "Job", "name": job_name,
                                "uid": job_uid, "controller": False,
                                "blockOwnerDeletion": False}]
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta,
            "spec": {"activeDeadlineSeconds": spec.run.timeout_seconds,
                     "backoffLimit": FINISH_RETRIES, "template": template}}


def build_service_account(src: SourceRef) -> Obj:
    """The runner's own ServiceAccount."""
    return with_spec_hash({"apiVersion": "v1", "kind": "ServiceAccount",
                           "metadata": _meta(naming.runner_name(src.name), src)})


def build_role(src: SourceRef) -> Obj:
    """Get on this JobSource and patch on its status, nothing else."""
    return with_spec_hash({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": _meta(naming.runner_name(src.name), src),
        "rules": [
            {"apiGroups": [GROUP], "resources": [PLURAL], "resourceNames": [src.name],
             "verbs": ["get"]},
            {"apiGroups": [GROUP], "resources": [f"{PLURAL}/status"],
             "resourceNames": [src.name], "verbs": ["patch"]},
        ],
    })


def build_role_binding(src: SourceRef) -> Obj:
    """Binds the runner's Role to its ServiceAccount."""
    name = naming.runner_name(src.name)
    return with_spec_hash({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": _meta(name, src),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": src.namespace}],
    })


def build_store_claim(src: SourceRef, spec: JobSourceSpec) -> Obj | None:
    """The SQLite store's PVC; owned (deleted with the source) only with whenDeleted: Delete."""
    sqlite = spec.store.sqlite
    if spec.store.postgres is not None or sqlite is None:
        return None
    pvc_spec: Obj = {"accessModes": ["ReadWriteOnce"],
                     "resources": {"requests": {"storage": sqlite.size}}}
    if sqlite.storage_class_name:
        pvc_spec["storageClassName"] = sqlite.storage_class_name
    owned = sqlite.when_deleted == "Delete"
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": _meta(naming.store_claim_name(src.name), src, owned=owned),
            "spec": pvc_spec}


def spec_hash(obj: Obj) -> str:
    """A digest of what the operator sets on an object (labels, owner, spec, rules...)."""
    body = {k: v for k, v in obj.items() if k != "metadata"}
    body["labels"] = obj.get("metadata", {}).get("labels")
    body["owners"] = obj.get("metadata", {}).get("ownerReferences")
    raw = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def with_spec_hash(obj: Obj) -> Obj:
    """The object with its spec-hash annotation set."""
    obj["metadata"].setdefault("annotations", {})[SPEC_HASH_ANNOTATION] = spec_hash(obj)
    return obj
