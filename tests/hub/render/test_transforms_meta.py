"""The metadata transformers (namespace, namePrefix/nameSuffix, commonLabels/labels, commonAnnotations, images,
replicas) against the oracle, `kubectl kustomize` (kustomize v5.5): the same manifests go through both and the
parsed objects must be equal. Output order is the builder's business, so objects are compared as sets."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from fleetline.yamlsafe import load_all
from hub.render.errors import RenderError
from hub.render.resource import ResId, Resource
from hub.render.transforms.images import set_images, split_image
from hub.render.transforms.labels import add_annotations, add_common_labels, add_labels
from hub.render.transforms.namespace import set_namespace
from hub.render.transforms.naming import add_name_affixes
from hub.render.transforms.replicas import set_replicas

KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH: no kustomize oracle to compare")
KFILE = "app/kustomization.yaml"


class OracleFailed(Exception):
    pass


def oracle(tmp_path: Path, config: dict, manifests: str) -> list[dict]:
    directory = tmp_path / "oracle"
    directory.mkdir(exist_ok=True)
    (directory / "r.yaml").write_text(manifests)
    (directory / "kustomization.yaml").write_text(yaml.safe_dump({"resources": ["r.yaml"], **config}))
    result = subprocess.run([KUBECTL, "kustomize", str(directory)], capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise OracleFailed(result.stderr)
    return load_all(result.stdout, "kubectl kustomize")


def transform(config: dict, manifests: str) -> list[Resource]:
    """Our transformers, in kustomize's order, on the same manifests."""
    resources = [Resource(obj, "app/r.yaml") for obj in load_all(manifests, "app/r.yaml")]
    set_namespace(resources, config.get("namespace", ""), KFILE)
    add_name_affixes(resources, config.get("namePrefix", ""), config.get("nameSuffix", ""), KFILE)
    add_labels(resources, config.get("labels"), KFILE, "labels")
    add_common_labels(resources, config.get("commonLabels"), KFILE, "commonLabels")
    add_annotations(resources, config.get("commonAnnotations"), KFILE, "commonAnnotations")
    set_replicas(resources, config.get("replicas"), KFILE, "replicas")
    set_images(resources, config.get("images"), KFILE, "images")
    return resources


def canonical(objects: list[dict]) -> list[str]:
    return sorted(json.dumps(obj, sort_keys=True) for obj in objects)


def assert_same_as_kustomize(tmp_path: Path, config: dict, manifests: str) -> list[Resource]:
    expected = oracle(tmp_path, config, manifests)
    resources = transform(config, manifests)
    assert canonical([r.obj for r in resources]) == canonical(expected)
    return resources


def assert_both_refuse(tmp_path: Path, config: dict, manifests: str, field: str, *fragments: str) -> None:
    with pytest.raises(OracleFailed):
        oracle(tmp_path, config, manifests)
    with pytest.raises(RenderError) as caught:
        transform(config, manifests)
    assert caught.value.file == KFILE
    assert caught.value.field == field
    for fragment in fragments:
        assert fragment in caught.value.message, caught.value.message


WORKLOADS = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 1
            podAffinityTerm:
              topologyKey: zone
              labelSelector:
                matchLabels:
                  app: web
          requiredDuringSchedulingIgnoredDuringExecution:
          - topologyKey: host
            labelSelector:
              matchExpressions: []
      topologySpreadConstraints:
      - maxSkew: 1
        labelSelector:
          matchLabels:
            app: web
      initContainers: null
      containers:
      - name: web
        image: nginx:1.25
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports:
  - port: 80
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  serviceName: db
  template:
    spec:
      containers:
      - name: db
        image: postgres
  volumeClaimTemplates:
  - metadata:
      name: data
  - spec: {}
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: train
  annotations:
    owner: ml
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          initContainers:
          - name: fetch
            image: docker.io/library/busybox@sha256:aaa
          containers:
          - name: train
            image: registry.local:5000/ml/trainer:v1
          - name: sidecar
          restartPolicy: Never
---
apiVersion: batch/v1
kind: Job
metadata:
  name: once
spec:
  selector:
    matchLabels:
      job: once
  template:
    spec:
      containers:
      - name: once
        image: nginx
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
spec:
  selector:
    matchLabels:
      app: web
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: empty
spec:
  selector:
    matchLabels: null
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web
spec:
  podSelector:
    matchLabels:
      app: web
  ingress:
  - from:
    - podSelector:
        matchLabels:
          role: client
    - ipBlock:
        cidr: 10.0.0.0/8
  egress:
  - to:
    - podSelector: {}
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  template:
    spec:
      containers:
      - name: agent
        image: nginx
---
apiVersion: v1
kind: ReplicationController
metadata:
  name: legacy
