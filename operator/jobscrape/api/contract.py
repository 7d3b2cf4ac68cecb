"""The run contract between operator and runner: the resource the runner reads and writes,
the env names the operator sets on the runner's pod, and the paths it mounts there."""

from __future__ import annotations

GROUP = "jobscrape.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
KIND = "JobSource"
PLURAL = "jobsources"

JOB_NAME_ENV = "JOBSCRAPE_JOB_NAME"  # the pod's Job (label batch.kubernetes.io/job-name)
DSN_ENV = "JOBSCRAPE_POSTGRES_DSN"  # PostgreSQL DSN from spec.store.postgres.dsnSecretRef

STORE_MOUNT = "/var/lib/jobscrape"  # the SQLite store's volume
TMP_MOUNT = "/tmp"  # writable scratch space (the root filesystem is read-only)
