"""kubesim's write-time validation, unknown fields and defaults, held against the official client's models."""

from __future__ import annotations

import copy
import time

import pytest
from kubernetes.client import models
from pydantic import ValidationError

from kubesim import clientmodels
from kubesim.defaults import apply_defaults, image_pull_policy, quantity
from kubesim.errors import invalid
from kubesim.resources import BUILTIN_TYPES, ResourceType
from kubesim.validation import model_for, unknown_fields, validate

RT = {rt.kind: rt for rt in BUILTIN_TYPES}
WIDGET = ResourceType("example.com", "v1", "Widget", "widgets", True, builtin=False)

WEB = {"name": "web", "image": "nginx:1.25", "ports": [{"containerPort": 80}],
       "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}},
       "env": [{"name": "MODE", "value": "prod"}],
       "volumeMounts": [{"name": "cache", "mountPath": "/cache"}]}
POD_SPEC = {"containers": [WEB], "volumes": [{"name": "cache", "emptyDir": {}}]}
TEMPLATE = {"metadata": {"labels": {"app": "web"}}, "spec": POD_SPEC}
SELECTOR = {"matchLabels": {"app": "web"}}
JOB_TEMPLATE = {"metadata": {"labels": {"job": "train"}},
                "spec": {"restartPolicy": "Never", "containers": [{"name": "train", "image": "trainer:2"}]}}
SCHEMA = {"type": "object", "properties": {"spec": {
    "type": "object", "x-kubernetes-preserve-unknown-fields": True,
    "properties": {"size": {"type": "integer", "minimum": 1}}}}}


def meta(name: str, **extra) -> dict:
    return {"name": name, **extra}


