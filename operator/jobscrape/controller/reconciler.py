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

from jobscrape.api.status import Condition, JobSourceStatus, read_status, wire
from jobscrape.api.validate import parse_spec, validate_spec
from jobscrape.controller import builders, decide, events, naming, policy
from jobscrape.controller.diff import contains
from jobscrape.kubeclient import ApiException, Conflict, Kube, NamespaceTerminating, NotFound

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


class NameConflict(RuntimeError):
    """An object the operator would make exists already and belongs to someone else."""


@dataclass
class Outcome:
    """What one reconcile did (for logs, metrics and tests)."""

    valid: bool = True
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    status_written: bool = False
    run_now_started: str | None = None
    blocked: tuple[str, str] | None = None  # (reason, message) why Ready is False


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
            try:
                for _ in range(3):
                    try:
                        return self._reconcile(body)
                    except Conflict:  # status changed under us (the runner wrote): read again
                        body = self.kube.get(builders.API_VERSION, builders.KIND, namespace,
                                             name)
                return self._reconcile(body)
            except NamespaceTerminating:  # the namespace is going away, and the source too
                log.debug("namespace %s is terminating; %s not reconciled", namespace, name)
                return None

    def report_failure(self, namespace: str, name: str, error: str) -> None:
        """Say in the status that reconciling failed and is being retried (Reconciling=True,
        ReconcileFailed); best effort: the API may be what failed."""
        try:
            body = self.kube.get(builders.API_VERSION, builders.KIND, namespace, name)
            raw = body.get("status") or {}
            conds = decide.failure_conditions(read_status(raw), error, body["metadata"].get(
                "generation"), self.clock())
            if decide.status_patch(raw, {"conditions": conds}) is None:
                return
            after = self.kube.merge_patch_status(
                builders.API_VERSION, builders.KIND, namespace, name,
                {"metadata": {"resourceVersion": body["metadata"]["resourceVersion"]},
                 "status": {"conditions": conds}})
            self._seen[(namespace, name)] = _fingerprint(after)  # not an echo to react to
        except Exception as e:  # the next retry tries again
            log.debug("could not report the failure of %s/%s: %s", namespace, name, e)

    def _reconcile(self, body: Obj) -> Outcome:
        meta = body["metadata"]
        src = builders.SourceRef(meta["namespace"], meta["name"], meta["uid"])
        raw_status = body.get("status") or {}
        status = read_status(raw_status)
        out = Outcome()
        spec, problems = parse_spec(body.get("spec") or {})
        if spec is not None and not problems:
            problems = validate_spec(spec) + policy.check_spec(
                spec, self.options.policy, self.options.runner_image)
        cj_status: Obj | None = None
        run_now_handled = status.last_run_now
        if problems:
            out.valid = False
            self._warn_once(body, status, ("InvalidSpec", decide.invalid_message(problems)))
            cj_status = None
        else:
            assert spec is not None
            fresh = status.observed_generation is None  # never reconciled: nothing to read
            cronjob = None
            try:
                for obj in (builders.build_service_account(src), builders.build_role(src),
                            builders.build_role_binding(src)):
                    self._ensure(obj, src, out, fresh)
                claim = builders.build_store_claim(src, spec)
                if claim is not None:
                    self._ensure_claim(claim, src, out, fresh, status.condition("Ready"))
                cronjob = self._ensure(builders.build_cronjob(src, spec, self.options), src,
                                       out, fresh)
            except NameConflict as e:
                out.blocked = ("NameConflict", str(e))
            self._warn_once(body, status, out.blocked)
            cj_status = (cronjob.get("status") or {}) if cronjob is not None else None
            wanted = (meta.get("annotations") or {}).get(naming.RUN_NOW_ANNOTATION)
            if cronjob is not None and wanted and wanted != run_now_handled:
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
        self._announce_run(body, wire(status.last_run) if status.last_run else None)
        obs = decide.Observed(
            generation=meta.get("generation"),
            cronjob_name=naming.cronjob_name(src.name),
            board_count=len(spec.boards) if spec is not None else 0,
            schedule=spec.schedule if spec is not None else None,
            time_zone=spec.time_zone if spec is not None else None,
            suspended=bool(spec.suspend) if spec is not None else False,
            cronjob_status=cj_status if not problems else None,
            run_now_handled=run_now_handled,
            blocked=out.blocked,
        )
        desired = decide.operator_status(status, obs, problems, self.clock())
        patch = decide.status_patch(raw_status, desired)
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
        key = decide.run_event_key(m["uid"], last_run)
        if self._announced.get((m["namespace"], m["name"])) == key:
            return
        type_, reason, message = events.run_event(last_run)
        self.emit(body, type_, reason, message, key)
        self._announced[(m["namespace"], m["name"])] = key

    def _warn_once(self, body: Obj, status: JobSourceStatus, blocked: tuple[str, str] | None
                   ) -> None:
        """A Warning event when Ready turns False for a new reason or message."""
        if blocked is None:
            return
        prev = status.condition("Ready")
        if prev is None or (prev.reason, prev.message) != blocked:
            self.emit(body, "Warning", blocked[0], blocked[1], None)

    def _create(self, obj: Obj, out: Outcome) -> Obj:
        """Create `obj` (POST: never takes over an existing object); Conflict when it exists."""
        m = obj["metadata"]
        live = self.kube.create(obj)
        out.created.append(f"{obj['kind']}/{m['name']}")
        if obj["kind"] == "CronJob":
            self._emit_for(obj, "Normal", "CronJobCreated", f"Created CronJob {m['name']}")
        return live

    def _read_or_create(self, obj: Obj, out: Outcome, fresh: bool) -> tuple[Obj, bool]:
        """The live object and whether this call created it. `fresh`: the source was never
        reconciled, so try creating before reading."""
        m = obj["metadata"]
        if fresh:
            try:
                return self._create(obj, out), True
            except Conflict:
                pass
        try:
            return self.kube.get(obj["apiVersion"], obj["kind"], m["namespace"], m["name"]), False
        except NotFound:
            return self._create(obj, out), True

    def _ensure(self, obj: Obj, src: builders.SourceRef, out: Outcome, fresh: bool = False
                ) -> Obj:
        """Create `obj`, or bring the live one in line when it is this source's; return the
        live one. NameConflict when an object of that name belongs to someone else."""
        m = obj["metadata"]
        live, created = self._read_or_create(obj, out, fresh)
        if created:
            return live
        if not decide.owned_by(live, src.uid):
            raise NameConflict(f"{obj['kind']} {m['name']} already exists and is not owned by "
                               "this JobSource; it is left untouched (rename the JobSource or "
                               "remove that object)")
        if contains(live, obj):
            return live
        upgrade = decide.managed_fields_upgrade(live, self.kube.field_manager)
        if upgrade is not None:
            self.kube.json_patch(obj["apiVersion"], obj["kind"], m["namespace"], m["name"],
                                 upgrade)
        live = self.kube.apply(obj)
        out.updated.append(f"{obj['kind']}/{m['name']}")
        if obj["kind"] == "CronJob":
            self._emit_for(obj, "Normal", "CronJobUpdated", f"Updated CronJob {m['name']}")
        return live

    def _ensure_claim(self, claim: Obj, src: builders.SourceRef, out: Outcome, fresh: bool,
                      ready: Condition | None) -> None:
        """Create the store claim, or make its owner reference follow whenDeleted and grow it
        to the spec's size; what the claim cannot take is reported through out.blocked."""
        m = claim["metadata"]
        live, created = self._read_or_create(claim, out, fresh)
        if created:
            return
        if not decide.claim_is_ours(live, src.uid, naming.labels(src.name)):
            raise NameConflict(f"PersistentVolumeClaim {m['name']} already exists and does not "
                               "belong to this JobSource; it is left untouched")
        change = decide.claim_changes(live, claim, src.uid)
        args = (claim["apiVersion"], claim["kind"], m["namespace"], m["name"])
        if change.owner_references is not None:
            self.kube.merge_patch(*args, {"metadata": {
                "ownerReferences": change.owner_references,
                "resourceVersion": live["metadata"]["resourceVersion"]}})
            out.updated.append(f"PersistentVolumeClaim/{m['name']}")
        problem = change.problem
        if change.size is not None:
            refused = (f"spec.store.sqlite.size: the claim {m['name']} could not be resized to "
                       f"{change.size}")
            if ready is not None and ready.message.startswith(refused):
                problem = ready.message  # refused before: do not ask again
            else:
                try:
                    self.kube.merge_patch(*args, {"spec": {"resources": {"requests": {
                        "storage": change.size}}}})
                    out.updated.append(f"PersistentVolumeClaim/{m['name']}")
                except ApiException as e:
                    problem = f"{refused}: {e.reason}"
        if problem is not None:
            out.blocked = ("StoreNotResized", problem)

    def _emit_for(self, owned: Obj, type_: str, reason: str, message: str) -> None:
        ref = owned["metadata"]["ownerReferences"][0]
        self.emit({"apiVersion": ref["apiVersion"], "kind": ref["kind"],
                   "metadata": {"name": ref["name"], "uid": ref["uid"],
                                "namespace": owned["metadata"]["namespace"]}},
                  type_, reason, message, None)
