"""Postings as text for people and tools: table, json, jsonl and csv, with board text kept
literal (no rich markup, no escape sequences, no spreadsheet formulas)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from jobscrape.postings import clean_line

if TYPE_CHECKING:
    from rich.text import Text

FORMATS = ("table", "json", "jsonl", "csv")

#: The flat columns of a posting (posting_row), in CSV order.
POSTING_FIELDS = ("id", "board", "title", "company", "department", "locations", "remote",
                  "employment_type", "salary_min", "salary_max", "salary_currency",
                  "salary_period", "posted_at", "url", "apply_url")

#: What makes a spreadsheet read a cell as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A CSV cell that a spreadsheet reads as text: a string starting with = + - @ tab or CR
    gets a single quote in front (OWASP); other values are unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def table_cell(value: object) -> Text:
    """A table cell holding the value as plain text: no rich markup is parsed ("[/]",
    "[m/w/d]" print as they are) and no escape sequence or control character reaches the
    terminal (postings stored by older versions may still hold them)."""
    from rich.text import Text

    return Text(clean_line("" if value is None else str(value)))


def posting_row(d: dict[str, Any]) -> dict[str, Any]:
    """A posting dict (Posting.to_dict) as the flat POSTING_FIELDS."""
    sal = d.get("salary") or {}
    return {"id": d["id"], "board": d["board"], "title": d["title"],
            "company": d.get("company") or "", "department": d.get("department") or "",
            "locations": "; ".join(d.get("locations") or []), "remote": d.get("remote"),
            "employment_type": d.get("employment_type"), "salary_min": sal.get("min"),
            "salary_max": sal.get("max"), "salary_currency": sal.get("currency"),
            "salary_period": sal.get("period"), "posted_at": d.get("posted_at") or "",
            "url": d.get("url") or "", "apply_url": d.get("apply_url") or ""}


def render_records(records: Sequence[dict[str, Any]], fmt: str,
                   csv_fields: Sequence[str] = (),
                   table_columns: Sequence[tuple[str, str]] = (), title: str = "") -> str:
    """Records as json (one array), jsonl (one object a line), csv (`csv_fields`, formulas
    neutralised) or a table (`table_columns`: header and key; every cell literal text)."""
    if fmt == "json":
        return json.dumps(list(records), indent=2, ensure_ascii=False) + "\n"
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(csv_fields), extrasaction="ignore")
        w.writeheader()
        for r in records:
            w.writerow({k: csv_cell(r.get(k)) for k in csv_fields})
        return buf.getvalue()
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title or None)
    for header, _ in table_columns:
        table.add_column(header, overflow="fold")
    for r in records:
        table.add_row(*(table_cell(r.get(key)) for _, key in table_columns))
    out = io.StringIO()
    Console(file=out, width=160, force_terminal=False).print(table)
    return out.getvalue()
