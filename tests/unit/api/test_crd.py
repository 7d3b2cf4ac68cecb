"""The generated CRD: structural, bounded, carries the columns and rules, and crds/ is fresh."""

from __future__ import annotations

from pathlib import Path

from jobscrape.api.crd import render_crd, render_crd_yaml

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
    assert list(cols) == ["Schedule", "Boards", "Postings", "New", "Last Success", "Ready", "Age"]
    assert cols["Last Success"]["type"] == "date"


def test_rules_and_limits():
    spec = _schema()["properties"]["spec"]
    boards = spec["properties"]["boards"]
    assert boards["maxItems"] == 500 and boards["x-kubernetes-list-map-keys"] == ["name"]
    rules = [r["rule"] for r in boards["items"]["x-kubernetes-validations"]]
    assert any("jsonld" in r and "url" in r for r in rules)
    assert any("token" in r for r in rules)
    store = spec["properties"]["store"]
    assert "exactly one" in store["x-kubernetes-validations"][0]["message"]
    assert store["default"] == {"sqlite": {}}
    assert any("shards" in r["rule"] for r in spec["x-kubernetes-validations"])
    tz = spec["properties"]["timeZone"]
    assert tz["nullable"] is True and tz["type"] == "string"
