"""The Helm chart's copies of repository files stay identical to their sources, its metadata
follows the project, and values.schema.json describes every value. (Rendering, drift from the
kustomize manifests and a real install: tests/cluster/test_helm.py.)"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "jobscrape"

# chart copy -> source (Helm reads nothing outside the chart's folder, hence the copies)
COPIES = {
    CHART / "crds" / "jobsources.jobscrape.io.yaml": ROOT / "crds" / "jobsources.jobscrape.io.yaml",
    CHART / "files" / "jobscrape-dashboard.json":
        ROOT / "manifests" / "components" / "monitoring" / "jobscrape-dashboard.json",
}


@pytest.mark.parametrize("copy", list(COPIES), ids=lambda p: p.name)
def test_chart_copy_is_identical_to_its_source(copy):
    source = COPIES[copy]
    assert copy.read_bytes() == source.read_bytes(), (
        f"{copy.relative_to(ROOT)} differs from {source.relative_to(ROOT)}; refresh it with\n"
        f"  cp {source.relative_to(ROOT)} {copy.relative_to(ROOT)}")


def test_chart_has_only_the_crd_of_the_repository():
    assert sorted(p.name for p in (CHART / "crds").iterdir()) == sorted(
        p.name for p in (ROOT / "crds").glob("*.yaml") if p.name != "kustomization.yaml")


def test_chart_alert_rules_are_the_components():
    source = yaml.safe_load(
        (ROOT / "manifests" / "components" / "monitoring" / "prometheusrule.yaml").read_text())
    chart = yaml.safe_load((CHART / "files" / "prometheus-rules.yaml").read_text())
    assert chart == source["spec"], (
        "charts/jobscrape/files/prometheus-rules.yaml must hold the spec of "
        "manifests/components/monitoring/prometheusrule.yaml")


def test_chart_metadata():
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert chart["apiVersion"] == "v2"
    assert chart["appVersion"] == project["version"]
    ann = chart["annotations"]
    assert ann["artifacthub.io/license"] == project["license"]
    assert ann["artifacthub.io/operator"] == "true"
    for key in ("artifacthub.io/links", "artifacthub.io/crds", "artifacthub.io/crdsExamples",
                "artifacthub.io/images"):
        assert isinstance(yaml.safe_load(ann[key]), list), key  # YAML lists in strings
    crd = yaml.safe_load((ROOT / "crds" / "jobsources.jobscrape.io.yaml").read_text())
    [entry] = yaml.safe_load(ann["artifacthub.io/crds"])
    assert entry["name"] == crd["metadata"]["name"]
    assert entry["kind"] == crd["spec"]["names"]["kind"]
    assert entry["version"] in [v["name"] for v in crd["spec"]["versions"]]
    [example] = yaml.safe_load(ann["artifacthub.io/crdsExamples"])
    assert example["apiVersion"] == f"{crd['spec']['group']}/{entry['version']}"
    images = yaml.safe_load(ann["artifacthub.io/images"])
    assert images[0]["image"].endswith(":" + chart["appVersion"])


# values documented as one object (their keys are Kubernetes' own)
OBJECT_VALUES = ("resources", "health.livenessProbe")


def _schema_paths(schema: dict[str, Any], prefix: str = "") -> set[str]:
    paths = set()
    for key, sub in (schema.get("properties") or {}).items():
        paths.add(prefix + key)
        paths |= _schema_paths(sub, prefix + key + ".")
    return paths


def _value_paths(values: dict[str, Any], schema: dict[str, Any], prefix: str = ""
                 ) -> set[str]:
    """Paths of values.yaml, descending only where the schema describes the keys (free maps
    such as labels or resources are one value)."""
    paths = set()
    for key, value in values.items():
        paths.add(prefix + key)
        sub = (schema.get("properties") or {}).get(key, {})
        if isinstance(value, dict) and "properties" in sub and sub.get(
                "additionalProperties") is False:
            paths |= _value_paths(value, sub, prefix + key + ".")
    return paths


def test_values_schema_covers_every_value():
    schema = json.loads((CHART / "values.schema.json").read_text())
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["additionalProperties"] is False
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    missing = _value_paths(values, schema) - _schema_paths(schema)
    assert not missing, f"values without a schema: {sorted(missing)}"
    # and nothing in the schema that values.yaml does not document (global is Helm's)
    undocumented = {p for p in _schema_paths(schema) - _value_paths(values, schema)
                    if p != "global" and not p.startswith(tuple(f"{o}." for o in OBJECT_VALUES))}
    assert not undocumented, f"schema keys missing from values.yaml: {sorted(undocumented)}"


def test_chart_readme_lists_every_value():
    schema = json.loads((CHART / "values.schema.json").read_text())
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    paths = {p for p in _value_paths(values, schema)
             if not p.startswith(tuple(f"{o}." for o in OBJECT_VALUES))}
    # a value described by its leaves in the table, not as the whole object
    leaves = {p for p in paths if not any(q.startswith(p + ".") for q in paths)}
    readme = (CHART / "README.md").read_text()
    missing = sorted(p for p in leaves if f"| `{p}` |" not in readme)
    assert not missing, f"charts/jobscrape/README.md does not list: {missing}"
