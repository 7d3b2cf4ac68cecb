"""Log lines about a source carry its namespace and name, in text and JSON."""

from __future__ import annotations

import json
import logging

from jobscrape import logs


def _emit(capsys, fmt, **extra):
    logs.configure(fmt)
    logging.getLogger("jobscrape.test").info("reconciled", extra=extra)
    return capsys.readouterr().err.strip().splitlines()[-1]


def test_text_lines_name_the_source(capsys):
    line = _emit(capsys, "text", namespace="jobs", jobsource="platform")
    assert "[jobs/platform] reconciled" in line
    kopf_line = _emit(capsys, "text", k8s_ref={"namespace": "jobs", "name": "other"})
    assert "[jobs/other] reconciled" in kopf_line


def test_json_lines_carry_namespace_and_name(capsys):
    doc = json.loads(_emit(capsys, "json", namespace="jobs", jobsource="platform"))
    assert doc["namespace"] == "jobs" and doc["jobsource"] == "platform"
    assert doc["level"] == "INFO" and doc["message"] == "reconciled"
    kopf = json.loads(_emit(capsys, "json", k8s_ref={"namespace": "n", "name": "s"}))
    assert (kopf["namespace"], kopf["jobsource"]) == ("n", "s") and "k8s_ref" not in kopf
