"""The generated CRD: structural, bounded, carries the columns and rules, and crds/ is fresh."""

from __future__ import annotations

from pathlib import Path

from jobscrape.api.crd import render_crd, render_crd_yaml
from jobscrape.api.spec import TOKEN_ALPHABETS, URL_MESSAGE, URL_PATTERN

CRD_FILE = Path(__file__).resolve().parents[3] / "crds" / "jobsources.jobscrape.io.yaml"


def _walk(node, path="$"):
    yield path, node
    for k in ("properties",):
        for name, sub in (node.get(k) or {}).items():
            yield from _walk(sub, f"{path}.{name}")
    for k in ("items", "additionalProperties"):
        if isinstance(node.get(k), dict):
            yield from _walk(node[k], f"{path}[{k}]")


def _schema():
    return render_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


def test_crds_folder_is_up_to_date():
    assert CRD_FILE.read_text() == render_crd_yaml(), (
        "crds/ is stale: run `jobscrape crd > crds/jobsources.jobscrape.io.yaml`")


def test_schema_is_structural_and_bounded():
    for path, node in _walk(_schema()):
        assert not {"$ref", "anyOf", "oneOf", "allOf", "title", "$defs"} & set(node), path
        if path in ("$.metadata",) or node.get("x-kubernetes-int-or-string"):
            continue
        assert "type" in node, path
        if node["type"] == "string" and path.startswith("$.spec"):
            assert "maxLength" in node or "enum" in node, path
        if node["type"] == "array":
            assert "maxItems" in node, path


def test_names_columns_and_status_subresource():
    crd = render_crd()
    v = crd["spec"]["versions"][0]
    assert crd["spec"]["names"]["shortNames"] == ["jsrc"]
    assert crd["spec"]["names"]["categories"] == ["jobscrape"]
    assert v["subresources"] == {"status": {}}
    cols = {c["name"]: c for c in v["additionalPrinterColumns"]}
    plain = [n for n, c in cols.items() if not c.get("priority")]
    wide = [n for n, c in cols.items() if c.get("priority") == 1]
    assert plain == ["Schedule", "Suspend", "Boards", "Postings", "New", "Last Result",
                     "Last Success", "Ready", "Healthy", "Age"]
    assert wide == ["Next Run", "Duration", "Failing"]
    assert all(c.get("description") for c in cols.values())
    assert cols["Last Success"]["type"] == "date" and cols["Age"]["type"] == "date"
    assert cols["Next Run"]["type"] == "string"  # a date column shows future times as <invalid>
    assert (cols["Suspend"]["type"], cols["Duration"]["type"], cols["Failing"]["type"]) == (
        "boolean", "number", "integer")
    assert cols["Healthy"]["jsonPath"] == '.status.conditions[?(@.type=="Healthy")].status'
    assert cols["Failing"]["jsonPath"] == ".status.failingBoards"
    assert cols["Duration"]["description"] == "seconds the last run took"


def test_rules_and_limits():
    spec = _schema()["properties"]["spec"]
    boards = spec["properties"]["boards"]
    assert boards["maxItems"] == 500 and boards["x-kubernetes-list-map-keys"] == ["name"]
    rules = [r["rule"] for r in boards["items"]["x-kubernetes-validations"]]
    assert any("jsonld" in r and "url" in r for r in rules)
    assert any("token" in r for r in rules)
    assert any(URL_PATTERN in r for r in rules)
    store = spec["properties"]["store"]
    assert "exactly one" in store["x-kubernetes-validations"][0]["message"]
    assert store["default"] == {"sqlite": {}}
    assert any("shards" in r["rule"] for r in spec["x-kubernetes-validations"])
    tz = spec["properties"]["timeZone"]
    assert tz["nullable"] is True and tz["type"] == "string"


def _board_rules() -> list[dict]:
    return _schema()["properties"]["spec"]["properties"]["boards"]["items"][
        "x-kubernetes-validations"]


def test_url_rule_uses_the_shared_pattern_on_the_url_field():
    [rule] = [r for r in _board_rules() if r["message"] == URL_MESSAGE]
    assert rule["fieldPath"] == ".url"
    assert rule["rule"] == (f'!has(self.url) || size(self.url) == 0 || '
                            f'self.url.matches(r"{URL_PATTERN}")')


def test_token_rules_come_from_the_one_table():
    rules = [r for r in _board_rules() if "self.token.matches" in r["rule"]]
    alphabets = list(dict.fromkeys(TOKEN_ALPHABETS.values()))
    assert len(rules) == len(alphabets)
    covered = []
    for rule, alphabet in zip(rules, alphabets, strict=True):
        assert rule["fieldPath"] == ".token"
        assert f'self.token.matches(r"{alphabet.pattern}")' in rule["rule"]
        assert alphabet.allowed in rule["messageExpression"]
        types = [t for t, a in TOKEN_ALPHABETS.items() if a == alphabet]
        assert all(f"'{t}'" in rule["rule"] for t in types)
        covered += types
    assert sorted(covered) == sorted(TOKEN_ALPHABETS)


def test_url_rule_fits_the_cost_budget():
    """The API server estimates `matches` at about maxLength x 4 x 0.1 x len(pattern) / 4 per
    board; with 500 boards that must stay under 10,000,000 (tests/cluster checks it for real)."""
    url = _schema()["properties"]["spec"]["properties"]["boards"]["items"]["properties"]["url"]
    assert url["maxLength"] * 4 * 0.1 * len(URL_PATTERN) / 4 * 500 < 0.9 * 10_000_000


def test_cel_literals_stay_well_formed():
    """The patterns sit in CEL r"..." literals and the words in "..." literals."""
    for pattern in [URL_PATTERN, *(a.pattern for a in TOKEN_ALPHABETS.values())]:
        assert '"' not in pattern and pattern.startswith("^") and pattern.endswith("$")
    for alphabet in TOKEN_ALPHABETS.values():
        assert '"' not in alphabet.allowed and "\\" not in alphabet.allowed
