"""Argo CD's rules for batch/v1 Job (`health_job.go`) and CronJob (the bundled `CronJob/health.lua`).

Job: the conditions decide, in this order: `Failed` is Degraded (its reason and message), `Suspended`
Suspended, `Complete` Healthy; a Job with none of them is still running (Progressing).
One departure: Argo CD counts a `Suspended` condition of any status as "finished", so a Job resumed after a
suspension (`Suspended=False`) shows Healthy while it runs; here a condition counts only when its status is
True, so a resumed Job is Progressing until it completes or fails (a hook Job must not pass its wave before
it has run). The Job controller only ever sets `Failed` and `Complete` to True, so for them this changes
nothing.

CronJob (no Go check in Argo CD; its Lua, in order): suspended is Healthy ("CronJob is Suspended", Argo CD
issue #24428); scheduled but never successful is Healthy; with active Jobs Healthy; a last success older
than the last schedule is Degraded; otherwise Healthy; no status at all is Progressing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.health.fields import conditions, flag, integer, mapping, reason_message, sequence, string, timestamp
from agent.health.status import Health, HealthStatus


def job_health(job: Mapping[str, Any]) -> Health:
    failed: Mapping[str, Any] | None = None
    complete: Mapping[str, Any] | None = None
    suspended: Mapping[str, Any] | None = None
    for entry in conditions(job):
        if entry.get("type") == "Failed" and entry.get("status") == "True":
            failed = entry
        elif entry.get("type") == "Complete" and entry.get("status") == "True":
            complete = entry
        elif entry.get("type") == "Suspended" and entry.get("status") == "True":
            suspended = entry
    if failed is not None:
        return Health(HealthStatus.DEGRADED, reason_message(failed) or "Job failed")
    if suspended is not None:
        return Health(HealthStatus.SUSPENDED, string(suspended, "message") or "Job suspended")
    if complete is not None:
        return Health(HealthStatus.HEALTHY, string(complete, "message") or _counts(job))
    return Health(HealthStatus.PROGRESSING, f"running: {_counts(job)}")




def _counts(job: Mapping[str, Any]) -> str:
    return (f"{integer(job, 'status.active')} active, {integer(job, 'status.succeeded')} succeeded, "
            f"{integer(job, 'status.failed')} failed")


def cronjob_health(cronjob: Mapping[str, Any]) -> Health:
    if flag(cronjob, "spec.suspend"):
        return Health(HealthStatus.HEALTHY, "CronJob is Suspended")
    if cronjob.get("status") is None:
        return Health(HealthStatus.PROGRESSING, "Waiting for CronJob")
    status = mapping(cronjob, "status")
    scheduled = timestamp(status.get("lastScheduleTime"), "status.lastScheduleTime")
    if scheduled is None:
        return Health(HealthStatus.HEALTHY, "CronJob has not been scheduled yet")
    succeeded = timestamp(status.get("lastSuccessfulTime"), "status.lastSuccessfulTime")
    if succeeded is None:
        return Health(HealthStatus.HEALTHY, "The CronJob never completed successfully. It may not be healthy")
    if sequence(cronjob, "status.active"):
        return Health(HealthStatus.HEALTHY, "The job is running. Its last execution may not have been successful")
    if succeeded < scheduled:
        return Health(HealthStatus.DEGRADED, "CronJob has not completed its last execution successfully")
    return Health(HealthStatus.HEALTHY, "CronJob has completed its last execution successfully")
