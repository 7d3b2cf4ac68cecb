"""The JobSource API (jobscrape.io/v1alpha1): pydantic models are the single source of truth;
the CustomResourceDefinition under crds/ is generated from them."""

from jobscrape.api.spec import JobSourceSpec
from jobscrape.api.status import JobSourceStatus

__all__ = ["JobSourceSpec", "JobSourceStatus"]
