"""Pod health: Argo CD's Pod rule, init containers, GPU-aware Pending, messages."""

from __future__ import annotations

import pytest

from agent.health import HealthStatus, pod_health
from tests.agent.health.objects import GPU_MESSAGE, T0, cond, container, crashing_pod, gpu_pending_pod, iso, pod

GRACE = 600.0


def health(obj: dict, now: float = T0, grace: float = GRACE):
    return pod_health(obj, now=now, gpu_grace_seconds=grace)


@pytest.mark.parametrize("reason", ["CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull",
                                    "CreateContainerConfigError", "RunContainerError"])
def test_long_running_pod_with_a_failing_waiting_reason_is_degraded(reason: str) -> None:
    result = health(pod(phase="Pending", statuses=[container(waiting=(reason, ""))]))
    assert result.status == HealthStatus.DEGRADED
    assert result.message == reason


def test_other_waiting_reasons_leave_it_to_the_phase() -> None:
    # InvalidImageName is neither Err*, *Error nor *BackOff: Argo CD's rule does not catch it
    result = health(pod(phase="Pending", statuses=[container(waiting=("InvalidImageName", "bad name"))]))
    assert (result.status, result.message) == (HealthStatus.PROGRESSING, "InvalidImageName: bad name")


def test_crash_loop_message_gives_restarts_and_not_the_kubelet_back_off_text() -> None:
    result = health(crashing_pod(restarts=4))
    assert result.status == HealthStatus.DEGRADED
    assert result.message == "CrashLoopBackOff (restarts: 4)"


def test_oom_killed_last_state_is_named() -> None:
    status = container(waiting=("CrashLoopBackOff", "back-off"), restarts=2,
                       last_terminated={"reason": "OOMKilled", "exitCode": 137})
    assert health(pod(statuses=[status])).message == "CrashLoopBackOff (restarts: 2, last state: OOMKilled)"


def test_image_pull_back_off_keeps_the_kubelet_message() -> None:
    status = container(waiting=("ImagePullBackOff", 'Back-off pulling image "model:v9"'))
    result = health(pod(phase="Pending", statuses=[status]))
    assert result.message == 'ImagePullBackOff: Back-off pulling image "model:v9"'


def test_multi_container_pod_names_the_failing_container() -> None:
    statuses = [container("model", running=True, ready=True),
                container("mesh-proxy", waiting=("CrashLoopBackOff", "x"), restarts=3)]
    result = health(pod(statuses=statuses, containers=2))
    assert result.message == "container mesh-proxy CrashLoopBackOff (restarts: 3)"


def test_init_container_crash_loop_is_degraded_where_argo_cd_says_progressing() -> None:
    init = container("init0", waiting=("CrashLoopBackOff", "x"), restarts=5)
    result = health(pod(phase="Pending", init_statuses=[init], statuses=[container("c0", waiting=(
        "PodInitializing", ""))], init_containers=1))
    assert result.status == HealthStatus.DEGRADED
    assert result.message == "container init0 CrashLoopBackOff (restarts: 5)"


def test_missing_restart_policy_means_always() -> None:
    assert health(crashing_pod(restart_policy=None)).status == HealthStatus.DEGRADED


@pytest.mark.parametrize("policy", ["Never", "OnFailure"])
def test_run_to_completion_pod_is_not_degraded_by_waiting_reasons(policy: str) -> None:
    result = health(crashing_pod(restart_policy=policy))
    assert result.status == HealthStatus.PROGRESSING  # Running: Argo CD treats it as a hook still running


def test_ignore_restart_policy_annotation_makes_it_long_running_unless_it_is_a_hook() -> None:
    opted = {"argocd.argoproj.io/ignore-restart-policy": "true"}
    assert health(crashing_pod(restart_policy="Never", annotations=opted)).status == HealthStatus.DEGRADED
    hook = {**opted, "argocd.argoproj.io/hook": "PreSync"}
    assert health(crashing_pod(restart_policy="Never", annotations=hook)).status == HealthStatus.PROGRESSING
    ours = {"fleetline.io/ignore-restart-policy": "true"}
    assert health(crashing_pod(restart_policy="OnFailure", annotations=ours)).status == HealthStatus.DEGRADED


def test_pending_pod_is_progressing_with_what_it_waits_for() -> None:
    creating = pod(phase="Pending", statuses=[container(waiting=("ContainerCreating", ""))])
    assert (health(creating).status, health(creating).message) == (HealthStatus.PROGRESSING, "ContainerCreating")
    bare = pod(phase="Pending")
    assert (health(bare).status, health(bare).message) == (HealthStatus.PROGRESSING, "Pending")


