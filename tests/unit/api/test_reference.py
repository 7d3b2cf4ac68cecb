"""The README's generated references are up to date and cover every field and metric."""

from __future__ import annotations

from pathlib import Path

from jobscrape.controller.metrics import METRICS
from jobscrape_dev.reference import jobsource_reference, metrics_reference, render_sections

README = Path(__file__).resolve().parents[3] / "README.md"


def test_readme_references_are_fresh():
    text = README.read_text()
    assert render_sections(text) == text, (
        "README references are stale: run `python -m jobscrape_dev.reference --write README.md`")


def test_reference_lists_nested_fields_and_all_metrics():
    ref = jobsource_reference()
    for field in ("`spec.schedule`", "`spec.boards[].url`", "`spec.store.sqlite.whenDeleted`",
                  "`spec.notify[].webhook.urlSecretRef.key`", "`spec.run.shards`"):
        assert field in ref
    assert "| `spec.boards` | []object | yes |" in ref
    assert all(f"| `{m.name}` | {', '.join(m.labels)} | {m.help} |" in metrics_reference()
               for m in METRICS)
