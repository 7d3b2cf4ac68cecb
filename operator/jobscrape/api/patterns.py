"""The regular expressions of `spec.filters` (Python syntax): which fields hold them, and
the check the API server cannot make (that each compiles). Used by the spec's validation and
by the posting filters."""

from __future__ import annotations

import re
from typing import Any

#: The fields of `spec.filters` with include/exclude pattern lists.
PATTERN_FIELDS = ("titles", "locations", "departments")


def validate_patterns(filters: Any) -> list[tuple[str, str]]:
    """(field path, message) for every pattern of `filters` that is not a valid regex,
    e.g. ("spec.filters.titles.include[0]", "invalid regular expression '(': ...").
    """
    problems: list[tuple[str, str]] = []
    if filters is None:
        return problems
    for field in PATTERN_FIELDS:
        spec = getattr(filters, field, None)
        for kind in ("include", "exclude"):
            for i, pattern in enumerate(getattr(spec, kind, None) or []):
                path = f"spec.filters.{field}.{kind}[{i}]"
                message = pattern_problem(pattern)
                if message:
                    problems.append((path, message))
    return problems


def pattern_problem(pattern: object) -> str | None:
    """Why `pattern` is not a usable regular expression; None when it is."""
    if not isinstance(pattern, str):
        return f"must be a string, got {type(pattern).__name__}"
    try:
        re.compile(pattern)
    except re.error as e:
        return f"invalid regular expression {pattern!r}: {e}"
    except (OverflowError, RecursionError) as e:
        return f"invalid regular expression {pattern!r}: too complex ({type(e).__name__})"
    return None
