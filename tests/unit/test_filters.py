from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import Enum

import pytest

from jobscrape.api.patterns import validate_patterns
from jobscrape.filters import compile_filters
from jobscrape.postings import Posting, Remote

NOW = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


@dataclass
class Patterns:
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)


@dataclass
class Filters:
    titles: Patterns | None = None
    locations: Patterns | None = None
    departments: Patterns | None = None
    remote: str = "any"
    max_age_days: int | None = None


def posting(**fields: object) -> Posting:
    base: dict[str, object] = {
        "id": "greenhouse:acme:1", "board": "acme", "board_type": "greenhouse",
        "source_id": "1", "title": "Senior Platform Engineer",
        "locations": ("Berlin, Germany",), "department": "Infrastructure",
        "remote": Remote.UNKNOWN, "posted_at": NOW - timedelta(days=3),
    }
    base.update(fields)
    return Posting(**base)  # type: ignore[arg-type]


def test_none_keeps_everything() -> None:
    assert compile_filters(None)(posting(), NOW)


def test_empty_filters_keep_everything() -> None:
    keep = compile_filters(Filters())
    assert keep(posting(locations=(), department=None, posted_at=None), NOW)


def test_title_include_and_exclude() -> None:
    titles = Patterns(include=["(?i)engineer"], exclude=["(?i)intern"])
    keep = compile_filters(Filters(titles=titles))
    assert keep(posting(title="Senior Platform Engineer"), NOW)
    assert not keep(posting(title="Engineering Intern"), NOW)
    assert not keep(posting(title="Account Executive"), NOW)


def test_title_regex_is_searched_not_matched_and_case_sensitive_by_default() -> None:
    keep = compile_filters(Filters(titles=Patterns(include=["Platform"])))
    assert keep(posting(title="Senior Platform Engineer"), NOW)
    assert not keep(posting(title="senior platform engineer"), NOW)


def test_any_location_may_match_include() -> None:
    keep = compile_filters(Filters(locations=Patterns(include=["London"])))
    assert keep(posting(locations=("Berlin", "London, UK")), NOW)
    assert not keep(posting(locations=("Berlin",)), NOW)
    assert not keep(posting(locations=()), NOW)


def test_location_exclude_drops_only_when_no_location_is_left() -> None:
    keep = compile_filters(Filters(locations=Patterns(exclude=["US$"])))
    assert keep(posting(locations=("Berlin", "Remote - US")), NOW)
    assert not keep(posting(locations=("Remote - US",)), NOW)
    assert keep(posting(locations=()), NOW)


def test_departments() -> None:
    keep = compile_filters(Filters(departments=Patterns(include=["^Infra"], exclude=["Sales"])))
    assert keep(posting(department="Infrastructure"), NOW)
    assert not keep(posting(department="Sales Infrastructure"), NOW)
    assert not keep(posting(department=None), NOW)
    only_exclude = compile_filters(Filters(departments=Patterns(exclude=["Sales"])))
    assert only_exclude(posting(department=None), NOW)


@pytest.mark.parametrize(
    ("mode", "kept"),
    [
        ("any", {Remote.TRUE, Remote.FALSE, Remote.UNKNOWN}),
        ("only", {Remote.TRUE}),
        ("exclude", {Remote.FALSE, Remote.UNKNOWN}),
    ],
)
def test_remote_modes(mode: str, kept: set[Remote]) -> None:
    keep = compile_filters(Filters(remote=mode))
    assert {r for r in Remote if keep(posting(remote=r), NOW)} == kept


def test_remote_may_be_an_enum_member() -> None:
    class Mode(Enum):
        ONLY = "only"

    keep = compile_filters(Filters(remote=Mode.ONLY))  # type: ignore[arg-type]
    assert keep(posting(remote=Remote.TRUE), NOW)
    assert not keep(posting(remote=Remote.FALSE), NOW)