spec:
  replicas: 1
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: rs
---
apiVersion: v1
kind: Pod
metadata:
  name: debug
spec:
  containers:
  - name: debug
    image: nginx
  ephemeralContainers:
  - name: e
    image: nginx
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  mode: fast
---
apiVersion: example.com/v1
kind: InferenceServer
metadata:
  name: llm
spec:
  replicas: 2
  template:
    metadata: {}
  predictor:
    containers:
    - name: model
      image: nginx:1.0
    - image: 7
    initContainers: not-a-list
  image: nginx
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: things.example.com
spec:
  containers:
  - image: nginx
"""


SCOPED = """
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: vap
---
apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: FlowSchema
metadata:
  name: fs
---
apiVersion: flowcontrol.apiserver.k8s.io/v1beta1
kind: FlowSchema
metadata:
  name: fs-old
---
apiVersion: rbac.authorization.k8s.io/v1alpha1
kind: ClusterRole
metadata:
  name: alpha
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: reader
---
apiVersion: v1
kind: Namespace
metadata:
  name: other
---
apiVersion: example.com/v1
kind: Namespace
metadata:
  name: custom-ns
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: v1.local
spec:
  group: local
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: v1.metrics
spec:
  service:
    name: metrics
    namespace: kube-system
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crd.example.com
spec:
  conversion:
    webhook:
      clientConfig:
        service:
          name: conv
          namespace: old
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: rb
  namespace: keep
subjects:
- kind: ServiceAccount
  name: default
  namespace: somewhere
- kind: ServiceAccount
  name: runner
- kind: User
  name: default
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: crb
subjects:
- kind: ServiceAccount
  name: default
- kind: ServiceAccount
  name: runner
  namespace: ci
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: fast
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: pv
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm
  namespace: ""
---
apiVersion: example.com/v1
kind: Widget
metadata:
  name: w
  namespace: elsewhere
"""


# -- namespace --------------------------------------------------------------------------------------------------

@needs_kubectl
def test_namespace_follows_kustomizes_scope_table_and_special_fields(tmp_path):
    resources = assert_same_as_kustomize(tmp_path, {"namespace": "team"}, SCOPED)
    by_name = {r.name: r for r in resources}
    assert by_name["team"].previous_ids == [ResId("", "v1", "Namespace", "other")]
    assert by_name["w"].previous_ids == [ResId("example.com", "v1", "Widget", "w", "elsewhere")]
    # kustomize records the id even when the namespace transformer changes nothing (cluster-scoped kinds)
    assert by_name["reader"].previous_ids == [by_name["reader"].cur_id()]


@needs_kubectl
def test_namespace_on_workloads(tmp_path):
    assert_same_as_kustomize(tmp_path, {"namespace": "prod"}, WORKLOADS)


@needs_kubectl
def test_namespace_conflict_is_refused(tmp_path):
    manifests = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm
  namespace: a
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm
  namespace: b
"""
    assert_both_refuse(tmp_path, {"namespace": "team"}, manifests, "namespace", "same id ConfigMap/cm")


def test_namespace_must_be_a_string():
    with pytest.raises(RenderError, match=r"^k.yaml: namespace: expected a namespace name \(a string\), found "
                                          "the number 3"):
        set_namespace([], 3, "k.yaml")  # type: ignore[arg-type]


# -- namePrefix / nameSuffix -------------------------------------------------------------------------------------

@needs_kubectl
def test_prefix_and_suffix_skip_crds_namespaces_and_apiservices(tmp_path):
    config = {"namePrefix": "eu-", "nameSuffix": "-v2"}
    resources = assert_same_as_kustomize(tmp_path, config, SCOPED)
    by_orig = {r.orig_id().name: r for r in resources}
    reader = by_orig["reader"]
    assert reader.name == "eu-reader-v2"
    assert reader.prefixes == ["eu-"] and reader.suffixes == ["-v2"]
    assert [rid.name for rid in reader.previous_ids] == ["reader", "eu-reader"]
    for skipped in ("other", "custom-ns", "v1.local", "crd.example.com"):
        assert by_orig[skipped].prefixes == [] and by_orig[skipped].previous_ids == []


@needs_kubectl
def test_prefix_only_with_namespace_on_workloads(tmp_path):
    resources = assert_same_as_kustomize(tmp_path, {"namePrefix": "ml-", "namespace": "prod"}, WORKLOADS)
    web = next(r for r in resources if r.kind == "Deployment")
    assert web.all_ids() == [ResId("apps", "v1", "Deployment", "web"),
                             ResId("apps", "v1", "Deployment", "web", "prod"),
                             ResId("apps", "v1", "Deployment", "ml-web", "prod")]
    assert web.suffixes == []


