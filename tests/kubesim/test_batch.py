"""Jobs and CronJobs on a simulated cluster, through the official client (speed 120: a minute is 0.5 s)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from kubesim.cluster import ClusterOptions
from tests.kubesim.conftest import Clients, wait_for

SCHEDULED = "batch.kubernetes.io/cronjob-scheduled-timestamp"


@pytest.fixture
def sim_options() -> ClusterOptions:
    return ClusterOptions(speed=120.0, nodes=3)


def job_spec(image: str = "trainer:v1", *, restart_policy: str = "Never", annotations: dict | None = None,
             **fields: object) -> k8s.V1JobSpec:
    return k8s.V1JobSpec(template=k8s.V1PodTemplateSpec(
        metadata=k8s.V1ObjectMeta(annotations=annotations),
        spec=k8s.V1PodSpec(restart_policy=restart_policy,
                           containers=[k8s.V1Container(name="main", image=image)])),
        **fields)


def job(name: str, *args: object, **kwargs: object) -> k8s.V1Job:
    return k8s.V1Job(metadata=k8s.V1ObjectMeta(name=name), spec=job_spec(*args, **kwargs))


def condition(obj: object, kind: str) -> object | None:
    return next((c for c in obj.status.conditions or [] if c.type == kind and c.status == "True"), None)


def read_job(kube: Clients, name: str) -> k8s.V1Job:
    return kube.batch_v1.read_namespaced_job(name, "default")


def pods_of(kube: Clients, job_name: str) -> list[k8s.V1Pod]:
    return kube.core_v1.list_namespaced_pod("default", label_selector=f"job-name={job_name}").items


def event_reasons(kube: Clients, name: str) -> list[str]:
    events = kube.core_v1.list_namespaced_event("default").items
    return [e.reason for e in events if e.involved_object.name == name]


def test_job_runs_its_pod_to_completion(kube: Clients) -> None:
    created = kube.batch_v1.create_namespaced_job("default", job("train"))
    uid = created.metadata.uid
    assert created.spec.selector.match_labels == {"batch.kubernetes.io/controller-uid": uid}
    assert created.spec.template.metadata.labels == {
        "batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": "train",
        "controller-uid": uid, "job-name": "train"}
    done = wait_for(lambda: condition(j := read_job(kube, "train"), "Complete") and j, message="Complete")
    assert condition(done, "SuccessCriteriaMet") is not None
    complete = condition(done, "Complete")
    assert complete.reason == "CompletionsReached"
    assert (done.status.succeeded, done.status.active, done.status.failed) == (1, None, None)
    assert done.status.start_time is not None and done.status.completion_time is not None
    assert done.status.ready == 0
    [pod] = pods_of(kube, "train")
    assert re.fullmatch(r"train-[a-z0-9]{5}", pod.metadata.name)
    assert pod.status.phase == "Succeeded"
    assert pod.metadata.owner_references[0].uid == uid and pod.metadata.owner_references[0].controller
    assert {"SuccessfulCreate", "Completed"} <= set(event_reasons(kube, "train"))


def test_job_with_completions_and_parallelism(kube: Clients) -> None:
    kube.batch_v1.create_namespaced_job("default", job("shards", completions=4, parallelism=2))
    seen_active: set[int] = set()

    def complete() -> k8s.V1Job | None:
        j = read_job(kube, "shards")
        seen_active.add(j.status.active or 0)
        return j if condition(j, "Complete") else None

    done = wait_for(complete, message="four completions")
    assert done.status.succeeded == 4
    assert len(pods_of(kube, "shards")) == 4
    assert max(seen_active) <= 2


def test_crashing_job_fails_after_its_backoff_limit(kube: Clients) -> None:
    kube.batch_v1.create_namespaced_job("default", job("broken", "trainer:v2-crash", backoff_limit=2))
    failed = wait_for(lambda: condition(j := read_job(kube, "broken"), "Failed") and j, timeout=30,
                      message="the Job Failed")
    reason = condition(failed, "Failed")
    assert reason.reason == "BackoffLimitExceeded"
    assert reason.message == "Job has reached the specified backoff limit"
    assert failed.status.failed == 3  # the first pod and backoffLimit retries
    assert condition(failed, "Complete") is None
    pods = pods_of(kube, "broken")
    assert len(pods) == 3 and all(p.status.phase == "Failed" for p in pods)
    assert "BackoffLimitExceeded" in event_reasons(kube, "broken")


def test_on_failure_job_counts_restarts_against_the_backoff_limit(kube: Clients) -> None:
    kube.batch_v1.create_namespaced_job("default", job("restarting", "trainer:v2-crash",
                                                       restart_policy="OnFailure", backoff_limit=2))
    failed = wait_for(lambda: condition(j := read_job(kube, "restarting"), "Failed") and j, timeout=30,
                      message="the Job Failed")
    assert condition(failed, "Failed").reason == "BackoffLimitExceeded"
    wait_for(lambda: not pods_of(kube, "restarting"), message="the restarting pod deleted")


def test_job_past_its_deadline_fails(kube: Clients) -> None:
    kube.batch_v1.create_namespaced_job("default", job(
        "slow", annotations={"kubesim.fleetline.io/run-seconds": "100000"}, active_deadline_seconds=30))
    failed = wait_for(lambda: condition(j := read_job(kube, "slow"), "Failed") and j,
                      message="DeadlineExceeded")
    assert condition(failed, "Failed").reason == "DeadlineExceeded"
    assert condition(failed, "Failed").message == "Job was active longer than specified deadline"
    wait_for(lambda: not pods_of(kube, "slow"), message="the running pod deleted")


def test_finished_job_is_deleted_after_its_ttl(kube: Clients) -> None:
    kube.batch_v1.create_namespaced_job("default", job("short-lived", ttl_seconds_after_finished=30))

    def gone() -> bool:
        try:
            read_job(kube, "short-lived")
        except ApiException as exc:
            return exc.status == 404
        return False

    wait_for(gone, message="the Job deleted after its TTL")
    wait_for(lambda: not pods_of(kube, "short-lived"), message="its pods deleted with it")


def cronjob(name: str, schedule: str = "* * * * *", image: str = "report:v1",
            **fields: object) -> k8s.V1CronJob:
    return k8s.V1CronJob(metadata=k8s.V1ObjectMeta(name=name), spec=k8s.V1CronJobSpec(
        schedule=schedule, job_template=k8s.V1JobTemplateSpec(spec=job_spec(image)), **fields))


def jobs_of(kube: Clients, cronjob_uid: str) -> list[k8s.V1Job]:
    return [j for j in kube.batch_v1.list_namespaced_job("default").items
            if any(r.uid == cronjob_uid for r in j.metadata.owner_references or [])]


def test_cronjob_creates_jobs_on_the_simulated_minute(kube: Clients) -> None:
    created = kube.batch_v1.create_namespaced_cron_job("default", cronjob("nightly",
                                                                          successful_jobs_history_limit=1))
    first = wait_for(lambda: jobs_of(kube, created.metadata.uid), message="the first scheduled Job")[0]
    match = re.fullmatch(r"nightly-(\d+)", first.metadata.name)
    assert match, first.metadata.name
    scheduled = datetime.strptime(first.metadata.annotations[SCHEDULED], "%Y-%m-%dT%H:%M:%SZ")
    scheduled = scheduled.replace(tzinfo=UTC)
    assert scheduled.second == 0 and int(match.group(1)) == int(scheduled.timestamp()) // 60
    owner = first.metadata.owner_references[0]
    assert owner.kind == "CronJob" and owner.controller and owner.uid == created.metadata.uid

    def succeeded() -> k8s.V1CronJob | None:
        cj = kube.batch_v1.read_namespaced_cron_job("nightly", "default")
        return cj if cj.status.last_successful_time and cj.status.last_schedule_time else None

    status = wait_for(succeeded, message="lastSuccessfulTime").status
    # Status times stay on the wall clock (the slot in the name and annotation is simulated time).
    assert status.last_schedule_time <= datetime.now(UTC) + timedelta(seconds=1)
    assert status.last_successful_time <= datetime.now(UTC) + timedelta(seconds=1)

    def pruned() -> bool:
        jobs = jobs_of(kube, created.metadata.uid)
        finished = [j for j in jobs if condition(j, "Complete")]
        names = sorted(int(j.metadata.name.rsplit("-", 1)[1]) for j in jobs)
        return len(names) >= 1 and names[0] > int(match.group(1)) and len(finished) <= 1

    wait_for(pruned, message="old successful Jobs cleaned up to successfulJobsHistoryLimit")
    assert "SuccessfulCreate" in event_reasons(kube, "nightly")


def _long_cronjob(name: str, policy: str) -> k8s.V1CronJob:
    """A CronJob whose Jobs run (simulated) for more than a day."""
    body = cronjob(name, concurrency_policy=policy)
    body.spec.job_template.spec.template.metadata.annotations = {"kubesim.fleetline.io/run-seconds": "100000"}
    return body


def test_cronjob_forbid_keeps_one_job_running(kube: Clients) -> None:
    created = kube.batch_v1.create_namespaced_cron_job("default", _long_cronjob("exclusive", "Forbid"))
    wait_for(lambda: jobs_of(kube, created.metadata.uid), message="the first Job")
    # Let several simulated minutes pass: the CronJob's active list must still name one Job.
    first_schedule = wait_for(lambda: kube.batch_v1.read_namespaced_cron_job("exclusive", "default")
                              .status.last_schedule_time, message="lastScheduleTime")
    wait_for(lambda: kube.batch_v1.read_namespaced_cron_job("exclusive", "default").status.active,
             message="an active Job")
    allow = kube.batch_v1.create_namespaced_cron_job("default", _long_cronjob("parallel", "Allow"))
    wait_for(lambda: len(jobs_of(kube, allow.metadata.uid)) >= 3, message="Allow running three Jobs at once")
    assert len(jobs_of(kube, created.metadata.uid)) == 1
    cj = kube.batch_v1.read_namespaced_cron_job("exclusive", "default")
    assert len(cj.status.active) == 1 and cj.status.last_schedule_time == first_schedule


def test_suspended_cronjob_creates_nothing(kube: Clients) -> None:
    suspended = kube.batch_v1.create_namespaced_cron_job("default", cronjob("paused", suspend=True))
    control = kube.batch_v1.create_namespaced_cron_job("default", cronjob("control"))
    wait_for(lambda: len(jobs_of(kube, control.metadata.uid)) >= 2, message="the control CronJob's Jobs")
    assert jobs_of(kube, suspended.metadata.uid) == []


def test_cronjob_honours_its_time_zone(kube: Clients) -> None:
    created = kube.batch_v1.create_namespaced_cron_job("default", cronjob("tz", time_zone="Asia/Kolkata"))
    job_obj = wait_for(lambda: jobs_of(kube, created.metadata.uid), message="a Job")[0]
    assert job_obj.metadata.annotations[SCHEDULED].endswith("+05:30")


def test_unparseable_schedule_is_refused(kube: Clients) -> None:
    with pytest.raises(ApiException) as err:
        kube.batch_v1.create_namespaced_cron_job("default", cronjob("bad", schedule="every day at noon"))
    assert err.value.status == 422
    assert '"field":"spec.schedule"' in err.value.body.replace(" ", "")
    with pytest.raises(ApiException) as err:
        kube.batch_v1.create_namespaced_cron_job("default", cronjob("bad", time_zone="Mars/Olympus"))
    assert err.value.status == 422 and "spec.timeZone" in err.value.body


def test_a_jobs_template_is_immutable(kube: Clients) -> None:
    kube.batch_v1.create_namespaced_job("default", job("train"))
    with pytest.raises(ApiException) as raised:
        kube.batch_v1.patch_namespaced_job("train", "default", {"spec": {"template": {"spec": {"containers": [
            {"name": "main", "image": "trainer:v2"}]}}}})
    assert raised.value.status == 422
    assert "spec.template: Invalid value" in raised.value.body and "field is immutable" in raised.value.body
    # metadata is not: labels and annotations of the Job itself may change
    kube.batch_v1.patch_namespaced_job("train", "default", {"metadata": {"labels": {"team": "ml"}}})
