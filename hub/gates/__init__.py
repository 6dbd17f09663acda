"""Production gates of the hub: sync windows (when a sync may run) and approvals (who let a revision through).

`windows.evaluate` applies Argo CD's sync-window rules to the windows that govern an (application, cluster)
pair and says which window blocks a sync and when it opens; `cron` and `timeline` give a window's schedule its
meaning in absolute time (time zones and daylight saving time). `approvals.ApprovalBook` keeps the approvals
of each (environment, application, revision), counted per distinct approver, in one JSON file: with the
audit chain and credentials, the hub's only durable state. Decides nothing about pushing: `hub.plan` asks.
"""

from __future__ import annotations

from hub.gates.approvals import ApprovalBook, ApprovalState
from hub.gates.cron import CronError, CronSchedule
from hub.gates.windows import WindowVerdict, describe, evaluate

__all__ = ["ApprovalBook", "ApprovalState", "CronError", "CronSchedule", "WindowVerdict", "describe", "evaluate"]
