"""The run contract between operator and runner: the resource the runner reads and writes,
the env names the operator sets on the runner's pod, and the paths it mounts there."""

from __future__ import annotations

import re

GROUP = "jobscrape.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
KIND = "JobSource"
PLURAL = "jobsources"

JOB_NAME_ENV = "JOBSCRAPE_JOB_NAME"  # the pod's Job (label batch.kubernetes.io/job-name)
DSN_ENV = "JOBSCRAPE_POSTGRES_DSN"  # PostgreSQL DSN from spec.store.postgres.dsnSecretRef
SHARDS_ENV = "JOBSCRAPE_SHARDS"  # a sharded run: how many shards its Indexed Job has
MAX_SHARDS = 64  # the most shards a run may have (spec.run.shards)
SHARD_INDEX_ENV = "JOB_COMPLETION_INDEX"  # which shard this pod is (set by the Job controller)
#: set on the pod that finishes a sharded run which ended with shards missing: it merges the
#: shards' records (JOBSCRAPE_JOB_NAME names the run's Job) and writes the run's status
FINISH_RUN_ENV = "JOBSCRAPE_FINISH_RUN"
#: how many parse processes the runner starts: its container's CPU request, rounded up
PARSE_WORKERS_ENV = "JOBSCRAPE_PARSE_WORKERS"



def webhook_url_env(notify_name: str) -> str:
    """The env var that carries a webhook target's URL (from its Secret) into the runner."""
    return "JOBSCRAPE_WEBHOOK_" + re.sub(r"[^A-Z0-9]", "_", notify_name.upper())


def webhook_signing_key_env(notify_name: str) -> str:
    """The env var that carries a json webhook's signing key (from its Secret)."""
    return "JOBSCRAPE_SIGNING_KEY_" + re.sub(r"[^A-Z0-9]", "_", notify_name.upper())


STORE_MOUNT = "/var/lib/jobscrape"  # the SQLite store's volume
TMP_MOUNT = "/tmp"  # writable scratch space (the root filesystem is read-only)