def test_max_age_days() -> None:
    keep = compile_filters(Filters(max_age_days=7))
    assert keep(posting(posted_at=NOW - timedelta(days=7)), NOW)
    assert not keep(posting(posted_at=NOW - timedelta(days=7, seconds=1)), NOW)
    # no first-published date: the last update counts; neither: kept
    assert not keep(posting(posted_at=None, updated_at=NOW - timedelta(days=30)), NOW)
    assert keep(posting(posted_at=None, updated_at=None), NOW)
    # a naive "now" is UTC
    assert keep(posting(posted_at=NOW - timedelta(days=1)), NOW.replace(tzinfo=None))


def test_max_age_zero_keeps_only_postings_from_now() -> None:
    keep = compile_filters(Filters(max_age_days=0))
    assert keep(posting(posted_at=NOW), NOW)
    assert not keep(posting(posted_at=NOW - timedelta(seconds=1)), NOW)


def test_all_filters_combine() -> None:
    keep = compile_filters(Filters(
        titles=Patterns(include=["Engineer"]), locations=Patterns(include=["Berlin"]),
        remote="exclude", max_age_days=10,
    ))
    good = posting()
    assert keep(good, NOW)
    assert not keep(replace(good, remote=Remote.TRUE), NOW)
    assert not keep(replace(good, locations=("Paris",)), NOW)
    assert not keep(replace(good, posted_at=NOW - timedelta(days=11)), NOW)


def test_validate_patterns_reports_each_bad_regex_with_its_path() -> None:
    problems = validate_patterns(Filters(
        titles=Patterns(include=["ok", "(unclosed"], exclude=["[z-a]"]),
        departments=Patterns(include=[3]),  # type: ignore[list-item]
    ))
    assert [path for path, _ in problems] == [
        "spec.filters.titles.include[1]",
        "spec.filters.titles.exclude[0]",
        "spec.filters.departments.include[0]",
    ]
    assert "invalid regular expression '(unclosed'" in problems[0][1]
    assert "missing )" in problems[0][1]
    assert "invalid character class range" in problems[1][1]
    assert problems[2][1] == "must be a string, got int"


def test_validate_patterns_accepts_good_and_missing_filters() -> None:
    assert validate_patterns(None) == []
    assert validate_patterns(Filters(titles=Patterns(include=["(?i)engineer"]))) == []


def test_compile_rejects_bad_values_naming_the_field() -> None:
    with pytest.raises(ValueError, match=r"spec\.filters\.titles\.include\[0\]"):
        compile_filters(Filters(titles=Patterns(include=["("])))
    with pytest.raises(ValueError, match=r"spec\.filters\.remote: 'sometimes'"):
        compile_filters(Filters(remote="sometimes"))
    with pytest.raises(ValueError, match=r"spec\.filters\.maxAgeDays: -1"):
        compile_filters(Filters(max_age_days=-1))


def test_patterns_are_re2_so_no_pattern_can_hang_a_run() -> None:
    # exponential for Python's backtracking `re` (this test would not finish), linear in RE2
    keep = compile_filters(Filters(titles=Patterns(include=["(a+)+$"])))
    hostile = "a" * 100_000 + "!"
    assert keep(posting(title=hostile), NOW) is False
    assert keep(posting(title="aaa"), NOW) is True
    # what RE2 cannot do is refused up front, naming the field and why
    problems = validate_patterns(Filters(titles=Patterns(include=["(?=x)a", r"(a)\1"])))
    assert [p for p, _ in problems] == ["spec.filters.titles.include[0]",
                                        "spec.filters.titles.include[1]"]
    assert "RE2 syntax" in problems[0][1] and "(?=" in problems[0][1]


def test_keeps_all_only_without_rules() -> None:
    assert compile_filters(None).keeps_all and compile_filters(Filters()).keeps_all
    assert not compile_filters(Filters(remote="only")).keeps_all
    assert not compile_filters(Filters(max_age_days=0)).keeps_all
    assert not compile_filters(Filters(titles=Patterns(exclude=["intern"]))).keeps_all
