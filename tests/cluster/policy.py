"""The operator's admission policy on the test cluster (the installer lives with the local
control plane, which the demo shares)."""

from __future__ import annotations

from typing import Any

from jobscrape_dev.devcluster import policy as _policy
from jobscrape_dev.devcluster.policy import (  # noqa: F401  (re-exported for the tests)
    OPERATOR_USER,
    POLICY_FILE,
    POLICY_NAME,
    POLICY_NAMESPACE,
    impersonating_operator,
    job_admitted,
    policy_documents,
    refused_by_policy,
    restricted_job,
)

PARAMS_NAME = "jobscrape-runner-policy"


def install_runner_policy(cluster: Any, runner_image: str, allowed_images: str = "") -> None:
    """Install the policy with these images on the test cluster; return once in effect."""
    _policy.install_runner_policy(cluster.api, runner_image, allowed_images)