# -- labels and annotations ----------------------------------------------------------------------------------------

@needs_kubectl
def test_common_labels_reach_selectors_and_templates(tmp_path):
    assert_same_as_kustomize(tmp_path, {"commonLabels": {"app.kubernetes.io/part-of": "fleet", "tier": "",
                                                         "enabled": "true"}}, WORKLOADS)


@needs_kubectl
def test_common_label_with_null_value_becomes_empty_string(tmp_path):
    assert_same_as_kustomize(tmp_path, {"commonLabels": {"region": None}}, WORKLOADS)


@needs_kubectl
def test_labels_entries_templates_selectors_fields_and_common_labels_winning(tmp_path):
    config = {
        "labels": [
            {"pairs": {"owner": "ml", "tier": "entry"}, "includeTemplates": True},
            {"pairs": {"sel": "x"}, "includeSelectors": True, "includeTemplates": False},
            {"pairs": {"meta": "only"}},
            {"pairs": {"custom": "yes-please"},
             "fields": [{"path": "spec/template/metadata/labels", "kind": "InferenceServer", "create": True},
                        {"path": "spec/extra/labels", "kind": "Service", "create": True},
                        {"path": "spec/missing/labels", "kind": "ConfigMap"}]},
        ],
        "commonLabels": {"tier": "common"},
    }
    assert_same_as_kustomize(tmp_path, config, WORKLOADS)


@needs_kubectl
def test_labels_entry_contradicting_a_default_create_flag_is_refused(tmp_path):
    config = {"labels": [{"pairs": {"a": "b"}, "fields": [{"path": "metadata/labels", "create": False}]}]}
    assert_both_refuse(tmp_path, config, WORKLOADS, "labels[0].fields", "'metadata/labels'", "create: true")


@needs_kubectl
def test_common_annotations_reach_templates(tmp_path):
    assert_same_as_kustomize(tmp_path, {"commonAnnotations": {"fleetline.io/owner": "ml", "note": "a: b",
                                                              "empty": None}}, WORKLOADS)


@needs_kubectl
def test_all_metadata_transformers_together(tmp_path):
    config = {
        "namespace": "inference", "namePrefix": "eu-", "nameSuffix": "-1",
        "labels": [{"pairs": {"team": "ml"}, "includeTemplates": True}],
        "commonLabels": {"region": "eu"}, "commonAnnotations": {"revision": "abc123"},
        "replicas": [{"name": "web", "count": 4}, {"name": "eu-db-1", "count": 2}],
        "images": [{"name": "nginx", "newName": "mirror.eu/nginx", "newTag": "1.27"}],
    }
    assert_same_as_kustomize(tmp_path, config, WORKLOADS)


@needs_kubectl
def test_label_selector_that_is_a_string_is_refused(tmp_path):
    manifests = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: app=web
