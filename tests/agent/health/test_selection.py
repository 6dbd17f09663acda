"""pods_of: a workload's pods by selector, narrowed by ownership."""

from __future__ import annotations

import pytest

from agent.health import pods_of
from tests.agent.health.objects import deployment, job, pod, rs_owner


def names(pods: list) -> list[str]:
    return [item["metadata"]["name"] for item in pods]


def test_deployment_owns_pods_of_its_replicasets_by_template_hash() -> None:
    mine = pod("inference-7d9f-a", labels={"app": "inference", "pod-template-hash": "7d9f"}, owner=rs_owner())
    old = pod("inference-0c1d-b", labels={"app": "inference", "pod-template-hash": "0c1d"},
              owner=rs_owner("inference", "0c1d"))
    # same labels, but controlled by another Deployment's ReplicaSet (overlapping selectors)
    canary = pod("inference-canary-1a2b-c", labels={"app": "inference", "pod-template-hash": "1a2b"},
                 owner=rs_owner("inference-canary", "1a2b"))
    assert names(pods_of(deployment(), [mine, old, canary])) == ["inference-7d9f-a", "inference-0c1d-b"]


def test_deployment_without_hash_label_falls_back_to_the_replicaset_name_prefix() -> None:
    mine = pod("a", labels={"app": "inference"}, owner=rs_owner())
    statefulset_pod = pod("b", labels={"app": "inference"},
                          owner={"kind": "StatefulSet", "name": "inference", "uid": "u", "controller": True})
    assert names(pods_of(deployment(), [mine, statefulset_pod])) == ["a"]


def test_orphans_are_matched_by_selector_and_namespace() -> None:
    orphan = pod("orphan", labels={"app": "inference"})
    stranger = pod("stranger", labels={"app": "web"})
    elsewhere = pod("elsewhere", labels={"app": "inference"}, namespace="staging")
    assert names(pods_of(deployment(), [orphan, stranger, elsewhere])) == ["orphan"]


def test_controllers_other_than_deployments_own_by_uid_else_by_name() -> None:
    by_uid = pod("a", labels={}, owner={"kind": "Job", "name": "migrate", "uid": "uid-job", "controller": True})
    other_uid = pod("b", labels={}, owner={"kind": "Job", "name": "migrate", "uid": "uid-old", "controller": True})
    by_name = pod("c", labels={}, owner={"kind": "Job", "name": "migrate", "controller": True})
    assert names(pods_of(job(), [by_uid, other_uid, by_name])) == ["a", "c"]
    no_uid = job(uid="")
    assert names(pods_of(no_uid, [by_uid, other_uid])) == ["a", "b"]


def test_non_controller_owner_references_do_not_count() -> None:
    referenced = pod("a", labels={"app": "inference"},
                     owner={"kind": "ConfigMap", "name": "x", "uid": "u", "controller": False})
    assert names(pods_of(deployment(), [referenced])) == ["a"]


@pytest.mark.parametrize(("expression", "matches"), [
    ({"key": "tier", "operator": "In", "values": ["gpu", "tpu"]}, ["gpu"]),
    ({"key": "tier", "operator": "NotIn", "values": ["gpu"]}, ["cpu", "none"]),
    ({"key": "tier", "operator": "Exists"}, ["gpu", "cpu"]),
    ({"key": "tier", "operator": "DoesNotExist"}, ["none"]),
])
def test_match_expressions(expression: dict, matches: list[str]) -> None:
    workload = {"kind": "ReplicaSet", "metadata": {"name": "rs", "namespace": "ml"},
                "spec": {"selector": {"matchLabels": {"app": "x"}, "matchExpressions": [expression]}}}
    pods = [pod("gpu", labels={"app": "x", "tier": "gpu"}), pod("cpu", labels={"app": "x", "tier": "cpu"}),
            pod("none", labels={"app": "x"}), pod("other", labels={"app": "y", "tier": "gpu"})]
    assert names(pods_of(workload, pods)) == matches


def test_service_selector_is_a_plain_map_and_no_selector_selects_nothing() -> None:
    service = {"kind": "Service", "metadata": {"name": "inference", "namespace": "ml"},
               "spec": {"selector": {"app": "inference"}}}
    pods = [pod("a", labels={"app": "inference"}), pod("b", labels={"app": "web"})]
    assert names(pods_of(service, pods)) == ["a"]
    headless = {"kind": "Service", "metadata": {"name": "external", "namespace": "ml"}, "spec": {}}
    assert pods_of(headless, pods) == []


def test_malformed_selector_is_an_error_naming_the_workload() -> None:
    workload = {"kind": "ReplicaSet", "metadata": {"name": "rs", "namespace": "ml"},
                "spec": {"selector": {"matchExpressions": [{"key": "tier", "operator": "Like"}]}}}
    with pytest.raises(ValueError, match=r"ReplicaSet ml/rs: .*unknown operator 'Like'"):
        pods_of(workload, [pod("a", labels={"tier": "x"})])
    workload["spec"]["selector"]["matchExpressions"] = [{"key": "tier", "operator": "In"}]
    with pytest.raises(ValueError, match=r"ReplicaSet ml/rs: .*operator In needs a non-empty values list"):
        pods_of(workload, [pod("a", labels={"tier": "x"})])
