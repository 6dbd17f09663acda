"""The scheduler's fit logic: kube-scheduler 1.32's exact FailedScheduling messages, filters, node choice."""

from __future__ import annotations

import pytest

from kubesim.scheduling import (
    NO_NODES_MESSAGE,
    choose_node,
    fit_reasons,
    group_by_node,
    pod_requests,
    tolerates,
)

GPU = "nvidia.com/gpu"
NO_VICTIMS_3 = " preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."


def node(name: str, *, cpu: str = "8", memory: str = "32Gi", gpu: int | None = None, pods: int = 110,
         labels: dict | None = None, taints: list | None = None, unschedulable: bool = False) -> dict:
    allocatable: dict = {"cpu": cpu, "memory": memory, "pods": str(pods)}
    if gpu is not None:
        allocatable[GPU] = str(gpu)
    spec: dict = {}
    if taints:
        spec["taints"] = taints
    if unschedulable:
        spec["unschedulable"] = True
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels or {}},
            "spec": spec, "status": {"allocatable": allocatable}}


def pod(name: str = "p", *, requests: dict | None = None, limits: dict | None = None,
        phase: str | None = None, **spec: object) -> dict:
    resources: dict = {}
    if requests:
        resources["requests"] = requests
    if limits:
        resources["limits"] = limits
    container = {"name": "main", "image": "busybox", "resources": resources}
    body: dict = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "ml"},
                  "spec": {"containers": [container], **spec}}
    if phase:
        body["status"] = {"phase": phase}
    return body


# --- the exact messages ---------------------------------------------------------------------------------


def test_gpu_shortage_on_three_nodes_is_reported_exactly_as_kube_scheduler_does() -> None:
    placement = choose_node(pod(limits={GPU: 1}), [node("a"), node("b"), node("c")], {})
    assert placement.node is None
    assert placement.message == ("0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: "
                                 "0/3 nodes are available: 3 No preemption victims found for incoming pod.")
    assert placement.reasons == {"a": ("Insufficient nvidia.com/gpu",), "b": ("Insufficient nvidia.com/gpu",),
                                 "c": ("Insufficient nvidia.com/gpu",)}


def test_gpus_in_use_by_bound_pods_count_against_the_node() -> None:
    nodes = [node("a", gpu=1), node("b", gpu=1), node("c", gpu=1)]
    bound = {name: [pod(f"{name}-trainer", limits={GPU: 1})] for name in ("a", "b", "c")}
    placement = choose_node(pod(limits={GPU: 1}), nodes, bound)
    assert placement.message == "0/3 nodes are available: 3 Insufficient nvidia.com/gpu." + NO_VICTIMS_3


def test_mixed_reasons_are_counted_sorted_and_comma_joined() -> None:
    nodes = [node("a", cpu="1", gpu=1), node("b", gpu=0), node("c")]
    placement = choose_node(pod(requests={"cpu": "2"}, limits={GPU: 1}), nodes, {})
    assert placement.message == ("0/3 nodes are available: 1 Insufficient cpu, 2 Insufficient nvidia.com/gpu."
                                 + NO_VICTIMS_3)


def test_a_node_short_of_several_resources_counts_once_for_each() -> None:
    nodes = [node("a", cpu="1"), node("b"), node("c")]
    placement = choose_node(pod(requests={"cpu": "2"}, limits={GPU: 1}), nodes, {})
    assert placement.message.startswith(
        "0/3 nodes are available: 1 Insufficient cpu, 3 Insufficient nvidia.com/gpu. preemption:")
    assert placement.reasons["a"] == ("Insufficient cpu", "Insufficient nvidia.com/gpu")


def test_reasons_sort_as_text_like_go_sort_strings_not_by_count() -> None:
    nodes = [node(f"cpu-{i}", cpu="1") for i in range(2)]
    nodes += [node(f"mem-{i}", memory="1Gi") for i in range(10)]
    placement = choose_node(pod(requests={"cpu": "2", "memory": "2Gi"}), nodes, {})
    assert placement.message == (
        "0/12 nodes are available: 10 Insufficient memory, 2 Insufficient cpu. "
        "preemption: 0/12 nodes are available: 12 No preemption victims found for incoming pod.")


def test_selector_mismatch_is_unresolvable_by_preemption() -> None:
    nodes = [node("a", labels={"pool": "cpu"}), node("b", labels={"pool": "gpu"}),
             node("c", labels={"pool": "gpu"})]
    placement = choose_node(pod(limits={GPU: 1}, nodeSelector={"pool": "gpu"}), nodes, {})
    assert placement.message == (
        "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, "
        "2 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: "
        "1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.")


