"""The CRD's CEL rules on the real API server: URLs that are not absolute http(s) and tokens
outside their board type's alphabet are refused at apply time, with the same verdict the
operator's own check reaches; and `kubectl get` shows the printer columns."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from typing import Any

import pytest
from kubernetes import client

from jobscrape.api.spec import (
    COMEET_COMPANY,
    PATH_SEGMENT,
    SUBDOMAIN,
    TOKEN_ALPHABETS,
    WORKDAY_SITE,
)
from jobscrape.api.validate import parse_spec

pytestmark = pytest.mark.cluster
G, V, P = "jobscrape.io", "v1alpha1", "jobsources"
SCHEDULE = "0 */6 * * *"


def _source(name: str, *boards: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": f"{G}/{V}", "kind": "JobSource", "metadata": {"name": name},
            "spec": {"schedule": SCHEDULE, "boards": list(boards)}}


def _create(cluster, namespace: str, body: dict[str, Any], dry_run: bool = False) -> dict:
    """Create the JobSource; raises ApiException when the API server refuses it."""
    return client.CustomObjectsApi(cluster.api).create_namespaced_custom_object(
        G, V, namespace, P, body, dry_run="All" if dry_run else None)


def _refusal(cluster, namespace: str, board: dict[str, str]) -> dict[str, str]:
    """The API server's causes (field -> message) for a source with this one board."""
    with pytest.raises(client.ApiException) as e:
        _create(cluster, namespace, _source("bad", board), dry_run=True)
    assert e.value.status == 422, e.value.body
    body = json.loads(e.value.body)
    assert body["reason"] == "Invalid"
    return {c["field"]: c["message"] for c in body["details"]["causes"]}


def _board(board_type: str, token: str = "", url: str = "") -> dict[str, str]:
    out = {"name": "b", "type": board_type}
    if token:
        out["token"] = token
    if url:
        out["url"] = url
    return out


@pytest.mark.parametrize("url", ["file:///etc/passwd", "javascript:alert(1)",
                                 "ftp://example.com/jobs.xml", "//example.com/jobs", "http://"])
def test_non_http_urls_are_refused(cluster, crd, namespace, url):
    causes = _refusal(cluster, namespace, _board("feed", url=url))
    assert list(causes) == ["spec.boards[0].url"]
    assert "url must be an absolute http(s) URL" in causes["spec.boards[0].url"]


@pytest.mark.parametrize(("board_type", "token", "allowed"), [
    ("greenhouse", "../../admin", "may contain only letters, digits, '.', '_' and '-'"),
    ("personio", "a/b", "must be a DNS label"),
    ("personio", "x.evil.com", "must be a DNS label"),
    ("workday", "acme.wd5/../admin", "must be {tenant}.wd{N}/{site}"),
    ("comeet", "F6.003:tok/../x", "must be {company uid}:{careers token}"),
])
def test_tokens_outside_the_alphabet_are_refused(cluster, crd, namespace, board_type, token,
                                                 allowed):
    causes = _refusal(cluster, namespace, _board(board_type, token=token))
    assert list(causes) == ["spec.boards[0].token"]
    assert f"token for {board_type} boards {allowed}" in causes["spec.boards[0].token"]


def test_good_boards_are_accepted(cluster, crd, namespace):
    good = {SUBDOMAIN: "Acme-Corp", PATH_SEGMENT: "acme_corp.io",
            WORKDAY_SITE: "acme-corp.wd5/External_Site", COMEET_COMPANY: "F6.003:0a1B2c"}
    assert set(TOKEN_ALPHABETS.values()) == set(good)  # a good token for every alphabet
    boards = [_board(t, token=good[a]) for t, a in TOKEN_ALPHABETS.items()
              if t not in ("jsonld", "feed")]
    boards += [_board("jsonld", url="https://example.com/careers?lang=en#open"),
               _board("feed", token="wwr", url="http://127.0.0.1:8080/feed.xml"),
               _board("greenhouse", token="acme", url="https://mirror.example:8443/v1/x")]
    boards = [{**b, "name": f"b{i}"} for i, b in enumerate(boards)]
    created = _create(cluster, namespace, _source("good", *boards))
    assert [b["name"] for b in created["spec"]["boards"]] == [b["name"] for b in boards]


