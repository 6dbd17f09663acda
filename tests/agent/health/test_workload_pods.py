"""What the pods add to a workload's health: the worst pod in the message, crash loops, GPU waits."""

from __future__ import annotations

from agent.health import HealthStatus, resource_health
from tests.agent.health.objects import (
    GPU_MESSAGE,
    T0,
    cond,
    container,
    crashing_pod,
    deployment,
    gpu_pending_pod,
    job,
    pod,
    ready_pod,
    rs_owner,
)

OWNED = {"labels": {"app": "inference", "pod-template-hash": "7d9f"}, "owner": rs_owner()}
DEADLINE = cond("Progressing", "False", "ProgressDeadlineExceeded", "timed out")


def judge(obj: dict, pods: list, now: float = T0, grace: float = 600.0):
    result = resource_health(obj, pods=pods, now=now, gpu_grace_seconds=grace)
    assert result is not None
    return result


def test_crash_looping_deployment_is_degraded_naming_the_pod_and_restarts() -> None:
    pods = [ready_pod("inference-7d9f-a", **OWNED), ready_pod("inference-7d9f-b", **OWNED),
            crashing_pod("inference-7d9f", restarts=4, **OWNED)]
    result = judge(deployment(available=2), pods)
    assert result.status == HealthStatus.DEGRADED
    assert result.message == "2/3 replicas available; pod inference-7d9f CrashLoopBackOff (restarts: 4)"


def test_without_pods_the_crash_looping_deployment_is_argo_cds_progressing() -> None:
    result = resource_health(deployment(available=2), now=T0)
    assert result is not None and result.status == HealthStatus.PROGRESSING


def test_healthy_workload_stays_healthy_whatever_its_pods_say() -> None:
    result = judge(deployment(), [crashing_pod(**OWNED)])
    assert (result.status, result.message) == (HealthStatus.HEALTHY, "3/3 replicas available")


def test_worst_pod_is_the_degraded_one_with_most_restarts_and_the_others_are_counted() -> None:
    pods = [pod("inference-7d9f-p", phase="Pending", **OWNED), crashing_pod("inference-7d9f-a", restarts=2, **OWNED),
            crashing_pod("inference-7d9f-b", restarts=7, **OWNED)]
    result = judge(deployment(available=0), pods)
    assert result.message == ("0/3 replicas available; pod inference-7d9f-b CrashLoopBackOff (restarts: 7); "
                              "other pods: 1 Degraded, 1 Progressing")


def test_progressing_pods_are_named_without_changing_the_status() -> None:
    pods = [pod("inference-7d9f-a", phase="Pending", statuses=[container(waiting=("ContainerCreating", ""))],
                **OWNED)]
    result = judge(deployment(available=2), pods)
    assert (result.status, result.message) == (HealthStatus.PROGRESSING,
                                               "2/3 replicas available; pod inference-7d9f-a ContainerCreating")


def test_other_workloads_pods_and_deleted_pods_are_not_looked_at() -> None:
    other = crashing_pod("inference-canary-1a2b-x", labels={"app": "inference", "pod-template-hash": "1a2b"},
                         owner=rs_owner("inference-canary", "1a2b"))
    elsewhere = crashing_pod("inference-7d9f-y", namespace="staging", **OWNED)
    deleting = crashing_pod("inference-7d9f-z", deleting=True, **OWNED)
    result = judge(deployment(available=2), [other, elsewhere, deleting])
    assert (result.status, result.message) == (HealthStatus.PROGRESSING, "2/3 replicas available")


def test_gpu_deployment_is_progressing_while_pods_wait_for_capacity() -> None:
    pods = [ready_pod("inference-7d9f-a", **OWNED), gpu_pending_pod("inference-7d9f-g", waited=120, **OWNED)]
    result = judge(deployment(available=1), pods)
    assert result.status == HealthStatus.PROGRESSING
    assert result.message == ("1/3 replicas available; pod inference-7d9f-g waiting for GPU capacity: "
                              f"{GPU_MESSAGE}")


def test_gpu_deployment_is_degraded_once_a_pod_waited_past_the_grace_period() -> None:
    pods = [gpu_pending_pod("inference-7d9f-g", waited=120, **OWNED)]
    result = judge(deployment(available=0), pods, now=T0 + 600)
    assert result.status == HealthStatus.DEGRADED
    assert "pod inference-7d9f-g waited 12m for GPU capacity (grace 10m)" in result.message


def test_gpu_wait_within_grace_outlasts_the_progress_deadline() -> None:
    pods = [gpu_pending_pod("inference-7d9f-g", waited=120, **OWNED)]
    result = judge(deployment(available=2, conditions=[DEADLINE]), pods)
    assert result.status == HealthStatus.PROGRESSING
    assert result.message.startswith("2/3 replicas available; progress deadline exceeded: timed out; pod "
                                     "inference-7d9f-g waiting for GPU capacity")
    assert judge(deployment(available=2, conditions=[DEADLINE]), pods, now=T0 + 3600).status == HealthStatus.DEGRADED