def test_untolerated_taint_is_named_with_key_and_value() -> None:
    taint = {"key": "dedicated", "value": "training", "effect": "NoSchedule"}
    nodes = [node("a", gpu=4, taints=[taint]), node("b"), node("c")]
    placement = choose_node(pod(limits={GPU: 1}), nodes, {})
    assert placement.message == (
        "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: training}, "
        "2 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: "
        "1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.")


def test_only_unresolvable_reasons_make_preemption_not_helpful_on_every_node() -> None:
    nodes = [node("a", unschedulable=True), node("b", labels={"zone": "eu"}),
             node("c", taints=[{"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}])]
    placement = choose_node(pod(nodeSelector={"zone": "us"}), nodes, {})
    assert placement.message == (
        "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, "
        "1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 1 node(s) were unschedulable. "
        "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.")


def test_zero_nodes() -> None:
    placement = choose_node(pod(), [], {})
    assert placement.node is None
    assert placement.message == NO_NODES_MESSAGE == "no nodes available to schedule pods"


def test_too_many_pods() -> None:
    placement = choose_node(pod(), [node("a", pods=1)], {"a": [pod("x")]})
    assert placement.message == ("0/1 nodes are available: 1 Too many pods. preemption: 0/1 nodes are "
                                 "available: 1 No preemption victims found for incoming pod.")


def test_preemption_policy_never_says_so() -> None:
    placement = choose_node(pod(limits={GPU: 1}, preemptionPolicy="Never"), [node("a")], {})
    assert placement.message == ("0/1 nodes are available: 1 Insufficient nvidia.com/gpu. "
                                 "preemption: not eligible due to preemptionPolicy=Never.")


# --- preemption dry run ---------------------------------------------------------------------------------


def test_lower_priority_pods_that_would_free_room_make_the_node_a_preemption_candidate() -> None:
    nodes = [node("a", gpu=1), node("b", gpu=1)]
    bound = {"a": [pod("batch", limits={GPU: 1}, priority=0)],
             "b": [pod("serving", limits={GPU: 1}, priority=1000)]}
    placement = choose_node(pod(limits={GPU: 1}, priority=100), nodes, bound)
    assert placement.node is None
    assert placement.preemption_candidates == ("a",)
    # kube-scheduler's preemption succeeds, so its message has no "preemption:" part.
    assert placement.message == "0/2 nodes are available: 2 Insufficient nvidia.com/gpu."


def test_victims_that_would_not_free_enough_leave_the_filter_reason() -> None:
    nodes = [node("a", gpu=2)]
    bound = {"a": [pod("low", limits={GPU: 1}, priority=0), pod("high", limits={GPU: 1}, priority=500)]}
    placement = choose_node(pod(limits={GPU: 2}, priority=100), nodes, bound)
    assert placement.preemption_candidates == ()
    assert placement.message == ("0/1 nodes are available: 1 Insufficient nvidia.com/gpu. "
                                 "preemption: 0/1 nodes are available: 1 Insufficient nvidia.com/gpu.")


# --- filters --------------------------------------------------------------------------------------------


def test_tolerations_match_like_kubernetes() -> None:
    taint = {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}
    assert tolerates({"key": "nvidia.com/gpu", "operator": "Exists"}, taint)
    assert tolerates({"key": "nvidia.com/gpu", "value": "present"}, taint)  # operator defaults to Equal
    assert tolerates({"operator": "Exists"}, taint)  # empty key with Exists tolerates everything
    assert tolerates({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}, taint)
    assert not tolerates({"key": "nvidia.com/gpu", "value": "absent"}, taint)
    assert not tolerates({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoExecute"}, taint)
    assert not tolerates({"key": "other", "operator": "Exists"}, taint)
    assert not tolerates({"key": "nvidia.com/gpu", "operator": "Gt", "value": "present"}, taint)


def test_tolerated_and_prefer_no_schedule_taints_do_not_filter() -> None:
    gpu_node = node("a", gpu=1, taints=[{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"},
                                        {"key": "spot", "effect": "PreferNoSchedule"}])
    tolerant = pod(limits={GPU: 1}, tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists"}])
    assert choose_node(tolerant, [gpu_node], {}).node == "a"
    assert fit_reasons(pod(limits={GPU: 1}), gpu_node, []) == ("node(s) had untolerated taint "
                                                               "{nvidia.com/gpu: present}",)


def test_first_untolerated_taint_is_the_one_reported() -> None:
    taints = [{"key": "a", "value": "1", "effect": "NoSchedule"},
              {"key": "b", "value": "2", "effect": "NoExecute"}]
    tolerate_a = pod(tolerations=[{"key": "a", "operator": "Exists"}])
    assert fit_reasons(pod(), node("n", taints=taints), []) == ("node(s) had untolerated taint {a: 1}",)
    assert fit_reasons(tolerate_a, node("n", taints=taints), []) == ("node(s) had untolerated taint {b: 2}",)


def test_unschedulable_node_admits_pods_tolerating_the_unschedulable_taint() -> None:
    cordoned = node("a", unschedulable=True)
    assert fit_reasons(pod(), cordoned, []) == ("node(s) were unschedulable",)
    daemon = pod(tolerations=[{"key": "node.kubernetes.io/unschedulable", "operator": "Exists",
                               "effect": "NoSchedule"}])
    assert fit_reasons(daemon, cordoned, []) == ()


def test_required_node_affinity_terms_are_ored_and_expressions_anded() -> None:
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "gpu", "operator": "In", "values": ["a100", "h100"]},
                              {"key": "gpu-count", "operator": "Gt", "values": ["3"]}]},
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["special"]}]},
    ]}}}
    wanted = pod(affinity=affinity)
    assert fit_reasons(wanted, node("n1", labels={"gpu": "h100", "gpu-count": "8"}), []) == ()
    assert fit_reasons(wanted, node("n2", labels={"gpu": "h100", "gpu-count": "2"}), []) != ()
    assert fit_reasons(wanted, node("n3", labels={"gpu": "t4", "gpu-count": "8"}), []) != ()
    assert fit_reasons(wanted, node("n4", labels={"gpu": "h100", "gpu-count": "many"}), []) != ()
    assert fit_reasons(wanted, node("special"), []) == ()


