"""The runner stands on the API package alone: it never imports the controller."""

from __future__ import annotations

import ast
from pathlib import Path

import jobscrape.runner.pipeline

RUNNER = Path(jobscrape.runner.pipeline.__file__).parent


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_runner_does_not_import_the_controller():
    files = sorted(RUNNER.glob("*.py"))
    assert {f.name for f in files} >= {"main.py", "report.py", "pipeline.py"}
    offending = {f.name: sorted(n for n in _imports(f) if n.startswith("jobscrape.controller"))
                 for f in files}
    assert {k: v for k, v in offending.items() if v} == {}


def test_controller_conditions_reexport_the_api_helpers():
    from jobscrape.api import conditions as api
    from jobscrape.controller import conditions as ctl

    assert (ctl.condition, ctl.merge, ctl.fmt_time, ctl.find) == (
        api.condition, api.merge, api.fmt_time, api.find)
