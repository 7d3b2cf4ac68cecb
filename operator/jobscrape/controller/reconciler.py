"""One reconcile of one JobSource: look up what is, build what should be, write the difference.

What is comes from the cache (controller/cache.py) the watches keep, not from reads: an owned
object the cache holds and has found to contain the desired one costs nothing; one that changed
is compared with its trimmed body; one whose desired form changed is server-side applied
without a read (guarded by its uid, so a foreign object that took its name is never touched).
Objects are created with POST (never adopting: a foreign object of that name is a
NameConflict). Reads remain for what no watch shows: a store claim (re-read every
`claim_ttl` seconds), an object that exists but is not in the cache (foreign, or not yet seen),
the managedFields of an object whose create entry must become an apply entry (once per object),
and the JobSource after a conflicting status write.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from jobscrape.api.status import Condition, JobSourceStatus, read_status, wire
from jobscrape.api.validate import parse_spec, validate_spec
from jobscrape.controller import builders, decide, events, finisher, naming, policy
from jobscrape.controller.apiclient import AsyncKube
from jobscrape.controller.cache import Owned, OwnedCache, SourceCache, content_digest, key_of
from jobscrape.controller.conditions import fmt_time
from jobscrape.controller.diff import contains
from jobscrape.kubeapi import ApiError, Conflict, NamespaceTerminating, NotFound

log = logging.getLogger("jobscrape.operator")
Obj = dict[str, Any]
# (involved object, type, reason, message, dedup key or None)
EventSink = Callable[[Obj, str, str, str, str | None], Awaitable[None]]


def _fingerprint(body: Obj) -> str:
    """What a reconcile depends on: identity, spec generation, run-now and the whole status
    (of a plain body: a watch event's raw object, a list item or a response)."""
    m = body.get("metadata") or {}
    raw = json.dumps([m.get("uid"), m.get("generation"),
                      (m.get("annotations") or {}).get(naming.RUN_NOW_ANNOTATION),
                      body.get("status")], sort_keys=True, default=str)
    return hashlib.blake2b(raw.encode(), digest_size=12).hexdigest()


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



async def _all(*steps: Awaitable[Any]) -> None:
    """Run `steps` at once and wait for all of them; then raise the first error, if any (no
    step is left running behind the reconcile)."""
    results = await asyncio.gather(*steps, return_exceptions=True)
    for r in results:
        if isinstance(r, BaseException):
            raise r


def claim_ttl_for(name: str, ttl: float) -> float:
    """How long a store claim's record is trusted: `ttl` spread by the name over 0.75-1.25x, so
    claims read together are not all read again together."""
    return ttl * (0.75 + 0.5 * (zlib.crc32(name.encode()) % 1000) / 1000)


@dataclass
class Reconciler:
    """Keeps each JobSource's CronJob, RBAC, store claim and status in line with its spec, from
    the cache."""

    kube: AsyncKube
    options: builders.OperatorOptions
    emit: EventSink
    owned: OwnedCache = field(default_factory=lambda: OwnedCache(naming.FIELD_MANAGER))
    sources: SourceCache = field(default_factory=SourceCache)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    monotonic: Callable[[], float] = time.monotonic
    claim_ttl: float = 3600.0
    _announced: dict[tuple[str, str], str] = field(default_factory=dict)
    _seen: dict[tuple[str, str], str] = field(default_factory=dict)
    _foreign: set[tuple[str, str, str]] = field(default_factory=set)

    def is_current(self, body: Obj) -> bool:
        """Whether this JobSource looks exactly as it did after our last reconcile of it (our
        own status write echoing back): nothing to do. Owned-object drift and the periodic
        resync reconcile regardless."""
        m = body.get("metadata") or {}
        return self._seen.get((m.get("namespace"), m.get("name"))) == _fingerprint(body)

    def needs_resync(self, body: Obj) -> bool:
        """Whether the periodic resync should reconcile this (listed) source: it changed since
        its last reconcile (or never had one), its next run time has passed (the status shows
        the next one), one of its owned objects is not known to be in line (missing from the
        cache or changed since verified), or its store claim is due to be read again. Else
        a reconcile would find nothing to do: the resync skips it (and its CPU)."""
        m = body.get("metadata") or {}
        ns, name = str(m.get("namespace") or ""), str(m.get("name") or "")
        if self._seen.get((ns, name)) != _fingerprint(body):
            return True
        nxt = (body.get("status") or {}).get("nextScheduleTime")
        if nxt and str(nxt) <= fmt_time(self.clock()):  # RFC 3339 UTC compares as text
            return True
        runner = naming.runner_name(name)
        for kind, obj_name in (("ServiceAccount", runner), ("Role", runner),
                               ("RoleBinding", runner), ("CronJob", naming.cronjob_name(name))):
            rec = self.owned.get((kind, ns, obj_name))
            if rec is None or rec.verified is None:
                return True
        claim_name = naming.store_claim_name(name)
        claim = self.owned.get(("PersistentVolumeClaim", ns, claim_name))
        return claim is not None and (self.monotonic() - claim.read_at
                                      > claim_ttl_for(claim_name, self.claim_ttl))

    def source_seen(self, body: Obj) -> None:
        """A JobSource body from a watch event or a list: remembered for reconciles."""
        self.sources.put(body)

    def source_gone(self, namespace: str, name: str) -> None:
        """The JobSource was deleted: forget it and what was remembered about it."""
        key = (namespace, name)
        self.sources.forget(namespace, name)
        self._seen.pop(key, None)
        self._announced.pop(key, None)
        claim = ("PersistentVolumeClaim", namespace, naming.store_claim_name(name))
        self.owned.forget(claim)  # no watch tells when it goes
        self._foreign -= {claim, *((kind, namespace, naming.runner_name(name)) for kind in (
            "ServiceAccount", "Role", "RoleBinding")), ("CronJob", namespace,
                                                         naming.cronjob_name(name))}

    async def reconcile(self, namespace: str, name: str) -> Outcome | None:
        """Reconcile one source from the cache (the caller runs one at a time per source);
        None when it no longer exists."""
        body = self.sources.get(namespace, name)
        if body is None:
            self.source_gone(namespace, name)
            return None
        if body["metadata"].get("deletionTimestamp"):
            return None
        try:
            for _ in range(3):
                try:
                    return await self._reconcile(body)
                except Conflict:  # status changed under us (the runner wrote): read again
                    try:
                        body = await self.kube.get(builders.API_VERSION, builders.KIND,
                                                   namespace, name)
                    except NotFound:
                        self.source_gone(namespace, name)
                        return None
                    self.sources.put(body)
            return await self._reconcile(body)
        except NamespaceTerminating:  # the namespace is going away, and the source too
            log.debug("namespace %s is terminating; %s not reconciled", namespace, name)
            return None

    async def report_failure(self, namespace: str, name: str, error: str) -> None:
        """Say in the status that reconciling failed and is being retried (Reconciling=True,
        ReconcileFailed); best effort: the API may be what failed."""
        try:
            body = self.sources.get(namespace, name)
            if body is None:
                return
            raw = body.get("status") or {}
            conds = decide.failure_conditions(read_status(raw), error, body["metadata"].get(
                "generation"), self.clock())
            if decide.status_patch(raw, {"conditions": conds}) is None:
                return
            after = await self.kube.merge_patch_status(
                builders.API_VERSION, builders.KIND, namespace, name,
                {"metadata": {"resourceVersion": body["metadata"]["resourceVersion"]},
                 "status": {"conditions": conds}})
            self.sources.put(after)
            self._seen[(namespace, name)] = _fingerprint(after)  # not an echo to react to
        except Exception as e:  # the next retry tries again
            log.debug("could not report the failure of %s/%s: %s", namespace, name, e)

    async def _reconcile(self, body: Obj) -> Outcome:
        meta = body["metadata"]
        src = builders.SourceRef(meta["namespace"], meta["name"], meta["uid"])
        raw_status = body.get("status") or {}
        status = read_status(raw_status)
        out = Outcome()
        spec, problems = self._checked_spec(body)
        cj_status: Obj | None = None
        run_now_handled = status.last_run_now
        if problems:
            out.valid = False
            await self._warn_once(body, status, ("InvalidSpec",
                                                 decide.invalid_message(problems)))
        else:
            assert spec is not None
            fresh = status.observed_generation is None  # never reconciled: nothing to read
            cronjob: Owned | None = None
            try:
                # what does not depend on each other at once: the RoleBinding needs its Role
                # (the API server checks the binder holds the Role's rights), and the CronJob
                # is only made once its account and rights are the source's own
                claim = builders.build_store_claim(src, spec)
                await _all(self._ensure(builders.build_service_account(src), src, out),
                           self._ensure(builders.build_role(src), src, out))
                await _all(self._ensure(builders.build_role_binding(src), src, out),
                           *([self._ensure_claim(claim, src, out, fresh,
                                                 status.condition("Ready"))]
                             if claim is not None else []))
                cronjob = await self._ensure(builders.build_cronjob(src, spec, self.options),
                                             src, out)
            except NameConflict as e:
                out.blocked = ("NameConflict", str(e))
            await self._warn_once(body, status, out.blocked)
            cj_status = cronjob.cronjob_status() if cronjob is not None else None
            wanted = (meta.get("annotations") or {}).get(naming.RUN_NOW_ANNOTATION)
            if cronjob is not None and wanted and wanted != run_now_handled:
                job = builders.build_run_now_job(src, spec, self.options, wanted, cronjob.uid)
                try:
                    await self.kube.create(job)
                    out.run_now_started = job["metadata"]["name"]
                    await self.emit(body, "Normal", "RunNow",
                                    f"Started Job {job['metadata']['name']} for run-now "
                                    f"{wanted!r}", None)
                except Conflict:
                    pass  # already started for this value (e.g. before a restart)
                run_now_handled = wanted
        await self._announce_run(body, wire(status.last_run) if status.last_run else None)
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
            after = await self.kube.merge_patch_status(builders.API_VERSION, builders.KIND,
                                                       src.namespace, src.name, patch_body)
            self.sources.put(after)
            out.status_written = True
        self._seen[(src.namespace, src.name)] = _fingerprint(after)
        return out

    def _checked_spec(self, body: Obj) -> tuple[Any, list[Any]]:
        """The source's spec and its problems (schema, rules, the operator's runner policy)."""
        spec, problems = parse_spec(body.get("spec") or {})
        if spec is not None and not problems:
            problems = validate_spec(spec) + policy.check_spec(
                spec, self.options.policy, self.options.runner_image)
        return spec, list(problems)

    async def finish_run(self, job: Obj) -> str | None:
        """When `job` is a sharded run of one of the cached sources that ended with shards
        missing and no status (finisher.run_to_finish), start the Job that finishes it (once:
        its name is fixed); the name of the Job it started, else None."""
        meta = job.get("metadata") or {}
        ns, source = meta.get("namespace"), (meta.get("labels") or {}).get(naming.SOURCE_LABEL)
        body = self.sources.get(str(ns), str(source)) if ns and source else None
        if body is None or body["metadata"].get("deletionTimestamp"):
            return None
        cronjob = self.owned.get(("CronJob", str(ns), naming.cronjob_name(str(source))))
        owners = {r.get("uid") for r in meta.get("ownerReferences") or [] if isinstance(r, dict)}
        if not owners & {body["metadata"]["uid"], cronjob.uid if cronjob else None}:
            return None  # not a run of this source's CronJob (nor of the source itself)
        shards = finisher.run_to_finish(job, (body.get("status") or {}).get("lastRun"))
        spec, problems = self._checked_spec(body)
        if shards is None or spec is None or problems:
            return None
        src = builders.SourceRef(str(ns), str(source), body["metadata"]["uid"])
        fin = builders.build_finish_job(src, spec, self.options, meta["name"], meta["uid"],
                                        shards)
        name = fin["metadata"]["name"]
        try:
            await self.kube.create(fin)
        except Conflict:
            return None  # started before (an earlier event, or before a restart)
        await self.emit(body, "Warning", "ShardsFailed",
                        f"Run {meta['name']} ended without shard(s) "
                        f"{finisher.failed_indexes(job)}; Job {name} writes its status", None)
        return name

    async def _announce_run(self, body: Obj, last_run: Obj | None) -> None:
        """One event per finished run: Normal when it succeeded, Warning otherwise."""
        if not last_run or not last_run.get("completionTime"):
            return
        m = body["metadata"]
        key = decide.run_event_key(m["uid"], last_run)
        if self._announced.get((m["namespace"], m["name"])) == key:
            return
        type_, reason, message = events.run_event(last_run)
        await self.emit(body, type_, reason, message, key)
        self._announced[(m["namespace"], m["name"])] = key

    async def _warn_once(self, body: Obj, status: JobSourceStatus,
                         blocked: tuple[str, str] | None) -> None:
        """A Warning event when Ready turns False for a new reason or message."""
        if blocked is None:
            return
        prev = status.condition("Ready")
        if prev is None or (prev.reason, prev.message) != blocked:
            await self.emit(body, "Warning", blocked[0], blocked[1], None)

    async def _create(self, obj: Obj, out: Outcome) -> Obj:
        """Create `obj` (POST: never takes over an existing object); Conflict when it exists."""
        m = obj["metadata"]
        live = await self.kube.create(obj)
        out.created.append(f"{obj['kind']}/{m['name']}")
        if obj["kind"] == "CronJob":
            await self._emit_for(obj, "Normal", "CronJobCreated", f"Created CronJob {m['name']}")
        return live

    async def _read_or_create(self, obj: Obj, out: Outcome, create_first: bool
                              ) -> tuple[Obj, bool]:
        """The live object and whether this call created it: created with POST, or read when
        it exists (`create_first`: try creating before reading)."""
        m = obj["metadata"]
        if create_first:
            try:
                return await self._create(obj, out), True
            except Conflict:
                pass
        try:
            return await self.kube.get(obj["apiVersion"], obj["kind"], m["namespace"],
                                       m["name"]), False
        except NotFound:
            return await self._create(obj, out), True

    def _conflict(self, obj: Obj) -> NameConflict:
        return NameConflict(f"{obj['kind']} {obj['metadata']['name']} already exists and is not "
                            "owned by this JobSource; it is left untouched (rename the "
                            "JobSource or remove that object)")

    async def _ensure(self, obj: Obj, src: builders.SourceRef, out: Outcome) -> Owned:
        """Create `obj`, or bring the live one in line when it is this source's; return what is
        known of the live one. NameConflict when an object of that name belongs to someone
        else."""
        key = key_of(obj)
        want = content_digest(obj)
        rec = self.owned.get(key)
        if rec is None:  # not seen: absent, foreign (no label), or not shown by the watch yet
            live, _ = await self._read_or_create(obj, out, key not in self._foreign)
            if not decide.owned_by(live, src.uid):
                self._foreign.add(key)
                raise self._conflict(obj)
            self._foreign.discard(key)
            in_line = contains(live, obj)
            rec = self.owned.observe(live, now=self.monotonic(),
                                     verified=want if in_line else None)
            if rec is None:  # deleted meanwhile: the watch's DELETED triggers another round
                raise Conflict(f"{obj['kind']} {obj['metadata']['name']} went away")
            if in_line:
                return rec
        if src.uid not in rec.owners:
            raise self._conflict(obj)
        if rec.verified == want:
            return rec  # in sync with what is wanted: nothing to read, nothing to write
        held = rec.live()
        if held is not None and contains(held, obj):
            self.owned.verify(key, want)
            return rec
        return await self._update(obj, rec, want, out)

    async def _update(self, obj: Obj, rec: Owned, want: int, out: Outcome) -> Owned:
        """Server-side apply `obj` over the live object of `rec`'s uid (never another one)."""
        m = obj["metadata"]
        args = (obj["apiVersion"], obj["kind"], m["namespace"], m["name"])
        key = key_of(obj)
        try:
            if rec.needs_upgrade:  # the POST's Update entry becomes an Apply entry, once
                live = await self.kube.get(*args)
                upgrade = decide.managed_fields_upgrade(live, self.kube.field_manager)
                if upgrade is not None:
                    await self.kube.json_patch(*args, upgrade)
            live = await self.kube.apply(obj, uid=rec.uid)
        except (NotFound, Conflict) as e:
            self.owned.forget(key)  # replaced or gone since seen: look again next round
            raise Conflict(f"{obj['kind']} {m['name']} changed while being updated") from e
        except ApiError as e:
            if e.status == 422:  # another object took the name: look again next round
                self.owned.forget(key)
            raise
        new = self.owned.observe(live, now=self.monotonic(),
                                 verified=want if contains(live, obj) else None)
        out.updated.append(f"{obj['kind']}/{m['name']}")
        if obj["kind"] == "CronJob":
            await self._emit_for(obj, "Normal", "CronJobUpdated", f"Updated CronJob {m['name']}")
        return new or rec

    async def _ensure_claim(self, claim: Obj, src: builders.SourceRef, out: Outcome,
                            fresh: bool, ready: Condition | None) -> None:
        """Create the store claim, or make its owner reference follow whenDeleted and grow it
        to the spec's size; what the claim cannot take is reported through out.blocked. No
        watch shows claims: the record of one is trusted for about `claim_ttl` seconds."""
        m = claim["metadata"]
        key = key_of(claim)
        now = self.monotonic()
        rec = self.owned.get(key)
        if rec is None or now - rec.read_at > claim_ttl_for(m["name"], self.claim_ttl):
            live, created = await self._read_or_create(
                claim, out, rec is None and fresh and key not in self._foreign)
            rec = self.owned.observe(live, watched=False, now=now)
            if created or rec is None:
                return
        live = rec.live()
        assert live is not None  # claims keep their trimmed body
        if not decide.claim_is_ours(live, src.uid, naming.labels(src.name)):
            self._foreign.add(key)
            self.owned.forget(key)
            raise NameConflict(f"PersistentVolumeClaim {m['name']} already exists and does not "
                               "belong to this JobSource; it is left untouched")
        self._foreign.discard(key)
        change = decide.claim_changes(live, claim, src.uid)
        args = (claim["apiVersion"], claim["kind"], m["namespace"], m["name"])
        if change.owner_references is not None:
            try:
                after = await self.kube.merge_patch(*args, {"metadata": {
                    "ownerReferences": change.owner_references,
                    "resourceVersion": live["metadata"].get("resourceVersion")}})
            except (Conflict, NotFound):
                self.owned.forget(key)  # changed since it was read: read it next round
                raise
            self.owned.observe(after, watched=False, now=now)
            out.updated.append(f"PersistentVolumeClaim/{m['name']}")
        problem = change.problem
        if change.size is not None:
            refused = (f"spec.store.sqlite.size: the claim {m['name']} could not be resized to "
                       f"{change.size}")
            if ready is not None and ready.message.startswith(refused):
                problem = ready.message  # refused before: do not ask again
            else:
                try:
                    after = await self.kube.merge_patch(*args, {"spec": {"resources": {
                        "requests": {"storage": change.size}}}})
                    self.owned.observe(after, watched=False, now=now)
                    out.updated.append(f"PersistentVolumeClaim/{m['name']}")
                except ApiError as e:
                    problem = f"{refused}: {e.reason}"
        if problem is not None:
            out.blocked = ("StoreNotResized", problem)

    async def _emit_for(self, owned: Obj, type_: str, reason: str, message: str) -> None:
        ref = owned["metadata"]["ownerReferences"][0]
        await self.emit({"apiVersion": ref["apiVersion"], "kind": ref["kind"],
                         "metadata": {"name": ref["name"], "uid": ref["uid"],
                                      "namespace": owned["metadata"]["namespace"]}},
                        type_, reason, message, None)
