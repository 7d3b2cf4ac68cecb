"""The PrometheusRule's rules pass `promtool check rules` and `promtool test rules`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

HERE = Path(__file__).parent
RULE = HERE.parents[1] / "manifests" / "components" / "monitoring" / "prometheusrule.yaml"


def _rules_file(tmp: Path) -> Path:
    spec = yaml.safe_load(RULE.read_text())["spec"]
    out = tmp / "rules.yaml"
    out.write_text(yaml.safe_dump(spec, sort_keys=False))
    return out


def _promtool() -> str:
    path = shutil.which("promtool")
    assert path, "promtool missing: hack/setup.sh installs Debian's prometheus package"
    return path


def test_promtool_check_rules(tmp_path):
    out = subprocess.run([_promtool(), "check", "rules", str(_rules_file(tmp_path))],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "6 rules found" in out.stdout


def test_promtool_rule_unit_tests(tmp_path):
    _rules_file(tmp_path)
    shutil.copy(HERE / "rules_test.yaml", tmp_path / "rules_test.yaml")
    out = subprocess.run([_promtool(), "test", "rules", "rules_test.yaml"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS" in out.stdout
