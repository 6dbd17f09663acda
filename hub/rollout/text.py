"""The words a rollout uses for people: durations ("3m12s"), revisions (a commit's first 7 digits), lists of
clusters ("a, b, c and 2 more") and what one cluster is waiting for. Pure functions, no state.
"""

from __future__ import annotations

import math
import re

from hub.rollout.records import ClusterProgress

_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_SHOWN = 3  # clusters named in a list before "and N more"


def duration(seconds: float) -> str:
    """`seconds`, rounded up to a whole second, as Go prints durations: "45s", "3m12s", "1h0m5s"."""
    total = max(0, math.ceil(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


def revision(text: str) -> str:
    """A commit id shortened to 7 digits; any other revision text as it is."""
    return text[:7] if _COMMIT.match(text) else text


def clusters(names: list[str]) -> str:
    """"a", "a and b", "a, b and c", "a, b, c and 2 more"."""
    if len(names) <= _SHOWN:
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"
    return ", ".join(names[:_SHOWN]) + f" and {len(names) - _SHOWN} more"


def waiting_for(name: str, progress: ClusterProgress, wanted: str) -> str:
    """What cluster `name` must still do to be Synced and Healthy at revision `wanted`."""
    report = progress.report
    if report is None:
        return f"waiting for {name} to report its status"
    if report.revision != wanted:
        return f"waiting for {name} to run revision {revision(wanted)} (it reports {revision(report.revision)})"
    if report.sync_status != "Synced":
        return f"waiting for {name} to be Synced at {revision(wanted)} (it is {report.sync_status})"
    again = " again" if progress.done_at is not None else ""
    return f"waiting for {name} to be Healthy{again} (it is {report.health})"
