"""From spec.notify to what a run needs: the outbox's targets, their retry policies, and a
sink per target with its secrets read from the environment the operator set up."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from jobscrape.api.contract import webhook_signing_key_env, webhook_url_env
from jobscrape.notify.base import Sink, SinkConfigError
from jobscrape.postings import ChangeKind
from jobscrape.store import RetryPolicy, Target


def outbox_targets(notify: Sequence[Any]) -> list[Target]:
    """spec.notify as the store's targets (name, events, backfill)."""
    return [Target(n.name, frozenset(ChangeKind(e) for e in n.events), n.backfill)
            for n in notify]


def retry_policies(notify: Sequence[Any]) -> dict[str, RetryPolicy]:
    """Each target's bounds: maxAttempts and maxAgeHours."""
    return {n.name: RetryPolicy(max_attempts=n.max_attempts,
                                max_age=timedelta(hours=n.max_age_hours)) for n in notify}


def build_sinks(notify: Sequence[Any], env: Mapping[str, str], allow_private: bool
                ) -> tuple[dict[str, Sink], dict[str, str]]:
    """A sink per target, and a one-line error per target that cannot be used (its secret
    missing, a URL that is not http(s), ...). Errors never hold the secret's value."""
    sinks: dict[str, Sink] = {}
    errors: dict[str, str] = {}
    for n in notify:
        try:
            sinks[n.name] = _sink(n, env, allow_private)
        except SinkConfigError as e:
            errors[n.name] = str(e)
    return sinks, errors


def _sink(n: Any, env: Mapping[str, str], allow_private: bool) -> Sink:
    if n.webhook is not None:
        from jobscrape.notify.webhook import webhook_sink

        url = env.get(webhook_url_env(n.name), "").strip()
        if not url:
            raise SinkConfigError(
                f"webhook URL of target {n.name} is not set (Secret "
                f"{n.webhook.url_secret_ref.name!r}, key {n.webhook.url_secret_ref.key!r})")
        key = env.get(webhook_signing_key_env(n.name)) or None
        if n.webhook.signing_key_secret_ref is not None and not key:
            raise SinkConfigError(f"signing key of target {n.name} is not set")
        return webhook_sink(n.name, n.webhook.format, url, key, allow_private)
    from jobscrape.notify.pubsub import pubsub_sink

    p = n.pubsub
    return pubsub_sink(n.name, p.topic, p.max_messages, p.max_latency_seconds, p.max_bytes)


async def close_sinks(sinks: Mapping[str, Sink]) -> None:
    """Close every sink, whatever happens to the others."""
    for sink in sinks.values():
        with contextlib.suppress(Exception):  # closing must not fail the run
            await sink.aclose()