@pytest.mark.parametrize(
    ("expression", "labels", "fits"),
    [
        ({"key": "zone", "operator": "NotIn", "values": ["eu"]}, {"zone": "us"}, True),
        ({"key": "zone", "operator": "NotIn", "values": ["eu"]}, {}, True),
        ({"key": "zone", "operator": "NotIn", "values": ["eu"]}, {"zone": "eu"}, False),
        ({"key": "zone", "operator": "Exists"}, {"zone": "eu"}, True),
        ({"key": "zone", "operator": "Exists"}, {}, False),
        ({"key": "zone", "operator": "DoesNotExist"}, {}, True),
        ({"key": "zone", "operator": "DoesNotExist"}, {"zone": ""}, False),
        ({"key": "gen", "operator": "Lt", "values": ["5"]}, {"gen": "4"}, True),
        ({"key": "gen", "operator": "Lt", "values": ["5"]}, {"gen": "5"}, False),
        ({"key": "gen", "operator": "Lt", "values": ["5"]}, {}, False),
        ({"key": "zone", "operator": "Near", "values": ["eu"]}, {"zone": "eu"}, False),
    ],
)
def test_node_selector_operators(expression: dict, labels: dict, fits: bool) -> None:
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [expression]}]}}}
    assert (fit_reasons(pod(affinity=affinity), node("n", labels=labels), []) == ()) is fits


def test_node_selector_and_affinity_must_both_match() -> None:
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "Exists"}]}]}}}
    wanted = pod(nodeSelector={"pool": "gpu"}, affinity=affinity)
    assert fit_reasons(wanted, node("n", labels={"pool": "gpu", "zone": "eu"}), []) == ()
    assert fit_reasons(wanted, node("n", labels={"pool": "gpu"}), []) == (
        "node(s) didn't match Pod's node affinity/selector",)
    assert fit_reasons(wanted, node("n", labels={"zone": "eu"}), []) == (
        "node(s) didn't match Pod's node affinity/selector",)


def test_host_port_conflicts() -> None:
    def with_port(name: str, port: int, ip: str | None = None) -> dict:
        body = pod(name)
        port_spec = {"containerPort": 80, "hostPort": port}
        if ip:
            port_spec["hostIP"] = ip
        body["spec"]["containers"][0]["ports"] = [port_spec]
        return body

    taken = [with_port("web", 8080)]
    assert fit_reasons(with_port("new", 8080), node("n"), taken) == (
        "node(s) didn't have free ports for the requested pod ports",)
    assert fit_reasons(with_port("new", 8080, "10.0.0.1"), node("n"), taken) != ()
    assert fit_reasons(with_port("new", 8081), node("n"), taken) == ()
    elsewhere = [with_port("web", 8080, "10.0.0.1")]
    assert fit_reasons(with_port("new", 8080, "10.0.0.2"), node("n"), elsewhere) == ()


# --- requests -------------------------------------------------------------------------------------------


def test_limits_stand_in_for_missing_requests_per_resource() -> None:
    body = pod(requests={"cpu": "500m"}, limits={"cpu": "2", "memory": "1Gi", GPU: 2})
    assert pod_requests(body) == {"cpu": 500, "memory": 2**30, GPU: 2}


