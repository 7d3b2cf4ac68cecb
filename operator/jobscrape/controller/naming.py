"""Deterministic names of the objects the operator makes for a JobSource."""

from __future__ import annotations

import hashlib

CRONJOB_NAME_MAX = 52  # a CronJob's Job names get an 11-character suffix within 63
DNS_LABEL_MAX = 63
MANAGED_BY = "app.kubernetes.io/managed-by"
SOURCE_LABEL = "jobscrape.io/source"
RUN_NOW_ANNOTATION = "jobscrape.io/run-now"
RUN_NOW_LABEL = "jobscrape.io/run-now-hash"
SHARDS_LABEL = "jobscrape.io/shards"  # on the Jobs of a sharded run: how many shards
OPERATOR = "jobscrape"
FIELD_MANAGER = "jobscrape-operator"
DEFAULT_RUNNER_IMAGE = "ghcr.io/jobscrape/jobscrape:0.1.0"


def _fit(prefix: str, name: str, limit: int, suffix: str = "") -> str:
    full = f"{prefix}{name}{suffix}"
    if len(full) <= limit:
        return full
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    keep = limit - len(prefix) - len(suffix) - len(digest) - 1
    return f"{prefix}{name[:keep].rstrip('-')}-{digest}{suffix}"


def cronjob_name(source: str) -> str:
    """`jobsource-<name>`, shortened with a hash to fit 52 characters."""
    return _fit("jobsource-", source, CRONJOB_NAME_MAX)


def runner_name(source: str) -> str:
    """The name shared by the runner's ServiceAccount, Role and RoleBinding."""
    return _fit("jobscrape-runner-", source, DNS_LABEL_MAX)


def store_claim_name(source: str) -> str:
    """The PersistentVolumeClaim of the SQLite store."""
    return _fit("jobscrape-store-", source, DNS_LABEL_MAX)


def run_now_job_name(source: str, value: str) -> str:
    """The Job started for one run-now value: the same value always gives the same name."""
    digest = hashlib.sha256(value.encode()).hexdigest()[:9]
    return f"{cronjob_name(source)}-n{digest}"  # 52 + 11 = 63 at most, like scheduled Jobs


def finish_job_name(job_name: str) -> str:
    """The Job that finishes the sharded run of Job `job_name` (one per run)."""
    return _fit("", job_name, DNS_LABEL_MAX, "-finish")


def run_now_hash(value: str) -> str:
    """A label-safe digest of a run-now value."""
    return hashlib.sha256(value.encode()).hexdigest()[:16]


def labels(source: str) -> dict[str, str]:
    """Labels on everything the operator makes for a source."""
    return {MANAGED_BY: OPERATOR, SOURCE_LABEL: source}
