"""An informer-style cache of what the operator has seen: its owned objects and the JobSources.

Fed by the watches kopf already runs (every JobSource, and every CronJob, ServiceAccount, Role
and RoleBinding with the operator's label), by a paged list of those at start-up, and by the
responses of the operator's own writes, so a reconcile compares against what it has seen
instead of reading. Small on purpose (thousands of sources in one process): an owned object is
kept as a compact record, not as its body:

- identity (uid, resourceVersion, owner uids) and whether the operator's managedFields entry
  still needs turning from `Update` (left by the POST that created it) into `Apply`;
- a digest of its content (everything but status and the server's bookkeeping), and the digest
  of the desired object that content was found to contain (`verified`): a status-only change
  keeps the verdict, any other change drops it and keeps the trimmed body (compressed JSON)
  until the next reconcile has compared it;
- for a CronJob the two status times the JobSource's status shows; for a store claim (the
  operator may not list or watch claims) its small trimmed body and when it was read.

JobSources are kept as compressed JSON without managedFields. Records never go back in time: an
older resourceVersion than the one held is ignored, and a deletion leaves a tombstone so that a
write's response that arrives after the watch's DELETED does not bring the object back.
"""

from __future__ import annotations

import hashlib
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import msgspec

Obj = dict[str, Any]
Key = tuple[str, str, str]  # (kind, namespace, name)
CLAIM = "PersistentVolumeClaim"
CRONJOB_TIMES = ("lastScheduleTime", "lastSuccessfulTime")
_SORTED = msgspec.json.Encoder(order="sorted", enc_hook=str).encode
_PLAIN = msgspec.json.Encoder(enc_hook=str).encode
_BOOKKEEPING = ("managedFields", "resourceVersion", "generation", "uid", "creationTimestamp",
                "selfLink")


@dataclass(slots=True)
class Owned:
    """What the operator knows of one object it made."""

    uid: str
    resource_version: str
    owners: tuple[str, ...]  # uids of the owner references
    digest: int  # content digest (see content_digest)
    needs_upgrade: bool  # the operator's managedFields entry is still an Update
    verified: int | None = None  # content digest of a desired object this content contains
    body: bytes | None = None  # trimmed body not yet compared, compressed (claims: always)
    times: tuple[str | None, str | None] | None = None  # CronJob status times
    watched: bool = True  # kept current by a watch (claims: read at `read_at`)
    read_at: float = 0.0  # monotonic time of the read or write that gave this record

    def live(self) -> Obj | None:
        """The trimmed body held (a fresh copy), or None once verified."""
        return None if self.body is None else msgspec.json.decode(zlib.decompress(self.body))

    def cronjob_status(self) -> Obj:
        """The CronJob status fields the JobSource status uses."""
        times = self.times or (None, None)
        return {k: v for k, v in zip(CRONJOB_TIMES, times, strict=True) if v}


def _rv(value: str | None) -> int | None:
    """A resourceVersion as a number when it is one (etcd revisions are), else None."""
    return int(value) if value and value.isdigit() else None


def older(candidate: str | None, held: str | None) -> bool:
    """Whether resourceVersion `candidate` is known to be older than `held` (both numeric);
    opaque versions are never called older."""
    a, b = _rv(candidate), _rv(held)
    return a is not None and b is not None and a < b


def _pack(obj: Obj) -> bytes:
    return zlib.compress(_PLAIN(obj), 1)


def content_digest(obj: Obj) -> int:
    """A digest of everything in `obj` but its status and the server's bookkeeping: two bodies
    with the same digest differ at most in status, resourceVersion, managedFields and times."""
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _BOOKKEEPING}
    rest = {k: v for k, v in obj.items() if k not in ("metadata", "status")}
    raw = _SORTED([meta, rest])
    return int.from_bytes(hashlib.blake2b(raw, digest_size=8).digest(), "big")


def trimmed(obj: Obj) -> Obj:
    """`obj` without status and managedFields: what drift is judged on."""
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"}
    out = {k: v for k, v in obj.items() if k not in ("metadata", "status")}
    out["metadata"] = meta
    return out


def trimmed_claim(obj: Obj) -> Obj:
    """The few fields of a store claim the operator decides on."""
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    small: Obj = {"metadata": {k: meta[k] for k in ("name", "namespace", "labels",
                                                     "ownerReferences", "resourceVersion")
                               if k in meta},
                  "spec": {"resources": {"requests": {
                      "storage": ((spec.get("resources") or {}).get("requests") or {})
                      .get("storage")}}}}
    if spec.get("storageClassName") is not None:
        small["spec"]["storageClassName"] = spec["storageClassName"]
    return small


def needs_upgrade(obj: Obj, manager: str) -> bool:
    """Whether `manager`'s only main-resource managedFields entry is an Update (made by POST),
    which server-side apply would not clean up after."""
    mine = [e for e in (obj.get("metadata") or {}).get("managedFields") or []
            if isinstance(e, dict) and e.get("manager") == manager and not e.get("subresource")]
    return len(mine) == 1 and mine[0].get("operation") == "Update"


def key_of(obj: Obj) -> Key:
    """(kind, namespace, name) of an object (kind and namespace interned: shared by many)."""
    m = obj.get("metadata") or {}
    return (sys.intern(str(obj.get("kind"))), sys.intern(str(m.get("namespace") or "")),
            str(m.get("name") or ""))


