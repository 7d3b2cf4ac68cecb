"""The README's generated references are up to date and cover every field and metric."""

from __future__ import annotations

from pathlib import Path

from jobscrape.api.reference import jobsource_reference, metrics_reference, render_sections
from jobscrape.metrics import FAMILIES

README = Path(__file__).resolve().parents[3] / "README.md"


def test_readme_references_are_fresh():
    text = README.read_text()
    assert render_sections(text) == text, (
        "README references are stale: run `python -m jobscrape.api.reference --write README.md`")


def test_reference_lists_nested_fields_and_all_metrics():
    ref = jobsource_reference()
    for field in ("`spec.schedule`", "`spec.boards[].url`", "`spec.store.sqlite.whenDeleted`",
                  "`spec.notify[].webhook.urlSecretRef.key`", "`spec.run.shards`"):
        assert field in ref
    assert "| `spec.boards` | []object | yes |" in ref
    assert all(f"`{name}`" in metrics_reference() for name in FAMILIES)
