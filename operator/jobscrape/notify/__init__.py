"""Notification sinks: where a run's changes are delivered (webhooks, Pub/Sub), each behind
the `Sink` interface of notify.base, one module per backend."""
