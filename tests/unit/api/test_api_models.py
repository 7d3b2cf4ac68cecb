"""The JobSource models: defaults, camelCase wire names, and errors that name the field."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import get_args

from jobscrape.api.spec import (
    PATH_SEGMENT,
    SUBDOMAIN,
    TOKEN_ALPHABETS,
    BoardType,
    JobSourceSpec,
)
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


def _board_errors(board: dict) -> dict[str, str]:
    return _errors({**MIN, "boards": [board]})


GOOD_URLS = ["https://boards-api.greenhouse.io/v1/boards/acme/jobs?content=true",
             "http://127.0.0.1:8080/feed.xml", "https://example.com", "https://example.com/#top",
             "https://example.com?x=1", "https://medium.com/@acme/feed", "https://bücher.example/",
             "https://example.com/search?q=a%20b&page=2"]
BAD_URLS = ["file:///etc/passwd", "javascript:alert(1)", "ftp://example.com/jobs.xml",
            "//example.com/jobs", "http://", "https:///path", "http:/example.com",
            "example.com/jobs", "http://exa mple.com/", "http://example.com/a b",
            "http://evil.com\\@good.com/", "http://example.com\n", "data:text/html,<b>x</b>",
            "http://:80/", "http://user@/x", "gopher://example.com", "http://example.com:port/",
            "HTTPS://example.com/",  # the scheme in lower case
            "https://user:pw@example.com/",  # no credentials in a spec
            "http://[::1]:9000/x",  # no IPv6 literals
            ]


def test_good_urls_pass():
    for url in GOOD_URLS:
        spec, errors = parse_spec({**MIN, "boards": [{"name": "p", "type": "jsonld",
                                                      "url": url}]})
        assert errors == [] and spec is not None, url


def test_bad_urls_are_refused_on_the_url_field():
    for url in BAD_URLS:
        for board in ({"name": "p", "type": "feed", "url": url},
                      {"name": "g", "type": "greenhouse", "token": "acme", "url": url}):
            assert _board_errors(board) == {
                "spec.boards[0].url": "url must be an absolute http(s) URL"}, url


PATH_SEGMENT_TYPES = ["greenhouse", "lever", "ashby", "workable", "smartrecruiters"]
GOOD_SEGMENTS = ["acme", "Visa", "acme-corp", "acme_corp", "acme.io", "a", "9lives", "a..b"]
BAD_SEGMENTS = ["../../admin", "..", ".hidden", "-x", "_x", "a/b", "a b", "a%2Fb", "a?b", "a#b",
                "a\\b", "acme\n", "ünicode", "a:b", "a@b"]
GOOD_LABELS = ["acme", "Acme-GmbH", "a", "0", "a" * 63, "tiko"]
BAD_LABELS = ["a/b", "x.evil.com", "-acme", "acme-", "a_b", "a" * 64, "a b", "acme\n", ".."]


def _token_board(board_type: str, token: str) -> dict[str, str]:
    board = {"name": "b", "type": board_type, "token": token}
    if board_type in ("jsonld", "feed"):
        board["url"] = "https://example.com/jobs"
    return board


def test_path_segment_tokens():
    for board_type in [*PATH_SEGMENT_TYPES, "jsonld", "feed"]:
        for token in GOOD_SEGMENTS:
            assert parse_spec({**MIN, "boards": [_token_board(board_type, token)]})[1] == []
        for token in BAD_SEGMENTS:
            assert _board_errors(_token_board(board_type, token)) == {
                "spec.boards[0].token": f"token for {board_type} boards may contain only "
                                        "letters, digits, '.', '_' and '-', starting with a "
                                        "letter or digit"}, (board_type, token)


def test_subdomain_tokens():
    for board_type in ("recruitee", "personio"):
        for token in GOOD_LABELS:
            assert parse_spec({**MIN, "boards": [_token_board(board_type, token)]})[1] == []
        for token in BAD_LABELS:
            errs = _board_errors(_token_board(board_type, token))
            assert list(errs) == ["spec.boards[0].token"], (board_type, token)
            assert errs["spec.boards[0].token"].startswith(
                f"token for {board_type} boards must be a DNS label"), token


def test_token_optional_for_url_boards_and_required_for_the_others():
    assert parse_spec({**MIN, "boards": [{"name": "f", "type": "feed",
                                          "url": "https://example.com/f.xml"}]})[1] == []
    assert _board_errors({"name": "g", "type": "greenhouse"}) == {
        "spec.boards[0]": "token is required for boards of type greenhouse"}


def test_token_alphabets_cover_every_board_type():
    assert set(TOKEN_ALPHABETS) == set(get_args(BoardType))
    assert {TOKEN_ALPHABETS[t] for t in ("recruitee", "personio")} == {SUBDOMAIN}
    assert {TOKEN_ALPHABETS[t] for t in [*PATH_SEGMENT_TYPES, "jsonld", "feed"]} == {
        PATH_SEGMENT}


def test_parse_errors_come_from_the_table():
    """The pydantic check follows TOKEN_ALPHABETS, so changing the table changes both sides."""
    for board_type, alphabet in TOKEN_ALPHABETS.items():
        errs = _board_errors(_token_board(board_type, "no/slash"))
        assert errs == {"spec.boards[0].token": alphabet.message(board_type)}


def test_read_status_is_typed_and_never_raises():
    from jobscrape.api.status import read_status, wire

    st = read_status({"postings": 7, "lastRun": {"jobName": "j", "attempt": 2, "x": 1},
                      "boards": [{"name": "a", "state": "OK", "consecutiveFailures": 0}],
                      "conditions": [{"type": "Ready", "status": "True", "reason": "R"}]})
    assert (st.postings, st.last_run.job_name, st.last_run.attempt) == (7, "j", 2)
    assert st.boards[0].state == "OK" and st.condition("Ready").reason == "R"
    assert st.condition("Stalled") is None
    # someone wrote a field wrongly: it is dropped, the rest kept
    bad = read_status({"postings": "many", "boards": [{"name": "a", "state": "Weird"}],
                       "lastRunNow": "v1"})
    assert bad.postings is None and bad.boards == [] and bad.last_run_now == "v1"
    assert read_status(None) == read_status("garbage") == read_status({})
    assert wire(st.last_run) == {"jobName": "j", "attempt": 2}
