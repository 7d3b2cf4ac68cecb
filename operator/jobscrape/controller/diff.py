"""Whether a live object already carries everything the operator wants in it."""

from __future__ import annotations

from typing import Any

from jobscrape.kubeapi import parse_quantity

# Lists the API server merges by a key (listType=map): other managers may add items to them
# (a mutating webhook's env var, a sidecar), so only the wanted items are compared, by key.
# Every other list is atomic: it must equal the wanted one item for item.
MAP_LIST_KEYS = {
    "containers": "name", "initContainers": "name", "env": "name", "volumes": "name",
    "volumeMounts": "mountPath", "ports": "containerPort", "ownerReferences": "uid",
    "imagePullSecrets": "name", "conditions": "type",
}


def _same_scalar(want: Any, have: Any) -> bool:
    if want == have:
        return True
    if isinstance(want, str | int | float) and isinstance(have, str | int | float):
        try:  # quantities the API server canonicalises: "1000m" == "1", "1024Mi" == "1Gi"
            return bool(parse_quantity(want) == parse_quantity(have))
        except (ValueError, TypeError):
            return False
    return False


def _contains_keyed(have: list[Any], want: list[Any], key: str) -> bool:
    by_key = {h.get(key): h for h in have if isinstance(h, dict)}
    return all(isinstance(w, dict) and w.get(key) in by_key and contains(by_key[w[key]], w)
               for w in want)


def contains(have: Any, want: Any, field: str = "") -> bool:
    """True when every field set in `want` has the same value in `have`.

    Fields only in `have` (defaults the API server filled in, fields other managers own) are
    ignored; so are extra items of keyed lists (MAP_LIST_KEYS, by the field's name); atomic
    lists must have the same length and contain each wanted item in order.
    """
    if isinstance(want, dict):
        if not isinstance(have, dict):
            return False
        return all(k in have and contains(have[k], v, k) for k, v in want.items()
                   if v is not None) and all(have.get(k) is None for k, v in want.items()
                                              if v is None)
    if isinstance(want, list):
        if not isinstance(have, list):
            return False
        key = MAP_LIST_KEYS.get(field)
        if key is not None and all(isinstance(w, dict) and key in w for w in want):
            return _contains_keyed(have, want, key)
        if len(have) != len(want):
            return False
        return all(contains(h, w) for h, w in zip(have, want, strict=True))
    return _same_scalar(want, have)
