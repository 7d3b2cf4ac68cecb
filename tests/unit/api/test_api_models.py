"""The JobSource models: defaults, camelCase wire names, and errors that name the field."""

from __future__ import annotations

from datetime import UTC, datetime

from jobscrape.api.spec import JobSourceSpec
from jobscrape.api.validate import parse_spec, validate_spec

MIN = {"schedule": "0 */6 * * *", "boards": [{"name": "a", "type": "greenhouse", "token": "a"}]}


def test_defaults_follow_the_design():
    spec = JobSourceSpec.model_validate(MIN)
    assert spec.concurrency_policy == "Forbid" and spec.suspend is False
    assert spec.successful_runs_history_limit == 3 and spec.failed_runs_history_limit == 3
    assert spec.store.sqlite is not None and spec.store.sqlite.size == "1Gi"
    assert spec.store.sqlite.when_deleted == "Retain" and spec.store.postgres is None
    assert (spec.run.timeout_seconds, spec.run.retries, spec.run.concurrency,
            spec.run.requests_per_second_per_host, spec.run.shards) == (900, 1, 8, 2.0, 1)
    assert spec.notify == [] and spec.filters is None


def test_camel_case_round_trip():
    wire = {**MIN, "timeZone": "Europe/Berlin", "startingDeadlineSeconds": 300,
            "filters": {"titles": {"include": ["(?i)engineer"]}, "maxAgeDays": 60},
            "store": {"postgres": {"dsnSecretRef": {"name": "pg", "key": "dsn"}}},
            "notify": [{"name": "hook", "webhook": {"urlSecretRef": {"name": "h", "key": "k"},
                                                    "format": "slack"}}],
            "run": {"requestsPerSecondPerHost": 0.5, "shards": 2}}
    spec = JobSourceSpec.model_validate(wire)
    assert spec.time_zone == "Europe/Berlin" and spec.filters.max_age_days == 60
    out = spec.to_wire()
    assert out["store"] == {"postgres": {"dsnSecretRef": {"name": "pg", "key": "dsn"}}}
    assert out["notify"][0]["events"] == ["created", "updated", "removed"]
    assert JobSourceSpec.model_validate(out) == spec


def _errors(body):
    spec, errors = parse_spec(body)
    assert spec is None
    return {e.path: e.message for e in errors}


def test_parse_errors_name_the_field():
    errs = _errors({"schedule": "x", "boards": [
        {"name": "ok", "type": "greenhouse", "token": "t"},
        {"name": "Bad_Name", "type": "greenhouse", "token": "t"},
        {"name": "page", "type": "jsonld"},
        {"name": "x", "type": "monster", "token": "t"}]})
    assert "spec.boards[1].name" in errs
    assert errs["spec.boards[2]"] == "url is required for boards of type jsonld"
    assert "spec.boards[3].type" in errs and "greenhouse" in errs["spec.boards[3].type"]


def test_spec_level_rules():
    dup = _errors({**MIN, "boards": MIN["boards"] * 2})
    assert dup == {"spec": "board names must be unique; repeated: a"}
    shards = _errors({**MIN, "run": {"shards": 2}})
    assert shards == {"spec": "run.shards > 1 needs store.postgres"}
    both = _errors({**MIN, "store": {"sqlite": {}, "postgres": {
        "dsnSecretRef": {"name": "p", "key": "k"}}}})
    assert both == {"spec.store": "set exactly one of sqlite or postgres"}
    assert "spec.boards" in _errors({**MIN, "boards": []})
    assert "spec.unknownField" in _errors({**MIN, "unknownField": 1})


def test_parse_never_raises_on_garbage():
    for body in (None, [], "x", {"boards": "no"}, {"schedule": 5, "boards": [None]}):
        spec, errors = parse_spec(body)
        assert spec is None and errors


NOW = datetime(2026, 11, 24, tzinfo=UTC)


def test_validate_spec_schedule_zone_regex():
    spec = JobSourceSpec.model_validate({
        **MIN, "schedule": "0 25 * * *", "timeZone": "Mars/Olympus",
        "filters": {"titles": {"include": ["ok", "(unclosed"]}}})
    errs = {e.path: e.message for e in validate_spec(spec, NOW)}
    assert set(errs) == {"spec.schedule", "spec.timeZone", "spec.filters.titles.include[1]"}
    assert "Mars/Olympus" in errs["spec.timeZone"]
    good = JobSourceSpec.model_validate({**MIN, "schedule": "@hourly",
                                         "timeZone": "Europe/Berlin"})
    assert validate_spec(good, NOW) == []
    assert {e.path for e in validate_spec(JobSourceSpec.model_validate(
        {**MIN, "schedule": "*/5 * * * * *"}), NOW)} == {"spec.schedule"}