class OwnedCache:
    """Compact records of the operator's own objects, by (kind, namespace, name)."""

    def __init__(self, manager: str) -> None:
        self.manager = manager
        self._items: dict[Key, Owned] = {}
        self._tombstones: dict[Key, tuple[str, str]] = {}  # key -> (uid, resourceVersion)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Key]:
        return iter(list(self._items))

    def get(self, key: Key) -> Owned | None:
        """The record of an object; None when it was never seen or is gone."""
        return self._items.get(key)

    def observe(self, obj: Obj, *, watched: bool = True, now: float = 0.0,
                verified: int | None = None) -> Owned | None:
        """Take in a body seen on a watch, in a list, a read or a write's response; returns
        the record, or None when the body is older than what is known (or was deleted).
        `verified`: the caller found this body to contain the desired object of that digest
        (its trimmed body is then not kept)."""
        key = key_of(obj)
        meta = obj.get("metadata") or {}
        uid, rv = str(meta.get("uid") or ""), str(meta.get("resourceVersion") or "")
        held = self._items.get(key)
        if held is not None and held.uid == uid:
            if older(rv, held.resource_version):
                return None
            if rv == held.resource_version and (verified is None or held.verified == verified):
                return held  # the same version again (a write's echo): nothing new
        tomb = self._tombstones.get(key)
        if tomb is not None:
            if tomb[0] == uid and not older(tomb[1], rv):
                return None  # a response that overtook nothing: the object is gone
            del self._tombstones[key]
        digest = content_digest(obj)
        claim = key[0] == CLAIM
        same = held is not None and held.uid == uid and held.digest == digest
        rec = Owned(
            uid=uid, resource_version=rv,
            owners=tuple(sys.intern(str(r.get("uid"))) for r in meta.get("ownerReferences")
                         or [] if isinstance(r, dict)),
            digest=digest, needs_upgrade=needs_upgrade(obj, self.manager),
            verified=held.verified if same and held is not None else None,
            body=_pack(trimmed_claim(obj)) if claim else (
                held.body if same and held is not None else
                None if verified is not None else _pack(trimmed(obj))),
            watched=watched and not claim, read_at=now if claim else 0.0)
        if key[0] == "CronJob":
            st = obj.get("status") or {}
            times = (st.get(CRONJOB_TIMES[0]), st.get(CRONJOB_TIMES[1]))
            rec.times = times if any(times) else None
        if verified is not None:
            rec.verified = verified
        if rec.verified is not None and not claim:
            rec.body = None
        self._items[key] = rec
        return rec

    def verify(self, key: Key, wanted: int) -> None:
        """The held content was found to contain the desired object whose content digest is
        `wanted`: later reconciles need not compare again until the content changes."""
        rec = self._items.get(key)
        if rec is not None:
            rec.verified = wanted
            if key[0] != CLAIM:
                rec.body = None

    def deleted(self, obj: Obj) -> None:
        """The object is gone (or left the operator's label selector)."""
        key = key_of(obj)
        meta = obj.get("metadata") or {}
        self._items.pop(key, None)
        self._tombstones[key] = (str(meta.get("uid") or ""),
                                 str(meta.get("resourceVersion") or ""))

    def forget(self, key: Key) -> None:
        """Drop what is known of an object (it will be read or created again)."""
        self._items.pop(key, None)
        self._tombstones.pop(key, None)

    def sweep(self, kinds: tuple[str, ...], seen: set[Key], namespace: str = "") -> int:
        """After a full list of `kinds` in `namespace` (all when empty): drop watched records
        there that the list did not show (their deletion was missed); returns how many went."""
        def listed(k: Key) -> bool:
            return k[0] in kinds and (not namespace or k[1] == namespace)
        gone = [k for k, r in self._items.items() if listed(k) and r.watched and k not in seen]
        for k in gone:
            del self._items[k]
        self._tombstones = {k: v for k, v in self._tombstones.items()
                            if not listed(k) or k in seen}
        return len(gone)


class SourceCache:
    """The last seen body of every JobSource (without managedFields, compressed JSON), by
    (namespace, name)."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str], bytes] = {}
        self._versions: dict[tuple[str, str], tuple[str, str]] = {}  # (uid, resourceVersion)

    def __len__(self) -> int:
        return len(self._items)

    def keys(self) -> list[tuple[str, str]]:
        """Every source held."""
        return list(self._items)

    def put(self, body: Obj) -> bool:
        """Keep this body unless an older version than the one held; whether it was kept."""
        meta = body.get("metadata") or {}
        key = (str(meta.get("namespace") or ""), str(meta.get("name") or ""))
        uid, rv = str(meta.get("uid") or ""), str(meta.get("resourceVersion") or "")
        held = self._versions.get(key)
        if held is not None and held[0] == uid and (older(rv, held[1]) or rv == held[1]):
            return rv == held[1]  # an older version: dropped; the same one: kept already
        slim = {**body, "metadata": {k: v for k, v in meta.items() if k != "managedFields"}}
        self._items[key] = _pack(slim)
        self._versions[key] = (sys.intern(uid), rv)
        return True

    def get(self, namespace: str, name: str) -> Obj | None:
        """The last seen body (a fresh copy), or None."""
        raw = self._items.get((namespace, name))
        return msgspec.json.decode(zlib.decompress(raw)) if raw is not None else None

    def forget(self, namespace: str, name: str) -> None:
        """The source is gone."""
        self._items.pop((namespace, name), None)
        self._versions.pop((namespace, name), None)
