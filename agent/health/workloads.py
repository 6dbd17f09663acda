"""Argo CD's rules for the apps/v1 workloads: Deployment, StatefulSet, DaemonSet, ReplicaSet (reference §A1.3).

These look at the object alone, exactly as Argo CD does (same checks, same order); only the messages are
ours, led by the replica counts (`2/3 replicas available; rollout: 1/3 replicas updated`). What the pods
add (crash loops, GPU waits) is `agent.health.workload_pods`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.health.fields import condition, flag, integer, is_true, mapping, optional_integer, string
from agent.health.status import Health, HealthStatus

PROGRESS_DEADLINE_EXCEEDED = "ProgressDeadlineExceeded"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _unobserved(obj: Mapping[str, Any]) -> Health | None:
    generation = integer(obj, "metadata.generation")
    observed = integer(obj, "status.observedGeneration")
    if generation > observed:
        return Health(HealthStatus.PROGRESSING,
                      f"waiting for the controller to observe generation {generation} (observed {observed})")
    return None


def deadline_exceeded(deployment: Mapping[str, Any]) -> bool:
    """The Deployment's Progressing condition says ProgressDeadlineExceeded."""
    progressing = condition(deployment, "Progressing") or {}
    return progressing.get("reason") == PROGRESS_DEADLINE_EXCEEDED


def deployment_health(deployment: Mapping[str, Any]) -> Health:
    if flag(deployment, "spec.paused"):
        return Health(HealthStatus.SUSPENDED, "Deployment is paused")
    unobserved = _unobserved(deployment)
    if unobserved:
        return unobserved
    wanted = optional_integer(deployment, "spec.replicas")
    replicas = integer(deployment, "status.replicas")
    updated = integer(deployment, "status.updatedReplicas")
    available = integer(deployment, "status.availableReplicas")
    counts = f"{available}/{updated if wanted is None else wanted} replicas available"
    if deadline_exceeded(deployment):
        message = string(condition(deployment, "Progressing") or {}, "message")
        return Health(HealthStatus.DEGRADED, f"{counts}; progress deadline exceeded" + (f": {message}" if message
                                                                                       else ""))
    if wanted is not None and updated < wanted:
        return Health(HealthStatus.PROGRESSING, f"{counts}; rollout: {updated}/{wanted} replicas updated")
    if replicas > updated:
        old = _plural(replicas - updated, "old replica")
        return Health(HealthStatus.PROGRESSING, f"{counts}; rollout: {old} pending termination")
    if available < updated:
        return Health(HealthStatus.PROGRESSING, counts)
    return Health(HealthStatus.HEALTHY, counts)


def statefulset_health(statefulset: Mapping[str, Any]) -> Health:
    generation = integer(statefulset, "metadata.generation")
    observed = integer(statefulset, "status.observedGeneration")
    if observed == 0 or generation > observed:
        return Health(HealthStatus.PROGRESSING,
                      f"waiting for the controller to observe generation {generation} (observed {observed})")
    wanted = optional_integer(statefulset, "spec.replicas")
    ready = integer(statefulset, "status.readyReplicas")
    updated = integer(statefulset, "status.updatedReplicas")
    counts = f"{ready}/{integer(statefulset, 'status.replicas') if wanted is None else wanted} replicas ready"
    if wanted is not None and ready < wanted:
        return Health(HealthStatus.PROGRESSING, counts)
    strategy = mapping(statefulset, "spec.updateStrategy")
    if strategy.get("type") == "RollingUpdate" and strategy.get("rollingUpdate") is not None:
        partition = optional_integer(statefulset, "spec.updateStrategy.rollingUpdate.partition")
        if wanted is not None and partition is not None and updated < wanted - partition:
            return Health(HealthStatus.PROGRESSING,
                          f"{counts}; partitioned rollout: {updated}/{wanted - partition} replicas updated")
        return Health(HealthStatus.HEALTHY, counts)
    if strategy.get("type") == "OnDelete":
        return Health(HealthStatus.HEALTHY, counts)
    update_revision = string(statefulset, "status.updateRevision")
    if update_revision != string(statefulset, "status.currentRevision"):
        return Health(HealthStatus.PROGRESSING,
                      f"{counts}; rolling update: {_plural(updated, 'replica')} at revision {update_revision}")
    return Health(HealthStatus.HEALTHY, counts)


def daemonset_health(daemonset: Mapping[str, Any]) -> Health:
    unobserved = _unobserved(daemonset)
    if unobserved:
        return unobserved
    desired = integer(daemonset, "status.desiredNumberScheduled")
    updated = integer(daemonset, "status.updatedNumberScheduled")
    available = integer(daemonset, "status.numberAvailable")
    counts = f"{available}/{desired} pods available"
    if mapping(daemonset, "spec.updateStrategy").get("type") == "OnDelete":
        return Health(HealthStatus.HEALTHY, f"{counts}; {updated}/{desired} pods updated (OnDelete)")
    if updated < desired:
        return Health(HealthStatus.PROGRESSING, f"{counts}; rollout: {updated}/{desired} pods updated")
    if available < desired:
        return Health(HealthStatus.PROGRESSING, counts)
    return Health(HealthStatus.HEALTHY, counts)


def replicaset_health(replicaset: Mapping[str, Any]) -> Health:
    unobserved = _unobserved(replicaset)
    if unobserved:
        return unobserved
    failure = condition(replicaset, "ReplicaFailure")
    if failure is not None and is_true(failure):
        reason, message = string(failure, "reason"), string(failure, "message")
        return Health(HealthStatus.DEGRADED, f"{reason}: {message}" if reason and message else reason or message)
    wanted = optional_integer(replicaset, "spec.replicas")
    available = integer(replicaset, "status.availableReplicas")
    counts = f"{available}/{integer(replicaset, 'status.replicas') if wanted is None else wanted} replicas available"
    if wanted is not None and available < wanted:
        return Health(HealthStatus.PROGRESSING, counts)
    return Health(HealthStatus.HEALTHY, counts)