# One valid object of every built-in kind, as a user (or a controller, for Node, Endpoints, Event) writes it.
VALID = {
    "Namespace": {"metadata": meta("ml-prod", labels={"team": "ml"})},
    "Node": {"metadata": meta("node-1.us-east"),
             "status": {"capacity": {"cpu": "8", "memory": "32Gi", "pods": "110"},
                        "conditions": [{"type": "Ready", "status": "True"}]}},
    "Pod": {"metadata": meta("web-0", namespace="default", labels={"app": "web"}), "spec": POD_SPEC},
    "Service": {"metadata": meta("web", namespace="default"),
                "spec": {"selector": {"app": "web"},
                         "ports": [{"name": "http", "port": 80, "targetPort": 8080},
                                   {"name": "grpc", "port": 9090}]}},
    "Endpoints": {"metadata": meta("web", namespace="default"),
                  "subsets": [{"addresses": [{"ip": "10.0.0.5"}], "ports": [{"port": 8080}]}]},
    "ConfigMap": {"metadata": meta("settings", namespace="default"),
                  "data": {"app.yaml": "replicas: 2\n", "LOG_LEVEL": "info"}},
    "Secret": {"metadata": meta("creds", namespace="default"), "type": "Opaque",
               "data": {"password": "aHVudGVyMg=="}},
    "ServiceAccount": {"metadata": meta("inference", namespace="default")},
    "PersistentVolumeClaim": {"metadata": meta("models", namespace="default"),
                              "spec": {"accessModes": ["ReadWriteOnce"],
                                       "resources": {"requests": {"storage": "10Gi"}}}},
    "Event": {"metadata": meta("web-0.17a8b", namespace="default"), "reason": "Scheduled",
              "message": "assigned", "type": "Normal",
              "involvedObject": {"kind": "Pod", "name": "web-0", "namespace": "default"}},
    "Deployment": {"metadata": meta("web", namespace="default", labels={"app": "web"}),
                   "spec": {"replicas": 2, "selector": SELECTOR, "template": TEMPLATE}},
    "ReplicaSet": {"metadata": meta("web-5d9f", namespace="default"),
                   "spec": {"replicas": 2, "selector": SELECTOR, "template": TEMPLATE}},
    "StatefulSet": {"metadata": meta("registry", namespace="default"), "spec": {
        "serviceName": "registry", "selector": SELECTOR,
        "template": {"metadata": TEMPLATE["metadata"], "spec": {"containers": [
            {"name": "db", "image": "registry:2",
             "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]}},
        "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
            "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}},
    "DaemonSet": {"metadata": meta("node-exporter", namespace="default"),
                  "spec": {"selector": SELECTOR, "template": TEMPLATE}},
    "Job": {"metadata": meta("train", namespace="default"), "spec": {"template": JOB_TEMPLATE}},
    "CronJob": {"metadata": meta("nightly", namespace="default"),
                "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": JOB_TEMPLATE}}}},
    "HorizontalPodAutoscaler": {"metadata": meta("web", namespace="default"),
                                "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                                            "name": "web"},
                                         "minReplicas": 2, "maxReplicas": 10}},
    "Ingress": {"metadata": meta("web", namespace="default"),
                "spec": {"rules": [{"host": "web.example.com", "http": {"paths": [
                    {"path": "/", "pathType": "Prefix",
                     "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}},
    "NetworkPolicy": {"metadata": meta("deny-all", namespace="default"),
                      "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}},
    "Role": {"metadata": meta("reader", namespace="default"),
             "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]},
    "ClusterRole": {"metadata": meta("system:fleetline-reader"),
                    "rules": [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get"]}]},
    "RoleBinding": {"metadata": meta("reader", namespace="default"),
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
                    "subjects": [{"kind": "ServiceAccount", "name": "inference", "namespace": "default"}]},
    "ClusterRoleBinding": {"metadata": meta("fleetline:reader"),
                           "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                       "name": "system:fleetline-reader"},
                           "subjects": [{"kind": "User", "name": "alice",
                                         "apiGroup": "rbac.authorization.k8s.io"}]},
    "PodDisruptionBudget": {"metadata": meta("web", namespace="default"),
                            "spec": {"minAvailable": 1, "selector": SELECTOR}},
    "CustomResourceDefinition": {
        "metadata": meta("widgets.example.com"),
        "spec": {"group": "example.com", "scope": "Namespaced",
                 "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
                 "versions": [
                     {"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": SCHEMA}},
                     {"name": "v1beta1", "served": True, "storage": False,
                      "schema": {"openAPIV3Schema": SCHEMA}}]}},
}


def valid(kind: str) -> dict:
    rt = RT[kind]
    return {"apiVersion": rt.api_version, "kind": kind, **copy.deepcopy(VALID[kind])}


def fields(causes) -> dict[str, str]:
    return {c.field: c.reason for c in causes}


def by_field(causes, field: str):
    found = [c for c in causes if c.field == field]
    assert found, f"no cause for {field}: {causes}"
    return found[0]


# ---------------------------------------------------------------- every kind


def test_every_builtin_kind_has_a_model_and_a_valid_example():
    assert set(VALID) == {rt.kind for rt in BUILTIN_TYPES}
    for rt in BUILTIN_TYPES:
        assert model_for(rt) is not None, rt.kind
    assert model_for(RT["Event"]) is models.CoreV1Event
    assert model_for(RT["HorizontalPodAutoscaler"]) is models.V2HorizontalPodAutoscaler
    assert model_for(WIDGET) is None


@pytest.mark.parametrize("kind", sorted(VALID))
def test_valid_object_of_every_kind_validates_clean_before_and_after_defaults(kind):
    rt = RT[kind]
    obj = valid(kind)
    assert validate(rt, obj) == []
    assert unknown_fields(rt, obj) == []
    apply_defaults(rt, obj)
    assert validate(rt, obj) == []
    assert unknown_fields(rt, obj) == [], "a default must be a field the client knows"
    # what we accept, the strict client reads back
    assert model_for(rt).from_dict(obj) is not None


@pytest.mark.parametrize("kind", sorted(VALID))
def test_defaults_are_idempotent(kind):
    rt = RT[kind]
    once = valid(kind)
    apply_defaults(rt, once)
    twice = copy.deepcopy(once)
    apply_defaults(rt, twice)
    assert twice == once


def _paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


def _replaced(obj, path, value):
    out = copy.deepcopy(obj)
    parent = out
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return out


@pytest.mark.parametrize("kind", sorted(VALID))
def test_bad_shapes_anywhere_give_causes_not_crashes(kind):
    """Any node of a valid object replaced by a value of another JSON type: defaults, unknown_fields and
    validate all run; when the client could not read the result, validate says why."""
    rt, good = RT[kind], valid(kind)
    cls = model_for(rt)
    for path in list(_paths(good))[1:]:
        for value in (None, 7, "x", [], {}, True, [{"a": 1}]):
            obj = _replaced(good, path, value)
            unknown_fields(rt, obj)
            apply_defaults(rt, obj)
            causes = validate(rt, obj)
            try:
                cls.from_dict(obj)
            except (ValidationError, TypeError, AttributeError):  # from_dict also fails outside pydantic
                assert causes, (path, value)


# ---------------------------------------------------------------- the client's model


def test_deployment_without_selector_is_required():
    obj = valid("Deployment")
    del obj["spec"]["selector"]
    causes = validate(RT["Deployment"], obj)
    cause = by_field(causes, "spec.selector")
    assert (cause.reason, cause.message) == ("FieldValueRequired", "Required value")
    assert len([c for c in causes if c.field == "spec.selector"]) == 1  # the model and the rule say it once
    with pytest.raises(ValidationError):  # and indeed the client could not read it
        models.V1Deployment.from_dict(obj)


def test_deployment_without_spec_names_its_required_fields():
    obj = valid("Deployment")
    del obj["spec"]
    assert fields(validate(RT["Deployment"], obj))["spec"] == "FieldValueRequired"
    apply_defaults(RT["Deployment"], obj)  # defaulting creates the spec; what is missing is then named
    got = fields(validate(RT["Deployment"], obj))
    assert got["spec.selector"] == got["spec.template"] == "FieldValueRequired"


def test_wrong_types_give_camelcase_paths():
    obj = valid("Deployment")
    obj["spec"]["replicas"] = "three"
    obj["spec"]["progressDeadlineSeconds"] = True
    ctr = obj["spec"]["template"]["spec"]["containers"][0]
    ctr["ports"][0]["containerPort"] = "http"
    ctr["livenessProbe"] = {"exec": {"command": "ls"}, "initialDelaySeconds": 1.5}
    obj["spec"]["strategy"] = {"rollingUpdate": {"maxSurge": 1.5}}
    causes = validate(RT["Deployment"], obj)
    assert by_field(causes, "spec.replicas").message == 'Invalid value: "three": must be an integer'
    assert by_field(causes, "spec.replicas").reason == "FieldValueInvalid"
    assert by_field(causes, "spec.progressDeadlineSeconds").message == \
        "Invalid value: true: must be an integer"
    base = "spec.template.spec.containers[0]"
    assert by_field(causes, f"{base}.ports[0].containerPort").message == \
        'Invalid value: "http": must be an integer'
    assert by_field(causes, f"{base}.livenessProbe.exec.command").message == \
        'Invalid value: "ls": must be a list'
    assert by_field(causes, f"{base}.livenessProbe.initialDelaySeconds").reason == "FieldValueInvalid"
    surge = by_field(causes, "spec.strategy.rollingUpdate.maxSurge")
    assert surge.message == "Invalid value: 1.5: must be an integer or a string"
    with pytest.raises(ValidationError):
        models.V1Deployment.from_dict(obj)


def test_configmap_data_value_must_be_a_string():
    obj = valid("ConfigMap")
    obj["data"]["replicas"] = 3
    obj["binaryData"] = {"blob": 7}
    causes = validate(RT["ConfigMap"], obj)
    assert by_field(causes, "data[replicas]").message == "Invalid value: 3: must be a string"
    assert by_field(causes, "binaryData[blob]").reason == "FieldValueInvalid"
    with pytest.raises(ValidationError):
        models.V1ConfigMap.from_dict(obj)


def test_metadata_types_the_client_is_strict_about():
    obj = valid("ConfigMap")
    obj["metadata"].update(resourceVersion=5, generation="1", creationTimestamp="yesterday",
                           labels={"tier": 1}, annotations={"note": False})
    got = fields(validate(RT["ConfigMap"], obj))
    for path in ("metadata.resourceVersion", "metadata.generation", "metadata.creationTimestamp",
                 "metadata.labels[tier]", "metadata.annotations[note]"):
        assert got[path] == "FieldValueInvalid", path


def test_custom_resources_get_metadata_checks_only():
    obj = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1", "labels": {"a": 1}},
           "spec": {"anything": [1, {"goes": True}]}}
    assert fields(validate(WIDGET, obj)) == {"metadata.labels[a]": "FieldValueInvalid"}
    obj["metadata"]["labels"] = {"a": "1"}
    assert validate(WIDGET, obj) == []
    obj["metadata"]["name"] = "Bad_Name"
    assert fields(validate(WIDGET, obj)) == {"metadata.name": "FieldValueInvalid"}


def test_secret_values_never_appear_in_causes():
    obj = valid("Secret")
    obj["data"] = {"token": "not base64!!", "pin": 1234}
    causes = validate(RT["Secret"], obj)
    assert fields(causes) == {"data[token]": "FieldValueInvalid", "data[pin]": "FieldValueInvalid"}
    text = " ".join(c.message for c in causes)
    assert "not base64" not in text and "1234" not in text
    assert "<secret contents redacted>" in text


def test_model_layer_agrees_with_from_dict():
    """What the model layer of validate() rejects, the client's from_dict cannot read either."""
    mutations = [
        ("Pod", lambda o: o["spec"]["containers"][0].update(env=[{"value": "x"}])),  # env name required
        ("Service", lambda o: o["spec"]["ports"][0].update(targetPort=[80])),
        ("HorizontalPodAutoscaler", lambda o: o["spec"].pop("scaleTargetRef")),
        ("RoleBinding", lambda o: o.pop("roleRef")),
        ("Ingress", lambda o: o["spec"]["rules"][0]["http"]["paths"][0].pop("pathType")),
        ("CustomResourceDefinition", lambda o: o["spec"]["versions"][0].update(served="yes")),
        ("Node", lambda o: o["status"]["conditions"][0].pop("status")),
        ("Event", lambda o: o.update(count="2")),
    ]
    for kind, mutate in mutations:
        obj = valid(kind)
        mutate(obj)
        assert validate(RT[kind], obj), kind
        with pytest.raises(ValidationError):
            model_for(RT[kind]).from_dict(obj)


# ---------------------------------------------------------------- names and labels


SUBDOMAIN_MSG = (
    r"""Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric """
    r"""characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', """
    r"""regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')""")


def test_names():
    obj = valid("Deployment")
    obj["metadata"]["name"] = "Bad_Name"
    cause = by_field(validate(RT["Deployment"], obj), "metadata.name")
    assert (cause.reason, cause.message) == ("FieldValueInvalid", SUBDOMAIN_MSG)
    assert invalid(RT["Deployment"], "Bad_Name", [cause]).message == \
        f'Deployment.apps "Bad_Name" is invalid: metadata.name: {SUBDOMAIN_MSG}'

    del obj["metadata"]["name"]
    cause = by_field(validate(RT["Deployment"], obj), "metadata.name")
    assert cause.reason == "FieldValueRequired"
    obj["metadata"]["generateName"] = "web-"
    assert validate(RT["Deployment"], obj) == []
    obj["metadata"]["generateName"] = "Web-"
    assert fields(validate(RT["Deployment"], obj)) == {"metadata.generateName": "FieldValueInvalid"}

    ns = valid("Namespace")
    ns["metadata"]["name"] = "ml.prod"  # a subdomain, not a label
    assert "RFC 1123 label" in by_field(validate(RT["Namespace"], ns), "metadata.name").message
    svc = valid("Service")
    svc["metadata"]["name"] = "1web"  # a DNS-1123 label but not a DNS-1035 one
    assert "DNS-1035 label" in by_field(validate(RT["Service"], svc), "metadata.name").message
    cm = valid("ConfigMap")
    cm["metadata"]["name"] = "x" * 254
    assert "no more than 253 characters" in by_field(validate(RT["ConfigMap"], cm), "metadata.name").message
    role = valid("Role")
    role["metadata"]["name"] = "a/b"
    assert "may not contain '/'" in by_field(validate(RT["Role"], role), "metadata.name").message


def test_label_and_annotation_syntax():
    obj = valid("ConfigMap")
    obj["metadata"]["labels"] = {"ok": "fine", "bad key": "v", "k": "has space", "x/y/z": "v"}
    obj["metadata"]["annotations"] = {"example.com/": "v"}
    causes = validate(RT["ConfigMap"], obj)
    labels = [c.message for c in causes if c.field == "metadata.labels"]
    assert len(labels) == 3
    assert any(m.startswith('Invalid value: "has space": a valid label must be an empty') for m in labels)
    assert by_field(causes, "metadata.annotations").message.endswith("name part must be non-empty")


# ---------------------------------------------------------------- Kubernetes rules beyond the model


def test_selector_must_match_template_labels():
    obj = valid("Deployment")
    obj["spec"]["template"]["metadata"]["labels"] = {"app": "api"}
    cause = by_field(validate(RT["Deployment"], obj), "spec.template.metadata.labels")
    assert cause.message == 'Invalid value: {"app":"api"}: `selector` does not match template `labels`'
    obj["spec"]["selector"] = {"matchExpressions": [{"key": "app", "operator": "In",
                                                     "values": ["api", "web"]}]}
    assert validate(RT["Deployment"], obj) == []
    obj["spec"]["selector"] = {}
    assert "empty selector is invalid" in by_field(validate(RT["Deployment"], obj), "spec.selector").message


def test_containers_need_a_name_and_an_image_and_pods_a_container():
    pod = valid("Pod")
    pod["spec"]["containers"].append({"name": "sidecar"})
    pod["spec"]["containers"].append({"image": "busybox", "name": "web"})
    got = fields(validate(RT["Pod"], pod))
    assert got["spec.containers[1].image"] == "FieldValueRequired"
    assert got["spec.containers[2].name"] == "FieldValueDuplicate"
    pod["spec"]["containers"] = []
    assert fields(validate(RT["Pod"], pod))["spec.containers"] == "FieldValueRequired"
    sts = valid("StatefulSet")
    del sts["spec"]["template"]["spec"]["containers"][0]["image"]
    mounts = sts["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    mounts.append({"name": "nope", "mountPath": "/x"})
    got = fields(validate(RT["StatefulSet"], sts))
    assert got == {"spec.template.spec.containers[0].image": "FieldValueRequired",
                   "spec.template.spec.containers[0].volumeMounts[1].name": "FieldValueNotFound"}


def test_restart_policy_per_owner():
    job = valid("Job")
    del job["spec"]["template"]["spec"]["restartPolicy"]
    apply_defaults(RT["Job"], job)  # the pod default (Always) is not a Job's
    cause = by_field(validate(RT["Job"], job), "spec.template.spec.restartPolicy")
    assert cause.message == 'Unsupported value: "Always": supported values: "OnFailure", "Never"'
    dep = valid("Deployment")
    dep["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    assert fields(validate(RT["Deployment"], dep)) == \
        {"spec.template.spec.restartPolicy": "FieldValueNotSupported"}


def test_service_and_quantity_rules():
    svc = valid("Service")
    svc["spec"]["ports"][1]["name"] = "http"
    svc["spec"]["ports"][0]["port"] = 70000
    got = fields(validate(RT["Service"], svc))
    assert got == {"spec.ports[1].name": "FieldValueDuplicate", "spec.ports[0].port": "FieldValueInvalid"}
    svc["spec"]["ports"] = []
    assert fields(validate(RT["Service"], svc)) == {"spec.ports": "FieldValueRequired"}
    svc["spec"]["clusterIP"] = "None"  # headless services may have no ports
    assert validate(RT["Service"], svc) == []
    pod = valid("Pod")
    pod["spec"]["containers"][0]["resources"]["limits"]["memory"] = "1 GB"
    assert "quantities must match" in by_field(
        validate(RT["Pod"], pod), "spec.containers[0].resources.limits[memory]").message


def test_crd_rules():
    crd = valid("CustomResourceDefinition")
    crd["metadata"]["name"] = "gadgets.example.com"
    crd["spec"]["scope"] = "Global"
    crd["spec"]["versions"][1]["storage"] = True
    causes = validate(RT["CustomResourceDefinition"], crd)
    assert by_field(causes, "metadata.name").message == \
        'Invalid value: "gadgets.example.com": must be spec.names.plural+"."+spec.group'
    assert by_field(causes, "spec.scope").message == \
        'Unsupported value: "Global": supported values: "Cluster", "Namespaced"'
    assert by_field(causes, "spec.versions").message.endswith(
        "must have exactly one version marked as storage version")
    crd = valid("CustomResourceDefinition")
    crd["spec"]["group"] = "example"
    crd["metadata"]["name"] = "widgets.example"
    del crd["spec"]["versions"][0]["schema"]
    got = fields(validate(RT["CustomResourceDefinition"], crd))
    assert got == {"spec.group": "FieldValueInvalid",
                   "spec.versions[0].schema.openAPIV3Schema": "FieldValueRequired"}


# ---------------------------------------------------------------- unknown fields


def test_unknown_fields_finds_nested_typos():
    obj = valid("Deployment")
    obj["spec"]["foo"] = 1
    obj["spec"]["template"]["spec"]["containers"][0]["imagee"] = "nginx"
    obj["spec"]["template"]["spec"]["containers"][0]["ports"][0]["contianerPort"] = 80
    obj["metadata"]["lables"] = {}
    obj["spec"]["min_ready_seconds"] = 5  # the client's python name is not a JSON field
    assert validate(RT["Deployment"], obj) == []  # unknown fields are for fieldValidation, not a 422
    assert sorted(unknown_fields(RT["Deployment"], obj)) == sorted([
        "metadata.lables", "spec.foo", "spec.min_ready_seconds",
        "spec.template.spec.containers[0].imagee", "spec.template.spec.containers[0].ports[0].contianerPort"])


def test_unknown_fields_ignores_map_keys_and_free_form_values():
    cm = valid("ConfigMap")
    cm["metadata"]["labels"] = {"anything.example.com/goes": "yes"}
    cm["metadata"]["annotations"] = {"kubectl.kubernetes.io/last-applied-configuration": "{}"}
    cm["data"]["whatever-key"] = "v"
    cm["metadata"]["managedFields"] = [{"manager": "kubectl", "operation": "Apply", "fieldsType": "FieldsV1",
                                        "fieldsV1": {"f:data": {"f:whatever-key": {}}}}]
    assert unknown_fields(RT["ConfigMap"], cm) == []
    crd = valid("CustomResourceDefinition")
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["x-custom"] = {"a": 1}
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["examples"] = [1]
    assert unknown_fields(RT["CustomResourceDefinition"], crd) == []
    crd["spec"]["versions"][0]["servedd"] = True
    assert unknown_fields(RT["CustomResourceDefinition"], crd) == ["spec.versions[0].servedd"]
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"x": 1}}
    assert unknown_fields(WIDGET, widget) == []


def test_unknown_fields_walks_maps_of_objects():
    counters = {"name": "gpus", "counters": {"memory": {"value": "80Gi", "valeu": "1"}}}
    assert clientmodels.unknown(models.V1CounterSet, counters) == ["counters[memory].valeu"]


def test_unknown_fields_prune_removes_them():
    obj = valid("Pod")
    obj["spec"]["containers"][0]["imagee"] = "x"
    obj["bogus"] = True
    assert unknown_fields(RT["Pod"], obj, prune=True) == ["spec.containers[0].imagee", "bogus"]
    assert "bogus" not in obj and "imagee" not in obj["spec"]["containers"][0]
    assert unknown_fields(RT["Pod"], obj) == []


# ---------------------------------------------------------------- defaults


def test_workload_defaults():
    dep = valid("Deployment")
    del dep["spec"]["replicas"]
    apply_defaults(RT["Deployment"], dep)
    spec = dep["spec"]
    assert (spec["replicas"], spec["revisionHistoryLimit"], spec["progressDeadlineSeconds"]) == (1, 10, 600)
    assert spec["strategy"] == {"type": "RollingUpdate",
                                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}
    pod = spec["template"]["spec"]
    assert (pod["restartPolicy"], pod["dnsPolicy"], pod["schedulerName"]) == \
        ("Always", "ClusterFirst", "default-scheduler")
    assert (pod["terminationGracePeriodSeconds"], pod["securityContext"]) == (30, {})
    ctr = pod["containers"][0]
    assert (ctr["imagePullPolicy"], ctr["terminationMessagePath"], ctr["terminationMessagePolicy"],
            ctr["ports"][0]["protocol"]) == ("IfNotPresent", "/dev/termination-log", "File", "TCP")

    mine = valid("Deployment")
    mine["spec"]["strategy"] = {"rollingUpdate": {"maxSurge": 1}}
    apply_defaults(RT["Deployment"], mine)
    assert mine["spec"]["strategy"] == {"type": "RollingUpdate",
                                        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"}}

    recreate = valid("Deployment")
    recreate["spec"]["strategy"] = {"type": "Recreate"}
    apply_defaults(RT["Deployment"], recreate)
    assert recreate["spec"]["strategy"] == {"type": "Recreate"}

    sts = valid("StatefulSet")
    apply_defaults(RT["StatefulSet"], sts)
    s = sts["spec"]
    assert (s["replicas"], s["podManagementPolicy"], s["revisionHistoryLimit"]) == (1, "OrderedReady", 10)
    assert sts["spec"]["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}
    ds = valid("DaemonSet")
    apply_defaults(RT["DaemonSet"], ds)
    assert ds["spec"]["updateStrategy"] == {"type": "RollingUpdate",
                                            "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}
    assert ds["spec"]["revisionHistoryLimit"] == 10
    rs = valid("ReplicaSet")
    del rs["spec"]["replicas"]
    apply_defaults(RT["ReplicaSet"], rs)
    assert rs["spec"]["replicas"] == 1


def test_job_and_cronjob_defaults():
    job = valid("Job")
    apply_defaults(RT["Job"], job)
    s = job["spec"]
    assert (s["backoffLimit"], s["completions"], s["parallelism"], s["completionMode"], s["suspend"]) == \
        (6, 1, 1, "NonIndexed", False)
    assert s["template"]["spec"]["restartPolicy"] == "Never"  # kept
    work_queue = valid("Job")
    work_queue["spec"]["parallelism"] = 4
    apply_defaults(RT["Job"], work_queue)
    assert "completions" not in work_queue["spec"]  # only defaulted when parallelism is unset too
    cj = valid("CronJob")
    apply_defaults(RT["CronJob"], cj)
    s = cj["spec"]
    assert (s["concurrencyPolicy"], s["suspend"]) == ("Allow", False)
    assert (s["successfulJobsHistoryLimit"], s["failedJobsHistoryLimit"]) == (3, 1)
    assert s["jobTemplate"]["spec"]["template"]["spec"]["dnsPolicy"] == "ClusterFirst"
    assert "backoffLimit" not in s["jobTemplate"]["spec"]


def test_core_defaults():
    svc = valid("Service")
    apply_defaults(RT["Service"], svc)
    s = svc["spec"]
    assert (s["type"], s["sessionAffinity"], s["ipFamilies"]) == ("ClusterIP", "None", ["IPv4"])
    assert (s["ipFamilyPolicy"], s["internalTrafficPolicy"]) == ("SingleStack", "Cluster")
    assert s["ports"][0] == {"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}
    assert s["ports"][1] == {"name": "grpc", "port": 9090, "targetPort": 9090, "protocol": "TCP"}

    ns = valid("Namespace")
    apply_defaults(RT["Namespace"], ns)
    assert ns["spec"] == {"finalizers": ["kubernetes"]} and ns["status"] == {"phase": "Active"}
    assert ns["metadata"]["labels"] == {"team": "ml", "kubernetes.io/metadata.name": "ml-prod"}

    secret = {"metadata": {"name": "s"}, "stringData": {"user": "admin"}}
    apply_defaults(RT["Secret"], secret)
    assert secret == {"metadata": {"name": "s"}, "type": "Opaque", "data": {"user": "YWRtaW4="}}

    pvc = valid("PersistentVolumeClaim")
    apply_defaults(RT["PersistentVolumeClaim"], pvc)
    assert pvc["spec"]["volumeMode"] == "Filesystem" and pvc["status"] == {"phase": "Pending"}

    hpa = valid("HorizontalPodAutoscaler")
    del hpa["spec"]["minReplicas"]
    apply_defaults(RT["HorizontalPodAutoscaler"], hpa)
    assert hpa["spec"]["minReplicas"] == 1

    pod = valid("Pod")
    pod["spec"]["restartPolicy"] = "OnFailure"
    apply_defaults(RT["Pod"], pod)
    assert pod["spec"]["restartPolicy"] == "OnFailure"

    crd = valid("CustomResourceDefinition")
    del crd["spec"]["names"]["singular"]
    apply_defaults(RT["CustomResourceDefinition"], crd)
    assert crd["spec"]["names"]["singular"] == "widget" and crd["spec"]["names"]["listKind"] == "WidgetList"

    widget = {"metadata": {"name": "w"}, "spec": {}}
    apply_defaults(WIDGET, widget)
    assert widget == {"metadata": {"name": "w"}, "spec": {}}


def test_image_pull_policy_and_quantities():
    assert [image_pull_policy(i) for i in ("nginx", "nginx:latest", "nginx:1.25", "registry:5000/app",
                                           "registry:5000/app:v2", "app@sha256:abc")] == \
        ["Always", "Always", "IfNotPresent", "Always", "IfNotPresent", "IfNotPresent"]
    assert [quantity(v) for v in (1, 2.0, 0.5, 0.25, "0.5", True)] == ["1", "2", "500m", "250m", "0.5", True]
    pod = valid("Pod")
    pod["spec"]["containers"][0]["resources"] = {"limits": {"cpu": 1, "nvidia.com/gpu": 2},
                                                 "requests": {"cpu": 0.5}}
    base = "spec.containers[0].resources"
    assert fields(validate(RT["Pod"], pod)) == {f"{base}.limits[cpu]": "FieldValueInvalid",
                                                f"{base}.limits[nvidia.com/gpu]": "FieldValueInvalid",
                                                f"{base}.requests[cpu]": "FieldValueInvalid"}
    apply_defaults(RT["Pod"], pod)  # numbers become the strings the client reads
    assert pod["spec"]["containers"][0]["resources"] == {"limits": {"cpu": "1", "nvidia.com/gpu": "2"},
                                                         "requests": {"cpu": "500m", "nvidia.com/gpu": "2"}}
    assert validate(RT["Pod"], pod) == []


# ---------------------------------------------------------------- cost (printed, never asserted)


def test_print_cost_of_validate(capsys):
    rt, obj = RT["Deployment"], valid("Deployment")
    apply_defaults(rt, obj)
    validate(rt, obj)
    n = 500
    start = time.perf_counter()
    for _ in range(n):
        validate(rt, obj)
    per_validate = (time.perf_counter() - start) / n * 1e6
    start = time.perf_counter()
    for _ in range(n):
        unknown_fields(rt, obj)
    per_unknown = (time.perf_counter() - start) / n * 1e6
    start = time.perf_counter()
    for _ in range(n):
        models.V1Deployment.from_dict(obj)
    per_from_dict = (time.perf_counter() - start) / n * 1e6
    with capsys.disabled():
        print(f"\nDeployment: validate {per_validate:.0f} us, unknown_fields {per_unknown:.0f} us, "
              f"client from_dict {per_from_dict:.0f} us per call")
    assert validate(rt, obj) == []


# ---------------------------------------------------------------- pod defaults from kube-apiserver 1.32

PROBED = {"name": "m", "image": "model:v1", "resources": {"limits": {"nvidia.com/gpu": 1, "cpu": "2"},
                                                           "requests": {"cpu": "500m"}},
          "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "initialDelaySeconds": 5},
          "livenessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 30}}
PROBE_DEFAULTS = {"timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3}


def test_pod_requests_default_to_limits_and_pod_only_fields_are_set():
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [copy.deepcopy(PROBED)], "initContainers": [
               {"name": "init", "image": "busybox:1.36", "resources": {"limits": {"memory": "64Mi"}}}]}}
    apply_defaults(RT["Pod"], pod)
    spec = pod["spec"]
    assert spec["containers"][0]["resources"] == {"limits": {"nvidia.com/gpu": "1", "cpu": "2"},
                                                  "requests": {"nvidia.com/gpu": "1", "cpu": "500m"}}
    assert spec["initContainers"][0]["resources"]["requests"] == {"memory": "64Mi"}
    assert (spec["serviceAccountName"], spec["serviceAccount"]) == ("default", "default")
    assert spec["priority"] == 0 and spec["enableServiceLinks"] is True
    named = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "q"},
             "spec": {"serviceAccountName": "runner", "containers": [{"name": "m", "image": "x:1"}]}}
    apply_defaults(RT["Pod"], named)
    assert (named["spec"]["serviceAccountName"], named["spec"]["serviceAccount"]) == ("runner", "runner")
    assert validate(RT["Pod"], pod) == [] and unknown_fields(RT["Pod"], pod) == []


def test_probes_are_defaulted_in_pods_and_templates_but_requests_only_in_pods():
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [copy.deepcopy(PROBED)]}}
    dep = valid("Deployment")
    dep["spec"]["template"]["spec"]["containers"] = [copy.deepcopy(PROBED)]
    apply_defaults(RT["Pod"], pod)
    apply_defaults(RT["Deployment"], dep)
    for ctr in (pod["spec"]["containers"][0], dep["spec"]["template"]["spec"]["containers"][0]):
        assert ctr["readinessProbe"] == {"httpGet": {"path": "/ready", "port": 8080, "scheme": "HTTP"},
                                         "initialDelaySeconds": 5, "periodSeconds": 10, **PROBE_DEFAULTS}
        assert ctr["livenessProbe"] == {"tcpSocket": {"port": 8080}, "periodSeconds": 30, **PROBE_DEFAULTS}
    template = dep["spec"]["template"]["spec"]
    assert template["containers"][0]["resources"]["requests"] == {"cpu": "500m"}
    assert not {"serviceAccountName", "priority", "enableServiceLinks"} & set(template)
    twice = copy.deepcopy(pod)
    apply_defaults(RT["Pod"], twice)
    assert twice == pod
