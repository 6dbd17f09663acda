"""Production gates of the hub: sync windows (when a sync may run) and approvals (who let a revision through).

`windows.evaluate` applies Argo CD's sync-window rules to the windows that govern an (application, cluster)
pair and says which window blocks a sync and when it opens; `cron` and `timeline` give a window's schedule its
meaning in absolute time (time zones and daylight saving time). `approvals.ApprovalBook` counts the approvals
of each (environment, application, revision), per distinct approver and optionally per region, from the one
book the hub keeps in its store (hub.store). Decides nothing about pushing: the pipeline asks.
"""

from __future__ import annotations

from hub.gates.approvals import ApprovalBook, ApprovalState
from hub.gates.cron import CronError, CronSchedule
from hub.gates.windows import WindowVerdict, describe, evaluate

__all__ = ["ApprovalBook", "ApprovalState", "CronError", "CronSchedule", "WindowVerdict", "describe", "evaluate"]
