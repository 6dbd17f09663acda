"""Job (Argo CD's Go rule, with the resumed-Job fix) and CronJob (Argo CD's bundled Lua)."""

from __future__ import annotations

import pytest

from agent.health import Health, HealthStatus, resource_health
from tests.agent.health.objects import T0, cond, job

FAILED = cond("Failed", "True", "BackoffLimitExceeded", "Job has reached the specified backoff limit")
COMPLETE = cond("Complete", "True", "CompletionsReached", "Reached expected number of succeeded pods")
SUSPENDED = cond("Suspended", "True", "JobSuspended", "Job suspended")


def judge(obj: dict) -> Health:
    result = resource_health(obj, now=T0)
    assert result is not None
    return result


@pytest.mark.parametrize(("conditions", "status", "message"), [
    ([FAILED], HealthStatus.DEGRADED, "BackoffLimitExceeded: Job has reached the specified backoff limit"),
    ([cond("FailureTarget", "True", "BackoffLimitExceeded"), FAILED], HealthStatus.DEGRADED,
     "BackoffLimitExceeded: Job has reached the specified backoff limit"),
    ([COMPLETE, FAILED], HealthStatus.DEGRADED, "BackoffLimitExceeded: Job has reached the specified backoff limit"),
    ([COMPLETE], HealthStatus.HEALTHY, "Reached expected number of succeeded pods"),
    ([SUSPENDED], HealthStatus.SUSPENDED, "Job suspended"),
    ([COMPLETE, SUSPENDED], HealthStatus.SUSPENDED, "Job suspended"),  # Argo CD's order: suspended before complete
    ([], HealthStatus.PROGRESSING, "running: 1 active, 2 succeeded, 0 failed"),
    ([cond("SuccessCriteriaMet", "True")], HealthStatus.PROGRESSING, "running: 1 active, 2 succeeded, 0 failed"),
])
def test_job_rules(conditions: list, status: HealthStatus, message: str) -> None:
    assert judge(job(conditions=conditions, active=1, succeeded=2)) == Health(status, message)


def test_resumed_job_is_progressing_not_healthy_as_in_argo_cd() -> None:
    resumed = cond("Suspended", "False", "JobResumed", "Job resumed")
    assert judge(job(conditions=[resumed], active=1)).status == HealthStatus.PROGRESSING


def cronjob(*, suspend: bool = False, status: dict | None = None, with_status: bool = True) -> dict:
    obj = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "train", "namespace": "ml"},
           "spec": {"schedule": "0 * * * *", "suspend": suspend}}
    if with_status:
        obj["status"] = status or {}
    return obj


@pytest.mark.parametrize(("obj", "status", "message"), [
    (cronjob(suspend=True, with_status=False), HealthStatus.HEALTHY, "CronJob is Suspended"),
    (cronjob(with_status=False), HealthStatus.PROGRESSING, "Waiting for CronJob"),
    (cronjob(), HealthStatus.HEALTHY, "CronJob has not been scheduled yet"),
    (cronjob(status={"lastScheduleTime": "2024-05-01T10:00:00Z"}), HealthStatus.HEALTHY,
     "The CronJob never completed successfully. It may not be healthy"),
    (cronjob(status={"lastScheduleTime": "2024-05-01T10:00:00Z", "lastSuccessfulTime": "2024-05-01T09:00:30Z",
                     "active": [{"name": "train-1"}]}), HealthStatus.HEALTHY,
     "The job is running. Its last execution may not have been successful"),
    (cronjob(status={"lastScheduleTime": "2024-05-01T10:00:00Z", "lastSuccessfulTime": "2024-05-01T09:00:30Z"}),
     HealthStatus.DEGRADED, "CronJob has not completed its last execution successfully"),
    (cronjob(status={"lastScheduleTime": "2024-05-01T10:00:00Z", "lastSuccessfulTime": "2024-05-01T10:00:41Z"}),
     HealthStatus.HEALTHY, "CronJob has completed its last execution successfully"),
])
def test_cronjob_rules(obj: dict, status: HealthStatus, message: str) -> None:
    assert judge(obj) == Health(status, message)
