"""Argo CD's Deployment, StatefulSet, DaemonSet and ReplicaSet rules, branch by branch (no pods given)."""

from __future__ import annotations

import pytest

from agent.health import Health, HealthStatus, resource_health
from tests.agent.health.objects import T0, cond, deployment

P, H, D, S = HealthStatus.PROGRESSING, HealthStatus.HEALTHY, HealthStatus.DEGRADED, HealthStatus.SUSPENDED
DEADLINE = cond("Progressing", "False", "ProgressDeadlineExceeded", 'ReplicaSet "inference-7d9f" has timed out '
                "progressing.")


def judge(obj: dict) -> Health:
    result = resource_health(obj, now=T0)
    assert result is not None
    return result


@pytest.mark.parametrize(("obj", "status", "message"), [
    (deployment(paused=True, generation=5, observed=1), S, "Deployment is paused"),
    (deployment(generation=2, observed=1), P, "waiting for the controller to observe generation 2 (observed 1)"),
    (deployment(available=1, conditions=[DEADLINE]), D,
     '1/3 replicas available; progress deadline exceeded: ReplicaSet "inference-7d9f" has timed out progressing.'),
    (deployment(updated=1, available=1), P, "1/3 replicas available; rollout: 1/3 replicas updated"),
    (deployment(status_replicas=4, updated=3, available=2), P,
     "2/3 replicas available; rollout: 1 old replica pending termination"),
    (deployment(status_replicas=5, updated=3, available=3), P,
     "3/3 replicas available; rollout: 2 old replicas pending termination"),
    (deployment(available=2), P, "2/3 replicas available"),
    (deployment(), H, "3/3 replicas available"),
    (deployment(replicas=0, status_replicas=0, updated=0, available=0), H, "0/0 replicas available"),
])
def test_deployment_rules_in_argo_cds_order(obj: dict, status: HealthStatus, message: str) -> None:
    assert judge(obj) == Health(status, message)


def test_deployment_without_spec_replicas_skips_the_updated_check() -> None:
    assert judge(deployment(replicas=None, status_replicas=1, updated=1, available=1)).status == H


def test_deadline_is_only_read_once_the_generation_is_observed() -> None:
    assert judge(deployment(generation=3, observed=2, conditions=[DEADLINE])).status == P


def statefulset(*, replicas: int | None = 3, generation: int = 1, observed: int = 1, ready: int = 3,
                updated: int = 3, current_revision: str = "db-1", update_revision: str = "db-1",
                strategy: dict | None = None) -> dict:
    spec: dict = {"updateStrategy": strategy if strategy is not None else {"type": "RollingUpdate"}}
    if replicas is not None:
        spec["replicas"] = replicas
    return {"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "db", "namespace": "ml", "generation": generation}, "spec": spec,
            "status": {"observedGeneration": observed, "replicas": 3, "readyReplicas": ready,
                       "updatedReplicas": updated, "currentRevision": current_revision,
                       "updateRevision": update_revision}}


PARTITIONED = {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}}


@pytest.mark.parametrize(("obj", "status", "message"), [
    (statefulset(observed=0, generation=0), P, "waiting for the controller to observe generation 0 (observed 0)"),
    (statefulset(generation=2), P, "waiting for the controller to observe generation 2 (observed 1)"),
    (statefulset(ready=1), P, "1/3 replicas ready"),
    (statefulset(strategy=PARTITIONED, updated=1), P, "3/3 replicas ready; partitioned rollout: 1/2 replicas updated"),
    (statefulset(strategy=PARTITIONED, updated=2, update_revision="db-2"), H, "3/3 replicas ready"),
    # with rollingUpdate set (as the API defaults it), the revision check is never reached
    (statefulset(strategy={"type": "RollingUpdate", "rollingUpdate": {}}, update_revision="db-2"), H,
     "3/3 replicas ready"),
    (statefulset(strategy={"type": "OnDelete"}, update_revision="db-2"), H, "3/3 replicas ready"),
    (statefulset(update_revision="db-2", updated=1), P, "3/3 replicas ready; rolling update: 1 replica at revision "
                                                         "db-2"),
    (statefulset(), H, "3/3 replicas ready"),
])
def test_statefulset_rules_in_argo_cds_order(obj: dict, status: HealthStatus, message: str) -> None:
    assert judge(obj) == Health(status, message)


def daemonset(*, generation: int = 1, observed: int = 1, desired: int = 3, updated: int = 3, available: int = 3,
              strategy: str = "RollingUpdate") -> dict:
    return {"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": "exporter", "namespace": "ml", "generation": generation},
            "spec": {"updateStrategy": {"type": strategy}},
            "status": {"observedGeneration": observed, "desiredNumberScheduled": desired,
                       "updatedNumberScheduled": updated, "numberAvailable": available}}


@pytest.mark.parametrize(("obj", "status", "message"), [
    (daemonset(generation=2), P, "waiting for the controller to observe generation 2 (observed 1)"),
    (daemonset(strategy="OnDelete", updated=1, available=1), H, "1/3 pods available; 1/3 pods updated (OnDelete)"),
    (daemonset(updated=2, available=2), P, "2/3 pods available; rollout: 2/3 pods updated"),
    (daemonset(available=2), P, "2/3 pods available"),
    (daemonset(), H, "3/3 pods available"),
])
def test_daemonset_rules_in_argo_cds_order(obj: dict, status: HealthStatus, message: str) -> None:
    assert judge(obj) == Health(status, message)


def replicaset(*, generation: int = 1, observed: int = 1, replicas: int | None = 3, available: int = 3,
               conditions: list | None = None) -> dict:
    spec = {} if replicas is None else {"replicas": replicas}
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": "inference-7d9f", "namespace": "ml", "generation": generation}, "spec": spec,
            "status": {"observedGeneration": observed, "replicas": 3, "availableReplicas": available,
                       "conditions": conditions or []}}


QUOTA = cond("ReplicaFailure", "True", "FailedCreate", 'pods "inference-7d9f-x" is forbidden: exceeded quota')


@pytest.mark.parametrize(("obj", "status", "message"), [
    (replicaset(generation=2, conditions=[QUOTA]), P, "waiting for the controller to observe generation 2 "
                                                      "(observed 1)"),
    (replicaset(conditions=[QUOTA], available=1), D,
     'FailedCreate: pods "inference-7d9f-x" is forbidden: exceeded quota'),
    (replicaset(conditions=[cond("ReplicaFailure", "False")], available=1), P, "1/3 replicas available"),
    (replicaset(available=2), P, "2/3 replicas available"),
    (replicaset(replicas=None, available=0), H, "0/3 replicas available"),
    (replicaset(), H, "3/3 replicas available"),
])
def test_replicaset_rules_in_argo_cds_order(obj: dict, status: HealthStatus, message: str) -> None:
    assert judge(obj) == Health(status, message)