"""
    assert_both_refuse(tmp_path, {"commonLabels": {"a": "b"}}, manifests, "commonLabels",
                       "'spec/selector/matchLabels'", "Deployment/web", "found the string 'app=web'")


@needs_kubectl
@pytest.mark.parametrize("value,found", [(3, "the number 3"), (True, "the boolean true"), ([1], "a list")])
def test_non_string_label_values_are_refused(tmp_path, value, found):
    assert_both_refuse(tmp_path, {"commonLabels": {"gpu": value}}, WORKLOADS, "commonLabels.gpu", found,
                       "quote it")


@needs_kubectl
def test_non_string_annotation_value_is_refused(tmp_path):
    assert_both_refuse(tmp_path, {"commonAnnotations": {"weight": 1.5}}, WORKLOADS, "commonAnnotations.weight",
                       "the number 1.5", 'weight: "1.5"')


def test_labels_entry_validation_messages():
    cases = [
        ({"pairs": {"a": "b"}, "includeSelector": True}, "labels[0].includeSelector", "unknown field"),
        ({"pairs": {"a": "b"}, "includeTemplates": "true"}, "labels[0].includeTemplates", "expected true or false"),
        ({"pairs": ["a"]}, "labels[0].pairs", "expected a mapping of label names"),
        ("a=b", "labels[0]", "expected a mapping with pairs"),
    ]
    for entry, field, message in cases:
        with pytest.raises(RenderError) as caught:
            add_labels([], [entry], KFILE, "labels")
        assert (caught.value.field, caught.value.file) == (field, KFILE)
        assert message in caught.value.message


# -- images -----------------------------------------------------------------------------------------------------

@needs_kubectl
def test_images_new_name_tag_digest_everywhere_containers_are(tmp_path):
    config = {"images": [
        {"name": "nginx", "newTag": "1.27"},
        {"name": "docker.io/library/busybox", "newTag": "1.36", "digest": "sha256:bbb"},
        {"name": "registry.local:5000/ml/trainer", "newName": "eu.registry/ml/trainer"},
        {"name": "postgres", "digest": "sha256:ccc"},
    ]}
    assert_same_as_kustomize(tmp_path, config, WORKLOADS)


@needs_kubectl
def test_images_tag_suffix_is_applied_twice_where_both_passes_reach(tmp_path):
    assert_same_as_kustomize(tmp_path, {"images": [{"name": "nginx", "tagSuffix": "-gpu"}]}, WORKLOADS)


@needs_kubectl
def test_image_names_are_regular_expressions_and_entries_apply_in_order(tmp_path):
    config = {"images": [{"name": "ngin.", "newName": "nginx-unprivileged"},
                         {"name": "nginx-unprivileged", "newTag": "stable"},
                         {"newTag": "orphan"}]}
    assert_same_as_kustomize(tmp_path, config, WORKLOADS)


@needs_kubectl
def test_image_new_tag_must_be_a_string(tmp_path):
    assert_both_refuse(tmp_path, {"images": [{"name": "nginx"}, {"name": "nginx", "newTag": 1.1}]}, WORKLOADS,
                       "images[1].newTag", "the number 1.1", 'newTag: "1.1"')


@needs_kubectl
def test_image_entry_unknown_field_is_refused(tmp_path):
    assert_both_refuse(tmp_path, {"images": [{"name": "nginx", "tag": "1"}]}, WORKLOADS, "images[0].tag",
                       "unknown field 'tag'")


def test_split_image_follows_kustomize():
    assert split_image("nginx") == ("nginx", "", "")
    assert split_image("nginx:1.2") == ("nginx", "1.2", "")
    assert split_image("nginx@sha256:abc") == ("nginx", "", "sha256:abc")
    assert split_image("nginx:1.2@sha256:abc") == ("nginx", "1.2", "sha256:abc")
    assert split_image("localhost:5000/nginx") == ("localhost:5000/nginx", "", "")
    assert split_image("localhost:5000/ml/nginx:1@sha256:abc") == ("localhost:5000/ml/nginx", "1", "sha256:abc")


# -- replicas ---------------------------------------------------------------------------------------------------

@needs_kubectl
def test_replicas_by_current_or_original_name(tmp_path):
    config = {"namePrefix": "p-", "replicas": [{"name": "web", "count": 3}, {"name": "p-db", "count": 0},
                                               {"name": "legacy", "count": 5}, {"name": "rs"}]}
    assert_same_as_kustomize(tmp_path, config, WORKLOADS)


@needs_kubectl
def test_replicas_integral_float_is_accepted(tmp_path):
    assert_same_as_kustomize(tmp_path, {"replicas": [{"name": "web", "count": 3.0}]}, WORKLOADS)


@needs_kubectl
def test_replicas_matching_nothing_is_refused(tmp_path):
    assert_both_refuse(tmp_path, {"replicas": [{"name": "web", "count": 1}, {"name": "settings", "count": 1}]},
                       WORKLOADS, "replicas[1].name", "no object named 'settings'")
    # a custom resource with spec.replicas is not in kustomize's replicas table either
    assert_both_refuse(tmp_path, {"replicas": [{"name": "llm", "count": 1}]}, WORKLOADS, "replicas[0].name",
                       "no object named 'llm'")


@needs_kubectl
@pytest.mark.parametrize("count,found", [("3", "the string '3'"), (2.5, "the number 2.5"),
                                         (True, "the boolean true")])
def test_replicas_count_must_be_a_whole_number(tmp_path, count, found):
    assert_both_refuse(tmp_path, {"replicas": [{"name": "web", "count": count}]}, WORKLOADS, "replicas[0].count",
                       "expected a whole number", found)


def test_created_label_fields_share_one_value_until_a_json_round_trip():
    """kyaml puts one node at every field commonLabels creates: a later write to one changes its twins, also
    in a memoised copy; fields that already existed are not shared."""
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"team": "x"}},
                  "spec": {"selector": {"matchLabels": {"app": "web"}},
                           "template": {"metadata": {"labels": {"app": "web"}}}}}
    res = Resource(obj=deployment, origin="r.yaml")
    add_common_labels([res], {"team": "a", "tier": "b"}, KFILE)
    copy = res.copy()
    add_labels([copy], [{"pairs": {"tier": "c", "team": "d"}}], KFILE)  # metadata.labels only
    assert copy.obj["spec"]["selector"]["matchLabels"] == {"app": "web", "team": "a", "tier": "c"}
    assert copy.obj["spec"]["template"]["metadata"]["labels"] == {"app": "web", "team": "a", "tier": "c"}
    assert res.obj["spec"]["selector"]["matchLabels"]["tier"] == "b"  # the original is untouched
