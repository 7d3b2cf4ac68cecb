"""One reconcile of one JobSource: read what is, build what should be, write the difference."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from jobscrape.api.validate import parse_spec, validate_spec
from jobscrape.controller import builders, decide, events, naming
from jobscrape.controller.diff import contains
from jobscrape.kubeclient import Conflict, Kube, NotFound

log = logging.getLogger("jobscrape.operator")
Obj = dict[str, Any]
# (involved object, type, reason, message, dedup key or None)
EventSink = Callable[[Obj, str, str, str, str | None], None]


def _plain(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    return v


def _fingerprint(body: Obj) -> str:
    """What a reconcile depends on: identity, spec generation, run-now and the whole status."""
    body = _plain(body)  # kopf hands over read-only views
    m = body.get("metadata") or {}
    raw = json.dumps([m.get("uid"), m.get("generation"),
                      (m.get("annotations") or {}).get(naming.RUN_NOW_ANNOTATION),
                      body.get("status")], sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass
class Outcome:
    """What one reconcile did (for logs, metrics and tests)."""

    valid: bool = True
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    status_written: bool = False
    run_now_started: str | None = None


@dataclass
class Reconciler:
    """Keeps each JobSource's CronJob, RBAC, store claim and status in line with its spec."""

    kube: Kube
    options: builders.OperatorOptions
    emit: EventSink
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    _locks: dict[tuple[str, str], threading.Lock] = field(default_factory=dict)
    _announced: dict[tuple[str, str], str] = field(default_factory=dict)
    _seen: dict[tuple[str, str], str] = field(default_factory=dict)

    def is_current(self, body: Obj) -> bool:
        """Whether this JobSource looks exactly as it did after our last reconcile of it (our
        own status write echoing back): nothing to do. Owned-object drift and the periodic
        resync reconcile regardless."""
        m = body.get("metadata") or {}
        return self._seen.get((m.get("namespace"), m.get("name"))) == _fingerprint(body)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    def reconcile(self, namespace: str, name: str) -> Outcome | None:
        """Reconcile one source by name; None when it no longer exists."""
        with self._guard:
            lock = self._locks.setdefault((namespace, name), threading.Lock())
        with lock:
            try:
                body = self.kube.get(builders.API_VERSION, builders.KIND, namespace, name)
            except NotFound:
                with self._guard:
                    self._locks.pop((namespace, name), None)
                self._seen.pop((namespace, name), None)
                self._announced.pop((namespace, name), None)
                return None
            if body["metadata"].get("deletionTimestamp"):
                return None
            for _ in range(3):
                try:
                    return self._reconcile(body)
                except Conflict:  # status changed under us (the runner wrote): read again
                    body = self.kube.get(builders.API_VERSION, builders.KIND, namespace, name)
            return self._reconcile(body)

    def _reconcile(self, body: Obj) -> Outcome:
        meta = body["metadata"]
        src = builders.SourceRef(meta["namespace"], meta["name"], meta["uid"])
        status = body.get("status") or {}
        out = Outcome()
        spec, problems = parse_spec(body.get("spec") or {})
        if spec is not None and not problems:
            problems = validate_spec(spec)
        cj_status: Obj | None = None
        run_now_handled = status.get("lastRunNow")
        if problems:
            out.valid = False
            old = decide.invalid_message(problems)
            prev = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"),
                        None)
            if not prev or prev.get("message") != old or prev.get("reason") != "InvalidSpec":
                self.emit(body, "Warning", "InvalidSpec", old, None)
            cj_status = None
        else:
            assert spec is not None
            fresh = "observedGeneration" not in status  # never reconciled: nothing to read
            for obj in (builders.build_service_account(src), builders.build_role(src),
                        builders.build_role_binding(src)):
                self._ensure(obj, out, fresh)
            claim = builders.build_store_claim(src, spec)
            if claim is not None:
                self._ensure_exists(claim, out, fresh)
            cronjob = self._ensure(builders.build_cronjob(src, spec, self.options), out, fresh)
            cj_status = cronjob.get("status") or {}
            wanted = (meta.get("annotations") or {}).get(naming.RUN_NOW_ANNOTATION)
            if wanted and wanted != run_now_handled:
                job = builders.build_run_now_job(src, spec, self.options, wanted,
                                                 cronjob["metadata"].get("uid"))
                try:
                    self.kube.create(job)
                    out.run_now_started = job["metadata"]["name"]
                    self.emit(body, "Normal", "RunNow",
                              f"Started Job {job['metadata']['name']} for run-now {wanted!r}",
                              None)
                except Conflict:
                    pass  # already started for this value (e.g. before a restart)
                run_now_handled = wanted
        self._announce_run(body, status.get("lastRun"))
        obs = decide.Observed(
            generation=meta.get("generation"),
            cronjob_name=naming.cronjob_name(src.name),
            board_count=len(spec.boards) if spec is not None else 0,
            schedule=spec.schedule if spec is not None else None,
            time_zone=spec.time_zone if spec is not None else None,
            suspended=bool(spec.suspend) if spec is not None else False,
            cronjob_status=cj_status if not problems else None,
            run_now_handled=run_now_handled,
        )
        desired = decide.operator_status(status, obs, problems, self.clock())
        patch = decide.status_patch(status, desired)
        after = body
        if patch is not None:
            patch_body = {"metadata": {"resourceVersion": meta["resourceVersion"]},
                          "status": patch}
            after = self.kube.merge_patch_status(builders.API_VERSION, builders.KIND,
                                                 src.namespace, src.name, patch_body)
            out.status_written = True
        self._seen[(src.namespace, src.name)] = _fingerprint(after)
        return out

    def _announce_run(self, body: Obj, last_run: Obj | None) -> None:
        """One event per finished run: Normal when it succeeded, Warning otherwise."""
        if not last_run or not last_run.get("completionTime"):
            return
        m = body["metadata"]
        key = f"{m['uid']}/{last_run.get('jobName')}/{last_run['completionTime']}"
        if self._announced.get((m["namespace"], m["name"])) == key:
            return
        type_, reason, message = events.run_event(last_run)
        self.emit(body, type_, reason, message, key)
        self._announced[(m["namespace"], m["name"])] = key

    def _ensure(self, obj: Obj, out: Outcome, fresh: bool = False) -> Obj:
        """Create or re-apply `obj` unless the live one already carries it; return the live one.
        `fresh`: the source was never reconciled, so apply without reading first."""
        m = obj["metadata"]
        label = f"{obj['kind']}/{m['name']}"
        try:
            if fresh:
                raise NotFound(label)
            live = self.kube.get(obj["apiVersion"], obj["kind"], m["namespace"], m["name"])
        except NotFound:
            live = self.kube.apply(obj)
            out.created.append(label)
            if obj["kind"] == "CronJob":
                self._emit_for(obj, "Normal", "CronJobCreated", f"Created CronJob {m['name']}")
            return live
        if contains(live, obj):
            return live
        live = self.kube.apply(obj)
        out.updated.append(label)
        if obj["kind"] == "CronJob":
            self._emit_for(obj, "Normal", "CronJobUpdated", f"Updated CronJob {m['name']}")
        return live

    def _ensure_exists(self, obj: Obj, out: Outcome, fresh: bool = False) -> None:
        """Create `obj` when absent; never change an existing one (PVC specs are immutable)."""
        m = obj["metadata"]
        try:
            if fresh:
                raise NotFound(m["name"])
            self.kube.get(obj["apiVersion"], obj["kind"], m["namespace"], m["name"])
        except NotFound:
            try:
                self.kube.create(obj)
                out.created.append(f"{obj['kind']}/{m['name']}")
            except Conflict:
                pass

    def _emit_for(self, owned: Obj, type_: str, reason: str, message: str) -> None:
        ref = owned["metadata"]["ownerReferences"][0]
        self.emit({"apiVersion": ref["apiVersion"], "kind": ref["kind"],
                   "metadata": {"name": ref["name"], "uid": ref["uid"],
                                "namespace": owned["metadata"]["namespace"]}},
                  type_, reason, message, None)
