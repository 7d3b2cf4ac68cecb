"""Status conditions as pure values: build one, and merge it keeping lastTransitionTime.

The helpers live in jobscrape.api.conditions (the runner uses them too and must not import the
controller); they are re-exported here so controller code keeps importing them from here.
"""

from __future__ import annotations

from jobscrape.api.conditions import Condition, condition, find, fmt_time, merge  # noqa: F401
