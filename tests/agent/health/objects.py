"""Builders of API objects (as dicts, the way the API returns them) for the health unit tests."""

from __future__ import annotations

from typing import Any

T0 = 1_700_000_000.0  # a fixed "now" for the tests
T0_ISO = "2023-11-14T22:13:20Z"  # == T0
GPU_MESSAGE = ("0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: "
               "3 No preemption victims found for incoming pod.")


def iso(seconds_before_t0: float) -> str:
    from datetime import UTC, datetime
    return datetime.fromtimestamp(T0 - seconds_before_t0, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def cond(kind: str, status: str = "True", reason: str = "", message: str = "", **extra: Any) -> dict:
    entry = {"type": kind, "status": status, **extra}
    if reason:
        entry["reason"] = reason
    if message:
        entry["message"] = message
    return entry


def deployment(name: str = "inference", *, replicas: int | None = 3, generation: int = 1, observed: int = 1,
               status_replicas: int = 3, updated: int = 3, available: int = 3, conditions: list | None = None,
               paused: bool = False, namespace: str = "ml", uid: str = "uid-deploy") -> dict:
    spec: dict[str, Any] = {"selector": {"matchLabels": {"app": name}},
                            "template": {"metadata": {"labels": {"app": name}}}}
    if replicas is not None:
        spec["replicas"] = replicas
    if paused:
        spec["paused"] = True
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace, "generation": generation, "uid": uid},
            "spec": spec,
            "status": {"observedGeneration": observed, "replicas": status_replicas, "updatedReplicas": updated,
                       "availableReplicas": available, "conditions": conditions or []}}


def container(name: str = "main", *, waiting: tuple[str, str] | None = None, running: bool = False,
              terminated: dict | None = None, last_terminated: dict | None = None, restarts: int = 0,
              ready: bool = False) -> dict:
    state: dict[str, Any] = {}
    if waiting is not None:
        state["waiting"] = {"reason": waiting[0], **({"message": waiting[1]} if waiting[1] else {})}
    if running:
        state["running"] = {"startedAt": T0_ISO}
    if terminated is not None:
        state["terminated"] = terminated
    entry = {"name": name, "state": state, "ready": ready, "restartCount": restarts, "lastState": {}}
    if last_terminated is not None:
        entry["lastState"] = {"terminated": last_terminated}
    return entry


def pod(name: str = "inference-7d9f", *, phase: str = "Running", restart_policy: str | None = "Always",
        statuses: list | None = None, init_statuses: list | None = None, conditions: list | None = None,
        labels: dict | None = None, owner: dict | None = None, annotations: dict | None = None,
        namespace: str = "ml", containers: int = 1, init_containers: int = 0, created: str = T0_ISO,
        message: str = "", reason: str = "", deleting: bool = False) -> dict:
    metadata: dict[str, Any] = {"name": name, "namespace": namespace, "creationTimestamp": created,
                                "labels": labels if labels is not None else {"app": "inference"}}
    if owner is not None:
        metadata["ownerReferences"] = [owner]
    if annotations:
        metadata["annotations"] = annotations
    if deleting:
        metadata["deletionTimestamp"] = T0_ISO
    spec: dict[str, Any] = {"containers": [{"name": f"c{i}", "image": "x"} for i in range(containers)]}
    if init_containers:
        spec["initContainers"] = [{"name": f"init{i}", "image": "x"} for i in range(init_containers)]
    if restart_policy is not None:
        spec["restartPolicy"] = restart_policy
    status: dict[str, Any] = {"phase": phase, "conditions": conditions or []}
    if statuses is not None:
        status["containerStatuses"] = statuses
    if init_statuses is not None:
        status["initContainerStatuses"] = init_statuses
    if message:
        status["message"] = message
    if reason:
        status["reason"] = reason
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec, "status": status}


def ready_pod(name: str, **kwargs: Any) -> dict:
    return pod(name, statuses=[container(running=True, ready=True)], conditions=[cond("Ready")], **kwargs)


def crashing_pod(name: str = "inference-7d9f", restarts: int = 4, **kwargs: Any) -> dict:
    waiting = ("CrashLoopBackOff", f"back-off 40s restarting failed container=main pod={name}")
    last = {"exitCode": 1, "reason": "Error"}
    return pod(name, statuses=[container(waiting=waiting, restarts=restarts, last_terminated=last)],
               conditions=[cond("Ready", "False", "ContainersNotReady")], **kwargs)


def gpu_pending_pod(name: str = "inference-gpu1", *, waited: float = 60.0, message: str = GPU_MESSAGE,
                    **kwargs: Any) -> dict:
    scheduled = cond("PodScheduled", "False", "Unschedulable", message, lastTransitionTime=iso(waited))
    return pod(name, phase="Pending", conditions=[scheduled], **kwargs)


def rs_owner(deployment_name: str = "inference", template_hash: str = "7d9f") -> dict:
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": f"{deployment_name}-{template_hash}",
            "uid": f"uid-rs-{template_hash}", "controller": True}


def job(name: str = "migrate", *, conditions: list | None = None, active: int = 0, succeeded: int = 0,
        failed: int = 0, uid: str = "uid-job") -> dict:
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": name, "namespace": "ml", "uid": uid},
            "spec": {"selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}},
            "status": {"conditions": conditions or [], "active": active, "succeeded": succeeded, "failed": failed}}
