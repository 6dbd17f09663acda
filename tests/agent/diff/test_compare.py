"""Only declared fields are compared; keyed lists line up by key; atomic lists, maps and sets as documented."""

from __future__ import annotations

import pytest

from agent.diff import diff_object
from tests.agent.diff.objects import containers, desired_deployment, in_sync_live, sidecar


def pod_spec(obj: dict) -> dict:
    return obj["spec"]["template"]["spec"]


def paths(desired: dict, live: dict | None) -> list[str]:
    return [f.path for f in diff_object(desired, live).fields]


def test_server_defaults_status_and_metadata_are_not_compared() -> None:
    desired = desired_deployment()
    live = in_sync_live()
    live["status"] = {"replicas": 1, "conditions": [{"type": "Available", "status": "False"}]}
    # a manifest exported from a cluster carries server fields and status: none of it is compared
    desired["status"] = {"replicas": 3}
    desired["metadata"].update(uid="other", resourceVersion="1", generation=9, creationTimestamp=None,
                               managedFields=[{"manager": "someone"}])
    desired["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = '{"spec": {}}'
    desired["spec"]["template"]["metadata"]["creationTimestamp"] = None
    assert diff_object(desired, live).in_sync


def test_a_declared_field_differs() -> None:
    live = in_sync_live()
    live["spec"]["replicas"] = 5
    live["metadata"]["labels"]["app"] = "other"
    result = diff_object(desired_deployment(), live)
    assert [(f.path, f.pointer, f.desired, f.live) for f in result.fields] == [
        ("/metadata/labels/app", "/metadata/labels/app", "inference", "other"),
        ("/spec/replicas", "/spec/replicas", 3, 5),
    ]
    assert not result.in_sync


def test_a_declared_field_the_live_object_lacks() -> None:
    live = in_sync_live()
    del live["metadata"]["annotations"]["fleetline.io/tracking-id"]
    [field] = diff_object(desired_deployment(), live).fields
    assert field.path == "/metadata/annotations/fleetline.io~1tracking-id"
    assert field.pointer == "/metadata/annotations/fleetline.io~1tracking-id"
    assert (field.desired, field.live) == ("serving:apps/Deployment:ml/inference", None)


def test_empty_maps_lists_and_zero_values_equal_absent() -> None:
    desired = desired_deployment()
    desired["metadata"]["annotations"] = {}
    desired["spec"]["paused"] = False
    spec = pod_spec(desired)
    spec.update(hostNetwork=False, imagePullSecrets=[], initContainers=[], priority=0, hostname="")
    containers(desired)[0].update(command=[], envFrom=[], securityContext={})
    live = in_sync_live()
    del live["metadata"]["annotations"]
    del live["spec"]["template"]["spec"]["securityContext"]
    live["spec"]["template"]["spec"]["hostname"] = None
    assert diff_object(desired, live).in_sync


def test_an_empty_atomic_list_against_a_filled_one_is_drift() -> None:
    desired = desired_deployment()
    containers(desired)[0]["command"] = []
    live = in_sync_live()
    containers(live)[0]["command"] = ["python", "serve.py"]
    [field] = diff_object(desired, live).fields
    assert (field.path, field.desired, field.live) == (
        '/spec/template/spec/containers[name="server"]/command', [], ["python", "serve.py"])


def test_an_injected_sidecar_is_not_drift() -> None:
    live = in_sync_live()
    containers(live).insert(0, sidecar())  # injected before ours: our container is now at index 1
    live["spec"]["template"]["metadata"]["annotations"] = {"sidecar.fleetline.io/injected": "true"}
    assert diff_object(desired_deployment(), live).in_sync

    containers(live)[1]["image"] = "registry.example.com/inference:0.9"
    [field] = diff_object(desired_deployment(), live).fields
    assert field.path == '/spec/template/spec/containers[name="server"]/image'
    assert field.pointer == "/spec/template/spec/containers/1/image"  # the live index, usable in a patch


def test_reordered_keyed_lists_are_in_sync() -> None:
    desired = desired_deployment()
    second = {"name": "exporter", "image": "registry.example.com/exporter:2", "ports": [
        {"containerPort": 9090, "protocol": "TCP"}, {"containerPort": 9090, "protocol": "UDP"}]}
    containers(desired).append(second)
    pod_spec(desired)["volumes"].append({"name": "cache", "emptyDir": {"medium": "Memory"}})
    live = in_sync_live()
    live_second = {**second, "ports": list(reversed(second["ports"])), "imagePullPolicy": "IfNotPresent"}
    containers(live).insert(0, live_second)
    containers(live)[1]["env"].reverse()
    pod_spec(live)["volumes"].insert(0, {"name": "cache", "emptyDir": {"medium": "Memory"}})
    assert diff_object(desired, live).in_sync


def test_ports_are_keyed_by_port_and_defaulted_protocol() -> None:
    desired = desired_deployment()
    live = in_sync_live()
    containers(live)[0]["ports"][0]["protocol"] = "UDP"  # a different item: the TCP port is gone
    [field] = diff_object(desired, live).fields
    assert field.path == '/spec/template/spec/containers[name="server"]/ports[containerPort=8080,protocol="TCP"]'
    assert field.pointer == "/spec/template/spec/containers/0/ports/-"
    assert (field.desired, field.live) == ({"containerPort": 8080, "name": "http"}, None)


def test_a_declared_container_missing_from_live_is_one_difference() -> None:
    desired = desired_deployment()
    worker = {"name": "worker", "image": "registry.example.com/worker:1"}
    containers(desired).append(worker)
    [field] = diff_object(desired, in_sync_live()).fields
    assert field.path == '/spec/template/spec/containers[name="worker"]'
    assert field.pointer == "/spec/template/spec/containers/-"
    assert (field.desired, field.live) == (worker, None)


def test_atomic_lists_compare_whole_and_in_order() -> None:
    desired = desired_deployment()
    live = in_sync_live()
    containers(live)[0]["args"].reverse()
    toleration = {"key": "spot", "operator": "Exists"}
    pod_spec(live)["tolerations"].append(toleration)
    result = diff_object(desired, live)
    assert [(f.path, f.live) for f in result.fields] == [
        ('/spec/template/spec/containers[name="server"]/args', ["--model=/models/llm", "--port=8080"]),
        ("/spec/template/spec/tolerations", [*pod_spec(desired)["tolerations"], toleration]),
    ]


def test_atomic_list_items_tolerate_keys_only_live_has() -> None:
    desired = desired_deployment()
    live = in_sync_live()
    pod_spec(live)["tolerations"][0]["tolerationSeconds"] = None
    pod_spec(live)["tolerations"][0]["value"] = ""
    assert diff_object(desired, live).in_sync


def test_an_atomic_map_with_an_extra_key_is_drift() -> None:
    live = in_sync_live()
    pod_spec(live)["nodeSelector"]["zone"] = "us-east-1a"
    [field] = diff_object(desired_deployment(), live).fields
    assert field.path == "/spec/template/spec/nodeSelector"
    assert field.live == {"accelerator": "a100", "zone": "us-east-1a"}


def test_an_atomic_struct_is_one_difference() -> None:
    live = in_sync_live()
    live["spec"]["selector"]["matchLabels"]["tier"] = "gpu"
    result = diff_object(desired_deployment(), live)
    assert [f.path for f in result.fields] == []  # declared keys match: the extra label is not declared
    live["spec"]["selector"]["matchLabels"]["app"] = "other"
    assert [f.path for f in diff_object(desired_deployment(), live).fields] == ["/spec/selector"]


def test_sets_need_each_declared_value_only() -> None:
    desired = desired_deployment()
    desired["metadata"]["finalizers"] = ["example.com/cleanup"]
    live = in_sync_live()
    live["metadata"]["finalizers"] = ["kubernetes.io/other", "example.com/cleanup"]
    assert diff_object(desired, live).in_sync
    live["metadata"]["finalizers"] = ["kubernetes.io/other"]
    [field] = diff_object(desired, live).fields
    assert field.path == '/metadata/finalizers[="example.com/cleanup"]'
    assert field.pointer == "/metadata/finalizers/-"


def test_a_value_of_another_type_is_drift() -> None:
    live = in_sync_live()
    pod_spec(live)["volumes"][0]["emptyDir"] = "not a map"
    containers(live)[0]["args"] = "--port=8080"
    assert paths(desired_deployment(), live) == [
        '/spec/template/spec/containers[name="server"]/args',
        '/spec/template/spec/volumes[name="models"]/emptyDir',
    ]


def test_custom_resources_maps_are_granular_lists_atomic() -> None:
    desired = {"apiVersion": "serving.example.com/v1", "kind": "ModelServer",
               "metadata": {"name": "llm", "namespace": "ml"},
               "spec": {"model": {"name": "llm", "version": 3}, "gpus": [{"type": "a100", "count": 2}]}}
    live = {"apiVersion": "serving.example.com/v1", "kind": "ModelServer",
            "metadata": {"name": "llm", "namespace": "ml", "generation": 4},
            "spec": {"model": {"name": "llm", "version": 3, "cache": "defaulted"},
                     "gpus": [{"type": "a100", "count": 2, "shared": False}]},
            "status": {"ready": False}}
    assert diff_object(desired, live).in_sync
    live["spec"]["gpus"].append({"type": "h100", "count": 1})
    assert paths(desired, live) == ["/spec/gpus"]


def test_a_missing_object() -> None:
    desired = desired_deployment()
    result = diff_object(desired, None)
    assert result.missing and not result.in_sync
    [field] = result.fields
    assert (field.path, field.pointer, field.desired, field.live) == ("", "", desired, None)
    assert result.to_dict()["missing"] is True


def test_to_dict_is_json_ready() -> None:
    live = in_sync_live()
    live["spec"]["replicas"] = 1
    assert diff_object(desired_deployment(), live).to_dict() == {
        "inSync": False, "missing": False, "ignored": [],
        "fields": [{"path": "/spec/replicas", "pointer": "/spec/replicas", "desired": 3, "live": 1,
                    "manager": "fleetline"}],
    }


@pytest.mark.parametrize(("change", "message"), [
    (lambda live: live.update(kind="StatefulSet"), "StatefulSet ml/inference"),
    (lambda live: live["metadata"].update(name="other"), "Deployment ml/other"),
    (lambda live: live["metadata"].update(namespace="prod"), "Deployment prod/inference"),
])
def test_diffing_two_different_objects_is_refused(change, message: str) -> None:
    live = in_sync_live()
    change(live)
    with pytest.raises(ValueError, match=f"cannot diff apps/Deployment ml/inference against apps/{message}"):
        diff_object(desired_deployment(), live)


def test_a_desired_object_without_a_name_is_refused() -> None:
    with pytest.raises(ValueError, match="needs apiVersion, kind and metadata.name"):
        diff_object({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}, None)