def test_progress_deadline_without_a_gpu_wait_stays_degraded() -> None:
    pods = [gpu_pending_pod("inference-7d9f-c", message="0/3 nodes are available: 3 Insufficient cpu.", **OWNED)]
    assert judge(deployment(available=2, conditions=[DEADLINE]), pods).status == HealthStatus.DEGRADED


def test_gpu_wait_does_not_hide_a_crash_loop() -> None:
    pods = [gpu_pending_pod("inference-7d9f-g", **OWNED), crashing_pod("inference-7d9f-c", **OWNED)]
    result = judge(deployment(available=1, conditions=[DEADLINE]), pods)
    assert result.status == HealthStatus.DEGRADED
    assert "pod inference-7d9f-c CrashLoopBackOff (restarts: 4)" in result.message


def test_paused_deployment_stays_suspended_but_names_its_pod() -> None:
    result = judge(deployment(paused=True, available=2), [crashing_pod(**OWNED)])
    assert (result.status, result.message) == (HealthStatus.SUSPENDED, "Deployment is paused; pod inference-7d9f "
                                                                       "CrashLoopBackOff (restarts: 4)")


def _owned_by(kind: str, name: str, uid: str) -> dict:
    return {"labels": {"app": "inference"}, "owner": {"kind": kind, "name": name, "uid": uid, "controller": True}}


def test_statefulset_and_daemonset_with_crash_looping_pods_are_degraded() -> None:
    sts = {"apiVersion": "apps/v1", "kind": "StatefulSet",
           "metadata": {"name": "db", "namespace": "ml", "generation": 1, "uid": "uid-sts"},
           "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "inference"}}},
           "status": {"observedGeneration": 1, "readyReplicas": 1}}
    result = judge(sts, [crashing_pod("db-1", restarts=9, **_owned_by("StatefulSet", "db", "uid-sts"))])
    assert (result.status, result.message) == (HealthStatus.DEGRADED,
                                               "1/2 replicas ready; pod db-1 CrashLoopBackOff (restarts: 9)")
    ds = {"apiVersion": "apps/v1", "kind": "DaemonSet",
          "metadata": {"name": "exporter", "namespace": "ml", "generation": 1, "uid": "uid-ds"},
          "spec": {"selector": {"matchLabels": {"app": "inference"}}},
          "status": {"observedGeneration": 1, "desiredNumberScheduled": 3, "updatedNumberScheduled": 3,
                     "numberAvailable": 2}}
    image = container(waiting=("ImagePullBackOff", 'Back-off pulling image "exporter:9"'))
    bad = pod("exporter-x", phase="Pending", statuses=[image], **_owned_by("DaemonSet", "exporter", "uid-ds"))
    result = judge(ds, [bad])
    assert result.status == HealthStatus.DEGRADED
    assert result.message == '2/3 pods available; pod exporter-x ImagePullBackOff: Back-off pulling image "exporter:9"'


def test_replicaset_with_crash_looping_pod_is_degraded() -> None:
    rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
          "metadata": {"name": "inference-7d9f", "namespace": "ml", "generation": 1, "uid": "uid-rs-7d9f"},
          "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "inference"}}},
          "status": {"observedGeneration": 1, "availableReplicas": 0}}
    assert judge(rs, [crashing_pod(**OWNED)]).status == HealthStatus.DEGRADED


def _job_pod(name: str, **kwargs: object) -> dict:
    return pod(name, restart_policy="Never", labels={"batch.kubernetes.io/controller-uid": "uid-job"},
               owner={"kind": "Job", "name": "migrate", "uid": "uid-job", "controller": True}, **kwargs)


def test_running_job_with_a_failed_pod_stays_progressing_and_names_it() -> None:
    failed = _job_pod("migrate-a", phase="Failed", statuses=[container(terminated={"exitCode": 1, "reason": "Error"})])
    result = judge(job(active=1, failed=1), [failed, _job_pod("migrate-b")])
    assert result.status == HealthStatus.PROGRESSING
    assert result.message == ("running: 1 active, 0 succeeded, 1 failed; pod migrate-a container main failed "
                              "with exit code 1; other pods: 1 Progressing")


def test_job_waiting_for_gpus_past_the_grace_period_is_degraded() -> None:
    scheduled = cond("PodScheduled", "False", "Unschedulable", GPU_MESSAGE, lastTransitionTime="2023-11-14T21:00:00Z")
    waiting = _job_pod("train-a", phase="Pending", conditions=[scheduled])
    assert judge(job(active=1), [waiting]).status == HealthStatus.DEGRADED
    assert judge(job(active=1), [waiting], grace=7200).status == HealthStatus.PROGRESSING