URLS = ["https://example.com", "http://127.0.0.1:8080/feed.xml", "https://user:pw@example.com/",
        "https://bücher.example/stellen", "HTTPS://example.com", "http://[::1]:80/",
        "https://medium.com/@acme/feed?x=1#y", "file:///etc/passwd", "https:///path",
        "http:/example.com", "example.com/jobs", "http://exa mple.com/", "http://example.com/a b",
        "http://evil.com\\@good.com/", "http://example.com\n", "data:text/html,x", "http://:80/",
        "http://user@/x"]
TOKENS = ["acme", "Acme-GmbH", "a..b", "a" * 63, "a" * 64, "acme_corp", "..", ".x", "-x",
          "x-", "a b", "a%2Fb", "a?b", "a#b", "a\\b", "acme\n", "ünicode", "a:b"]


def test_api_server_and_operator_agree(cluster, crd, namespace):
    """Every URL and token gets the same verdict from CEL (RE2) and from pydantic (re)."""
    cases = [_board("feed", url=u) for u in URLS]
    cases += [_board(t, token=tok, url="https://example.com/" if t in ("jsonld", "feed") else "")
              for t in TOKEN_ALPHABETS for tok in TOKENS]
    verdicts = []
    for board in cases:
        operator_ok = parse_spec(_source("x", board)["spec"])[1] == []
        try:
            _create(cluster, namespace, _source("x", board), dry_run=True)
            server_ok = True
        except client.ApiException as e:
            assert e.status == 422, e.body
            server_ok = False
        assert server_ok == operator_ok, board
        verdicts.append(server_ok)
    assert True in verdicts and False in verdicts


def _kubectl_get(cluster, namespace: str, *extra: str) -> list[str]:
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is required"
    out = subprocess.run([kubectl, "--kubeconfig", str(cluster.kubeconfig), "get", "jobsources",
                          "-n", namespace, *extra], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


def _columns(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


def test_kubectl_columns(cluster, crd, namespace):
    _create(cluster, namespace, _source("cols", _board("greenhouse", token="acme")))
    status = {"boardCount": 1, "postings": 42, "failingBoards": 1,
              "lastSuccessfulTime": "2026-01-01T00:00:00Z",
              "nextScheduleTime": "2999-01-01T06:00:00Z",
              "lastRun": {"created": 7, "result": "PartiallyFailed", "durationSeconds": 12.5},
              "conditions": [
                  {"type": "Ready", "status": "True", "reason": "Scheduled",
                   "lastTransitionTime": "2026-01-01T00:00:00Z"},
                  {"type": "Healthy", "status": "False", "reason": "BoardsFailing",
                   "lastTransitionTime": "2026-01-01T00:00:00Z"}]}
    client.CustomObjectsApi(cluster.api).patch_namespaced_custom_object_status(
        G, V, namespace, P, "cols", {"status": status})

    plain = _kubectl_get(cluster, namespace)
    assert _columns(plain[0]) == ["NAME", "SCHEDULE", "SUSPEND", "BOARDS", "POSTINGS", "NEW",
                                  "LAST RESULT", "LAST SUCCESS", "READY", "HEALTHY", "AGE"]
    row = _columns(plain[1])
    assert row[:7] == ["cols", SCHEDULE, "false", "1", "42", "7", "PartiallyFailed"]
    assert re.fullmatch(r"[0-9][0-9a-z]*", row[7]), row  # an age, like 330d
    assert row[8:10] == ["True", "False"]

    wide = _kubectl_get(cluster, namespace, "-o", "wide")
    assert _columns(wide[0]) == [*_columns(plain[0]), "NEXT RUN", "DURATION", "FAILING"]
    assert _columns(wide[1])[-3:] == ["2999-01-01T06:00:00Z", "12.5", "1"]
