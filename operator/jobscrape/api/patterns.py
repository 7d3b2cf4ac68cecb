"""The regular expressions of `spec.filters`: which fields hold them, how they compile, and
the check the API server cannot make (that each compiles). Used by the spec's validation and
by the posting filters.

Patterns are RE2 (google-re2): Python's syntax without lookaround and backreferences, matched
in time linear in the text, so no pattern a tenant writes can hang a run (a pattern like
`(a+)+$` that takes Python's `re` exponential time is fine here)."""

from __future__ import annotations

from typing import Any, Protocol

import re2

MAX_PROGRAM_BYTES = 8 << 20  # RE2's memory budget for one compiled pattern


class Pattern(Protocol):
    """A compiled pattern: what the filters call."""

    def search(self, text: str) -> object | None:
        """A match anywhere in `text`, or None."""
        ...


def _options() -> re2.Options:
    opts = re2.Options()
    opts.log_errors = False  # the error comes back as an exception, not on stderr
    opts.max_mem = MAX_PROGRAM_BYTES
    return opts


def compile_pattern(pattern: str) -> Pattern:
    """`pattern` compiled by RE2; re2.error when it is not a valid RE2 pattern."""
    return re2.compile(pattern, _options())  # type: ignore[no-any-return]

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
        compile_pattern(pattern)
    except re2.error as e:
        reason = e.args[0].decode(errors="replace") if e.args and isinstance(
            e.args[0], bytes) else str(e)
        return (f"invalid regular expression {pattern!r}: {reason} (RE2 syntax: Python's "
                "without lookaround and backreferences)")
    return None