def test_containers_add_up_and_init_containers_take_the_max() -> None:
    body = pod(requests={"cpu": "1", "memory": "1Gi"})
    body["spec"]["containers"].append({"name": "side", "resources": {"requests": {"cpu": "1"}}})
    body["spec"]["initContainers"] = [
        {"name": "download", "resources": {"requests": {"cpu": "3", "memory": "512Mi"}}},
        {"name": "migrate", "resources": {"requests": {"memory": "4Gi"}}},
    ]
    assert pod_requests(body) == {"cpu": 3000, "memory": 4 * 2**30}
    assert fit_reasons(body, node("small", cpu="2500m"), []) == ("Insufficient cpu",)


def test_sidecars_run_alongside_later_init_containers_and_the_main_containers() -> None:
    body = pod(requests={"cpu": "1"})
    body["spec"]["initContainers"] = [
        {"name": "proxy", "restartPolicy": "Always", "resources": {"requests": {"cpu": "500m"}}},
        {"name": "warmup", "resources": {"requests": {"cpu": "2"}}},
    ]
    # peak during warmup: 2 + 0.5 (proxy already running); steady state: 1 + 0.5
    assert pod_requests(body) == {"cpu": 2500}


def test_overhead_is_added() -> None:
    body = pod(requests={"cpu": "1"}, overhead={"cpu": "250m", "memory": "120Mi"})
    assert pod_requests(body) == {"cpu": 1250, "memory": 120 * 2**20}


def test_a_bad_quantity_names_the_pod_container_and_resource() -> None:
    with pytest.raises(ValueError, match=r"pod ml/p: container main: cpu: invalid quantity 'lots'"):
        pod_requests(pod(requests={"cpu": "lots"}))


# --- choosing among feasible nodes ----------------------------------------------------------------------


def test_least_allocated_node_wins() -> None:
    nodes = [node("a"), node("b"), node("c")]
    bound = {"a": [pod("x", requests={"cpu": "6", "memory": "8Gi"})],
             "b": [pod("y", requests={"cpu": "2", "memory": "4Gi"})],
             "c": [pod("z", requests={"cpu": "4", "memory": "4Gi"})]}
    placement = choose_node(pod(requests={"cpu": "1", "memory": "1Gi"}), nodes, bound)
    assert placement == type(placement)(node="b", message="")


def test_allocation_is_a_fraction_of_each_nodes_capacity() -> None:
    nodes = [node("small", cpu="4", memory="8Gi"), node("big", cpu="64", memory="256Gi")]
    bound = {"small": [], "big": [pod("x", requests={"cpu": "8", "memory": "32Gi"})]}
    assert choose_node(pod(requests={"cpu": "1", "memory": "1Gi"}), nodes, bound).node == "big"


def test_ties_go_to_the_first_name() -> None:
    nodes = [node("c"), node("a"), node("b")]
    assert choose_node(pod(requests={"cpu": "1"}), nodes, {}).node == "a"


def test_pods_without_requests_still_spread() -> None:
    nodes = [node("a"), node("b")]
    assert choose_node(pod(), nodes, {"a": [pod("x")]}).node == "b"


def test_requested_gpus_steer_gpu_pods_to_the_emptier_gpu_node() -> None:
    nodes = [node("a", gpu=8), node("b", gpu=8)]
    bound = {"a": [pod("x", limits={GPU: 2})], "b": [pod("y", limits={GPU: 6})]}
    assert choose_node(pod(limits={GPU: 1}), nodes, bound).node == "a"


def test_succeeded_and_failed_pods_free_their_resources() -> None:
    nodes = [node("a", gpu=1)]
    done = {"a": [pod("old", limits={GPU: 1}, phase="Succeeded"),
                  pod("crashed", limits={GPU: 1}, phase="Failed")]}
    assert choose_node(pod(limits={GPU: 1}), nodes, done).node == "a"
    running = {"a": [pod("old", limits={GPU: 1}, phase="Running")]}
    assert choose_node(pod(limits={GPU: 1}), nodes, running).node is None


def test_finished_pods_do_not_count_toward_the_pod_limit_or_the_score() -> None:
    nodes = [node("a", pods=1), node("b")]
    bound = {"a": [pod("done", requests={"cpu": "7"}, phase="Succeeded")],
             "b": [pod("busy", requests={"cpu": "1"})]}
    assert choose_node(pod(requests={"cpu": "1"}), nodes, bound).node == "a"


def test_an_already_bound_pod_stays_where_it_is() -> None:
    placement = choose_node(pod(nodeName="b", limits={GPU: 1}), [node("a"), node("b")], {})
    assert placement.node == "b"


def test_group_by_node_keeps_only_bound_pods() -> None:
    pods = [pod("x", nodeName="a"), pod("y"), pod("z", nodeName="a"), pod("w", nodeName="b")]
    grouped = group_by_node(pods)
    assert {name: [p["metadata"]["name"] for p in members] for name, members in grouped.items()} == {
        "a": ["x", "z"], "b": ["w"]}
