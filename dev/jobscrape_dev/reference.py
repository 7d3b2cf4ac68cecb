"""The README's JobSource and metrics references, generated from the models and the metric
table (jobscrape.controller.metrics.METRICS) so they cannot drift.
`python -m jobscrape_dev.reference --write README.md` refreshes the marked sections; a test
fails when they are stale."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from jobscrape.api.crd import model_schema
from jobscrape.api.spec import JobSourceSpec

SECTIONS = ("JOBSOURCE REFERENCE", "METRICS REFERENCE")


def _type(node: dict[str, Any]) -> str:
    if node.get("x-kubernetes-int-or-string"):
        return "int or string"
    t = str(node.get("type", "object"))
    if t == "array":
        return f"[]{_type(node.get('items', {}))}"
    if "enum" in node:
        return " \\| ".join(str(v) for v in node["enum"])
    return t


def _rows(node: dict[str, Any], path: str, required: set[str]) -> list[str]:
    rows = []
    for name, sub in (node.get("properties") or {}).items():
        p = f"{path}.{name}"
        default = sub.get("default")
        shown = "" if default is None else f"`{default}`".replace("'", '"')
        req = "yes" if name in required else ""
        desc = " ".join(str(sub.get("description", "")).split())
        rows.append(f"| `{p}` | {_type(sub)} | {req} | {shown} | {desc} |")
        inner = sub.get("items") if sub.get("type") == "array" else sub
        if isinstance(inner, dict) and inner.get("properties"):
            rows += _rows(inner, p + ("[]" if sub.get("type") == "array" else ""),
                          set(inner.get("required") or []))
    return rows


def jobsource_reference() -> str:
    """Every spec field with type, required, default and description."""
    schema = model_schema(JobSourceSpec)
    head = ["| field | type | required | default | description |", "|---|---|---|---|---|"]
    return "\n".join(head + _rows(schema, "spec", set(schema.get("required") or [])))


def metrics_reference() -> str:
    """Every metric the operator serves, from the table its registry is built from."""
    from jobscrape.controller.metrics import METRICS

    head = ["| metric | labels | meaning |", "|---|---|---|"]
    rows = [f"| `{m.name}` | {', '.join(m.labels)} | {m.help} |" for m in METRICS]
    return "\n".join(head + rows)


def render_sections(text: str) -> str:
    """`text` with each marked section replaced by its generated content."""
    content = {"JOBSOURCE REFERENCE": jobsource_reference(),
               "METRICS REFERENCE": metrics_reference()}
    for name in SECTIONS:
        pattern = re.compile(rf"(<!-- BEGIN {name} -->\n).*?(<!-- END {name} -->)", re.S)
        if not pattern.search(text):
            raise ValueError(f"README has no <!-- BEGIN {name} --> ... <!-- END {name} -->")
        text = pattern.sub(lambda m, c=content[name]: m.group(1) + c + "\n" + m.group(2), text)
    return text


def main(argv: list[str] | None = None) -> int:
    """Print the references, or rewrite them in a file with --write."""
    p = argparse.ArgumentParser(prog="python -m jobscrape_dev.reference")
    p.add_argument("--write", type=Path, help="update the marked sections of this file")
    args = p.parse_args(argv)
    if args.write:
        args.write.write_text(render_sections(args.write.read_text()))
    else:
        sys.stdout.write(jobsource_reference() + "\n\n" + metrics_reference() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
