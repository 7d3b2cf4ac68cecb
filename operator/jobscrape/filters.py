"""The spec's posting filters (`spec.filters`), compiled once and applied to each posting.

Semantics:
- titles, locations, departments: RE2 regular expressions (Python's syntax without lookaround
  and backreferences, linear time) searched anywhere in the text (write `(?i)` for
  case-insensitive). An empty include list admits everything; a value is admitted when it
  matches some include pattern and no exclude pattern.
- titles: the title must be admitted.
- locations: at least one of the posting's locations must be admitted (a posting in "Berlin"
  and "Remote - US" passes include ["Berlin"] and also exclude ["US"]). A posting without
  locations passes only when the include list is empty.
- departments: the department must be admitted; a posting without one passes only when the
  include list is empty.
- remote: "any" keeps all; "only" keeps postings known to be remote; "exclude" drops them
  (postings of unknown remoteness are kept).
- max_age_days: drops postings first published (else last updated) more than that many days
  before `now`; postings without either date are kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from jobscrape.api.patterns import PATTERN_FIELDS, Pattern, compile_pattern, validate_patterns
from jobscrape.api.vocabulary import REMOTE_FILTERS
from jobscrape.postings import Posting, Remote


@dataclass(frozen=True, slots=True)
class PatternRule:
    """Include and exclude patterns for one field."""

    include: tuple[Pattern, ...] = ()
    exclude: tuple[Pattern, ...] = ()

    def admits(self, value: str) -> bool:
        """True when value matches some include pattern (or there are none) and no exclude."""
        if self.include and not any(p.search(value) for p in self.include):
            return False
        return not any(p.search(value) for p in self.exclude)

    def admits_any(self, values: Sequence[str]) -> bool:
        """True when one of the values is admitted; with no values, when include is empty."""
        if not values:
            return not self.include
        return any(self.admits(v) for v in values)


@dataclass(frozen=True, slots=True)
class PostingFilter:
    """A compiled `spec.filters`; call it with a posting and the current time (True = keep)."""

    titles: PatternRule = PatternRule()
    locations: PatternRule = PatternRule()
    departments: PatternRule = PatternRule()
    remote: str = "any"
    max_age: timedelta | None = None

    @property
    def keeps_all(self) -> bool:
        """Whether every posting passes (no rule is set): callers may skip the calls."""
        return self == KEEP_ALL

    def __call__(self, posting: Posting, now: datetime) -> bool:
        """Whether the posting passes every filter at time `now` (naive means UTC)."""
        if not self.titles.admits(posting.title):
            return False
        if not self.locations.admits_any(posting.locations):
            return False
        department = [posting.department] if posting.department else []
        if not self.departments.admits_any(department):
            return False
        if self.remote == "only" and posting.remote is not Remote.TRUE:
            return False
        if self.remote == "exclude" and posting.remote is Remote.TRUE:
            return False
        return self.max_age is None or not _older_than(posting, now, self.max_age)


KEEP_ALL = PostingFilter()


def _older_than(posting: Posting, now: datetime, age: timedelta) -> bool:
    seen = posting.posted_at or posting.updated_at
    if seen is None:
        return False
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now - seen > age


def compile_filters(filters: Any) -> PostingFilter:
    """The filter a `spec.filters` object describes (None keeps everything).

    `filters` is duck-typed: `titles`, `locations`, `departments` (None or an object with
    `include` and `exclude` lists of regexes), `remote` ("any" | "only" | "exclude") and
    `max_age_days` (int or None). ValueError names the field of the first invalid value.
    """
    if filters is None:
        return KEEP_ALL
    problems = validate_patterns(filters)
    if problems:
        raise ValueError("; ".join(f"{path}: {message}" for path, message in problems))
    rules = {field: _rule(getattr(filters, field, None)) for field in PATTERN_FIELDS}
    remote = getattr(filters, "remote", None) or "any"
    remote = getattr(remote, "value", remote)  # an Enum member
    if remote not in REMOTE_FILTERS:
        raise ValueError(
            f"spec.filters.remote: {remote!r} is not one of {', '.join(REMOTE_FILTERS)}"
        )
    days = getattr(filters, "max_age_days", None)
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or days < 0):
        raise ValueError(f"spec.filters.maxAgeDays: {days!r} is not a non-negative integer")
    return PostingFilter(
        titles=rules["titles"],
        locations=rules["locations"],
        departments=rules["departments"],
        remote=remote,
        max_age=None if days is None else timedelta(days=days),
    )


def _rule(spec: Any) -> PatternRule:
    if spec is None:
        return PatternRule()
    return PatternRule(
        include=tuple(compile_pattern(p) for p in getattr(spec, "include", None) or []),
        exclude=tuple(compile_pattern(p) for p in getattr(spec, "exclude", None) or []),
    )
