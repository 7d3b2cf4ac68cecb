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


def test_kopf_handler_success_lines_only_at_debug(capsys):
    logs.configure("text", "INFO")
    kopf_log = logging.getLogger("kopf.objects")
    kopf_log.info("Handler '_on_source' succeeded.")
    kopf_log.info("Timer '_x' is invoked.")
    err = capsys.readouterr().err
    assert "succeeded" not in err and "is invoked" in err
    logs.configure("text", "DEBUG")
    kopf_log.info("Handler '_on_source' succeeded.")
    assert "DEBUG   kopf.objects: Handler '_on_source' succeeded." in capsys.readouterr().err
    logs.configure("text", "INFO")
