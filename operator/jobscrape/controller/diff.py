"""Whether a live object already carries everything the operator wants in it."""

from __future__ import annotations

from typing import Any

from kubernetes.utils import parse_quantity


def _same_scalar(want: Any, have: Any) -> bool:
    if want == have:
        return True
    if isinstance(want, str | int | float) and isinstance(have, str | int | float):
        try:  # quantities the API server canonicalises: "1000m" == "1", "1024Mi" == "1Gi"
            return bool(parse_quantity(want) == parse_quantity(have))
        except (ValueError, TypeError):
            return False
    return False


def contains(have: Any, want: Any) -> bool:
    """True when every field set in `want` has the same value in `have`.

    Fields only in `have` (defaults the API server filled in, fields other managers own) are
    ignored; lists must have the same length and contain each wanted item in order.
    """
    if isinstance(want, dict):
        if not isinstance(have, dict):
            return False
        return all(k in have and contains(have[k], v) for k, v in want.items()
                   if v is not None) and all(have.get(k) is None for k, v in want.items()
                                              if v is None)
    if isinstance(want, list):
        if not isinstance(have, list) or len(have) != len(want):
            return False
        return all(contains(h, w) for h, w in zip(have, want, strict=True))
    return _same_scalar(want, have)
