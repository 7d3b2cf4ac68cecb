"""When a CronJob schedule fires next, computed as the cronjob controller does. Shared by
the spec's validation, the operator (status.nextScheduleTime) and its metrics."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadCronError, croniter

MACROS = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


def expand(schedule: str) -> str:
    """The five-field form of a schedule (macros expanded)."""
    s = schedule.strip()
    return MACROS.get(s.lower(), s)


def next_run(schedule: str, time_zone: str | None, now: datetime) -> datetime:
    """The next time after `now` the schedule fires, in UTC.

    Raises ValueError naming the problem for an invalid schedule or time zone.
    """
    try:
        tz = ZoneInfo(time_zone) if time_zone else UTC
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ValueError(f"unknown time zone {time_zone!r}") from e
    expr = expand(schedule)
    if len(expr.split()) != 5:
        raise ValueError(f"schedule {schedule!r} must have 5 fields or be a macro like @hourly")
    try:
        it = croniter(expr, now.astimezone(tz))
        return it.get_next(datetime).astimezone(UTC)
    except (CroniterBadCronError, ValueError, KeyError) as e:
        raise ValueError(f"invalid schedule {schedule!r}: {e}") from e


def interval_seconds(schedule: str, time_zone: str | None, now: datetime) -> float:
    """The gap between the next two firings (what an alert on a missed run should wait)."""
    first = next_run(schedule, time_zone, now)
    return (next_run(schedule, time_zone, first) - first).total_seconds()