def test_unschedulable_for_other_reasons_stays_progressing_with_the_scheduler_message() -> None:
    message = "0/3 nodes are available: 3 Insufficient cpu."
    result = health(gpu_pending_pod(message=message, waited=86_400))
    assert result.status == HealthStatus.PROGRESSING
    assert result.message == f"Unschedulable: {message}"


def test_pod_waiting_for_gpus_is_progressing_within_the_grace_period() -> None:
    result = health(gpu_pending_pod(waited=599))
    assert result.status == HealthStatus.PROGRESSING
    assert result.message == f"waiting for GPU capacity: {GPU_MESSAGE}"


def test_pod_waiting_for_gpus_is_degraded_after_the_grace_period_saying_how_long() -> None:
    result = health(gpu_pending_pod(waited=750))
    assert result.status == HealthStatus.DEGRADED
    assert result.message == f"waited 12m30s for GPU capacity (grace 10m): {GPU_MESSAGE}"
    assert health(gpu_pending_pod(waited=600)).status == HealthStatus.DEGRADED  # the boundary


def test_gpu_grace_is_configurable_and_now_moves_the_clock() -> None:
    assert health(gpu_pending_pod(waited=120), grace=60).status == HealthStatus.DEGRADED
    assert health(gpu_pending_pod(waited=120), grace=3600).status == HealthStatus.PROGRESSING
    assert health(gpu_pending_pod(waited=120), now=T0 + 3600).status == HealthStatus.DEGRADED


def test_gpu_wait_without_transition_time_counts_from_creation() -> None:
    scheduled = cond("PodScheduled", "False", "Unschedulable", GPU_MESSAGE)
    old = pod(phase="Pending", conditions=[scheduled], created=iso(700))
    young = pod(phase="Pending", conditions=[scheduled], created=iso(30))
    assert health(old).status == HealthStatus.DEGRADED
    assert health(young).status == HealthStatus.PROGRESSING


def test_gpu_shortage_next_to_other_reasons_still_counts_as_waiting_for_gpus() -> None:
    message = ("0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: },"
               " 3 Insufficient nvidia.com/gpu.")
    assert health(gpu_pending_pod(message=message)).message == f"waiting for GPU capacity: {message}"


def test_succeeded_pod_is_healthy() -> None:
    assert health(pod(phase="Succeeded", restart_policy="Never")).status == HealthStatus.HEALTHY


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"message": "The node was low on resource: memory.", "reason": "Evicted"},
     "Evicted: The node was low on resource: memory."),
    ({"statuses": [container(terminated={"exitCode": 2, "message": "model file not found"})]}, "model file not found"),
    ({"statuses": [container("model", terminated={"exitCode": 137, "reason": "OOMKilled"})]},
     "container model OOMKilled"),
    ({"statuses": [container("model", terminated={"exitCode": 3, "reason": "Error"})]},
     "container model failed with exit code 3"),
    ({}, "pod failed"),
])
def test_failed_pod_is_degraded_with_the_best_message_available(kwargs: dict, message: str) -> None:
    result = health(pod(phase="Failed", restart_policy="Never", **kwargs))
    assert (result.status, result.message) == (HealthStatus.DEGRADED, message)


def test_running_ready_pod_is_healthy() -> None:
    ready = pod(statuses=[container(running=True, ready=True)], conditions=[cond("Ready")])
    assert health(ready).status == HealthStatus.HEALTHY


def test_running_not_ready_after_a_restart_is_degraded() -> None:
    status = container(running=True, restarts=2, last_terminated={"reason": "Error", "exitCode": 1})
    result = health(pod(statuses=[status], conditions=[cond("Ready", "False")]))
    assert (result.status, result.message) == (HealthStatus.DEGRADED,
                                               "not ready (restarts: 2, last state: Error, exit code 1)")


def test_running_not_ready_without_restarts_is_progressing() -> None:
    ready = cond("Ready", "False", "ContainersNotReady", "containers with unready status: [main]")
    result = health(pod(statuses=[container(running=True)], conditions=[ready]))
    assert (result.status, result.message) == (HealthStatus.PROGRESSING,
                                               "not ready: containers with unready status: [main]")


def test_running_run_to_completion_pod_is_progressing_even_when_ready() -> None:
    running = pod(restart_policy="Never", statuses=[container(running=True, ready=True)], conditions=[cond("Ready")])
    assert health(running).status == HealthStatus.PROGRESSING


def test_unknown_phase_is_unknown() -> None:
    result = health(pod(phase="Unknown", message="node lost"))
    assert (result.status, result.message) == (HealthStatus.UNKNOWN, "node lost")
    assert health(pod(phase="")).message == "pod phase is not set"
