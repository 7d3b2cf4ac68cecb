"""Turning a JobSource body into a spec, and the checks the API server cannot make: cron
syntax, time zones, regular expressions. Never raises on any input."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from jobscrape.api import schedule
from jobscrape.api.patterns import validate_patterns
from jobscrape.api.spec import JobSourceSpec


@dataclass(frozen=True)
class FieldError:
    """What is wrong with one field: a path like `spec.boards[2].url`, and a message."""

    path: str
    message: str


def _path(loc: tuple[int | str, ...]) -> str:
    out = "spec"
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("function-after", "function-before") or "[" in str(part):
            continue
        else:
            out += f".{part}"
    return out


def parse_spec(body: Any) -> tuple[JobSourceSpec | None, list[FieldError]]:
    """The validated spec, or None with one FieldError per problem."""
    if not isinstance(body, dict):
        return None, [FieldError("spec", "must be an object")]
    try:
        return JobSourceSpec.model_validate(body), []
    except ValidationError as e:
        errors = []
        for err in e.errors(include_url=False):
            msg = str(err.get("msg", "invalid"))
            msg = msg.removeprefix("Value error, ")
            errors.append(FieldError(_path(tuple(err.get("loc", ()))), msg))
        return None, errors


def validate_spec(spec: JobSourceSpec, now: datetime | None = None) -> list[FieldError]:
    """Problems in a parsed spec that only code can find (empty when all is well)."""
    errors: list[FieldError] = []
    tz_ok = True
    if spec.time_zone:
        try:
            schedule.next_run("@daily", spec.time_zone, now or datetime.now(UTC))
        except ValueError as e:
            tz_ok = False
            errors.append(FieldError("spec.timeZone", f"{e}; use an IANA name like "
                                                      "Europe/Berlin"))
    try:
        schedule.next_run(spec.schedule, spec.time_zone if tz_ok else None,
                          now or datetime.now(UTC))
    except ValueError as e:
        errors.append(FieldError("spec.schedule", str(e)))
    if spec.filters is not None:
        errors += [FieldError(path, msg) for path, msg in validate_patterns(spec.filters)]
    return errors
