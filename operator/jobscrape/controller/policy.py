"""The operator's runner policy: what a JobSource author may make its runner pods do.

A JobSource is written by a tenant; its runner pod is the operator's. The image, the compute
resources and the Secrets a pod may read are bounded here, by settings only the operator's
installer controls. Pure functions: a spec in, field errors out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jobscrape.api.spec import JobSourceSpec
from jobscrape.api.validate import FieldError
from jobscrape.kubeapi import parse_quantity

BOUNDED_RESOURCES = ("cpu", "memory", "ephemeral-storage")


@dataclass(frozen=True)
class RunnerPolicy:
    """Operator-side limits on runner pods (flags of `jobscrape operator`)."""

    allowed_images: tuple[str, ...] = ()  # exact names, or prefixes ending in '*'
    max_resources: dict[str, str] = field(default_factory=lambda: {
        "cpu": "2", "memory": "2Gi", "ephemeral-storage": "2Gi"})
    default_requests: dict[str, str] = field(default_factory=lambda: {
        "cpu": "50m", "memory": "128Mi"})
    default_limits: dict[str, str] = field(default_factory=lambda: {
        "cpu": "1", "memory": "512Mi"})
    secret_name_prefix: str = "jobscrape-"
    max_shards: int = 8  # pods of one run (spec.run.shards)


def image_allowed(image: str, allowed: tuple[str, ...]) -> bool:
    """Whether `image` equals an allowlist entry or starts with an entry's `*`-ended prefix."""
    for entry in allowed:
        if entry.endswith("*") and image.startswith(entry[:-1]):
            return True
        if image == entry:
            return True
    return False


def parse_image_list(raw: str) -> tuple[str, ...]:
    """A comma- or space-separated list of images, empty entries dropped."""
    return tuple(p for p in raw.replace(",", " ").split() if p)


def _quantity_errors(path: str, values: dict[str, int | str], policy: RunnerPolicy
                     ) -> list[FieldError]:
    errors = []
    for name, raw in values.items():
        where = f"{path}.{name}"
        if name not in BOUNDED_RESOURCES:
            errors.append(FieldError(where, f"resource {name!r} is not allowed; runner pods "
                                            f"may only ask for {', '.join(BOUNDED_RESOURCES)}"))
            continue
        try:
            q = parse_quantity(raw)
        except (ValueError, TypeError):
            errors.append(FieldError(where, f"{raw!r} is not a Kubernetes quantity"))
            continue
        cap = policy.max_resources.get(name)
        if cap is not None and q > parse_quantity(cap):
            errors.append(FieldError(where, f"{raw} is more than the operator allows ({cap})"))
    return errors


def check_spec(spec: JobSourceSpec, policy: RunnerPolicy, runner_image: str
               ) -> list[FieldError]:
    """Every way `spec` asks for more than the policy allows (empty when it does not);
    `runner_image`, the operator's own, is always allowed."""
    errors: list[FieldError] = []
    image = spec.run.image
    if image and image != runner_image and not image_allowed(image,
                                                                    policy.allowed_images):
        errors.append(FieldError("spec.run.image", f"image {image!r} is not in the operator's "
                                                   "allowlist of runner images"))
    if spec.run.shards > policy.max_shards:
        errors.append(FieldError("spec.run.shards", f"{spec.run.shards} shards is more than the "
                                                    f"operator allows ({policy.max_shards})"))
    res = spec.run.resources
    if res is not None:
        errors += _quantity_errors("spec.run.resources.requests", res.requests, policy)
        errors += _quantity_errors("spec.run.resources.limits", res.limits, policy)
    prefix = policy.secret_name_prefix
    if prefix:
        refs = []
        if spec.store.postgres is not None:
            refs.append(("spec.store.postgres.dsnSecretRef.name",
                         spec.store.postgres.dsn_secret_ref.name))
        for i, n in enumerate(spec.notify):
            if n.webhook is not None:
                refs.append((f"spec.notify[{i}].webhook.urlSecretRef.name",
                             n.webhook.url_secret_ref.name))
                if n.webhook.signing_key_secret_ref is not None:
                    refs.append((f"spec.notify[{i}].webhook.signingKeySecretRef.name",
                                 n.webhook.signing_key_secret_ref.name))
        errors += [FieldError(path, f"Secret {name!r} may not be used: the operator only "
                                    f"passes Secrets whose names start with {prefix!r}")
                   for path, name in refs if not name.startswith(prefix)]
    return errors


def runner_resources(spec: JobSourceSpec, policy: RunnerPolicy) -> dict[str, dict[str, str]]:
    """The runner container's resources: the spec's, with the policy's defaults for what it
    leaves out (so no runner pod is unbounded); requests never above the limits."""
    res = spec.run.resources
    requests = {k: str(v) for k, v in (res.requests if res else {}).items()}
    limits = {k: str(v) for k, v in (res.limits if res else {}).items()}
    for k, v in policy.default_limits.items():
        if k not in limits:
            asked = requests.get(k)
            limits[k] = asked if asked and parse_quantity(asked) > parse_quantity(v) else v
    for k, v in policy.default_requests.items():
        if k not in requests:
            requests[k] = v if k not in limits or parse_quantity(v) <= parse_quantity(
                limits[k]) else limits[k]
    return {"requests": requests, "limits": limits}
