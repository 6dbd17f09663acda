"""Tests of `hub.render.selectors`: kustomize's target selection (anchored regexes on group, version, kind,
name and namespace; original or current name; Kubernetes label and annotation selectors), checked against
`kubectl kustomize` by giving each target a JSON patch that marks what it selects."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from fleetline.yamlsafe import load_all
from hub.render.errors import RenderError
from hub.render.resource import ResId, Resource
from hub.render.selectors import (
    SelectorSyntaxError,
    Target,
    kustomize_ids,
    parse_label_selector,
    parse_target,
    select,
    suggest,
)

KUBECTL = shutil.which("kubectl")
NO_KUBECTL = "kubectl is not on PATH: these tests compare with `kubectl kustomize` (kustomize v5.5.0)"

OBJECTS = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web, tier: front, gpu: "2"}
  annotations: {team: ml}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-canary
  namespace: prod
  labels: {app: web, track: canary}
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: default
  labels: {app: db, tier: back}
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: train
  namespace: prod
  annotations: {team: ml, schedule: nightly}
---
apiVersion: v1
kind: Service
metadata:
  name: web
  labels: {app: web}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: reader
  labels: {app: web}
---
apiVersion: example.com/v1alpha1
kind: Model
metadata:
  name: llama
  namespace: prod
  labels: {size: "70"}
"""

TARGETS = [
    {"kind": "Deployment"},
    {"kind": "Deploy"},
    {"kind": "Deploy.*"},
    {"kind": "Deployment|StatefulSet"},
    {"name": "web"},
    {"name": "web.*"},
    {"name": "we"},
    {"name": "(web|db)"},
    {"namespace": "default"},
    {"namespace": "prod"},
    {"namespace": "pro"},
    {"namespace": ".*"},
    {"group": "apps"},
    {"group": ""},
    {"version": "v1"},
    {"version": "v1.*"},
    {"group": "rbac.*", "kind": "ClusterRole"},
    {"labelSelector": "app=web"},
    {"labelSelector": "app==web,tier"},
    {"labelSelector": "app!=web"},
    {"labelSelector": "app in (web, db),tier notin (back)"},
    {"labelSelector": "!track"},
    {"labelSelector": "gpu>1"},
    {"labelSelector": "size<100,size>69"},
    {"labelSelector": "tier in ()"},
    {"annotationSelector": "team=ml"},
    {"annotationSelector": "schedule"},
    {"annotationSelector": "team=ml,!schedule", "kind": "Deployment"},
    {"kind": "Model", "group": "example.com"},
]


def marked(objects: list[dict]) -> dict[str, set[int]]:
    """For each object (kind/name), the indexes of the targets that marked it."""
    result = {}
    for obj in objects:
        notes = (obj.get("metadata") or {}).get("annotations") or {}
        result[f"{obj['kind']}/{obj['metadata']['name']}"] = {int(k[4:]) for k in notes if k.startswith("sel-")}
    return result


def test_selection_matches_kustomize(tmp_path: Path) -> None:
    if KUBECTL is None:
        print(NO_KUBECTL)
        pytest.skip(NO_KUBECTL)
    patches = [{"target": target, "patch": json.dumps([{"op": "add", "path": f"/metadata/annotations/sel-{i}",
                                                        "value": "x"}])}
               for i, target in enumerate(TARGETS)]
    # every object gets an annotations map first, so that the marking patches can add to it
    prepare = {"target": {}, "patch": '[{"op": "add", "path": "/metadata/annotations/prepared", "value": "y"}]'}
    (tmp_path / "res.yaml").write_text(OBJECTS.replace("  labels: {app: web}\n---\napiVersion: rbac",
                                                       "  labels: {app: web}\n---\napiVersion: rbac"))
    (tmp_path / "kustomization.yaml").write_text(json.dumps({"resources": ["res.yaml"],
                                                             "patches": [prepare, *patches]}))
    proc = subprocess.run([KUBECTL, "kustomize", str(tmp_path)], capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    expected = marked(load_all(proc.stdout, "kustomize"))

    resources = [Resource(doc, "res.yaml") for doc in load_all(OBJECTS, "res.yaml")]
    actual: dict[str, set[int]] = {f"{r.kind}/{r.name}": set() for r in resources}
    for i, raw in enumerate(TARGETS):
        for res in select(resources, parse_target(raw, "kustomization.yaml", f"patches[{i}].target")):
            actual[f"{res.kind}/{res.name}"].add(i)
    assert actual == expected
    assert expected["Deployment/web"] >= {0, 2, 4}  # the test has teeth: the marks are there


def test_names_match_the_original_or_the_current_name(tmp_path: Path) -> None:
    """A base adds a prefix and a namespace; an overlay targets the base's own names, the prefixed names, and
    a middle name (an earlier overlay's prefix), which kustomize does not remember for selection."""
    if KUBECTL is None:
        print(NO_KUBECTL)
        pytest.skip(NO_KUBECTL)
    files = {
        "base/kustomization.yaml": "namespace: ml\nnamePrefix: a-\nresources: [res.yaml]\n",
        "base/res.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n",
        "mid/kustomization.yaml": "namePrefix: b-\nresources: [../base]\n",
        "top/kustomization.yaml": json.dumps({"resources": ["../mid"], "patches": [
            {"target": target, "patch": json.dumps([{"op": "add", "path": f"/metadata/labels/sel-{i}", "value": "x"}])}
            for i, target in enumerate([{"name": "cm"}, {"name": "a-cm"}, {"name": "b-a-cm"}, {"namespace": "default"},
                                        {"namespace": "ml"}, {"name": "cm", "namespace": "default"}])]}),
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    (tmp_path / "base/res.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, labels: {}}\n")
    proc = subprocess.run([KUBECTL, "kustomize", str(tmp_path / "top")], capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    [obj] = load_all(proc.stdout, "kustomize")
    expected = {int(k[4:]) for k in obj["metadata"]["labels"]}

    # the same object as the builder hands it to the top overlay: renamed twice, namespace set once
    res = Resource({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}}, "base/res.yaml")
    res.rename(namespace="ml")
    res.rename(name="a-cm")
    res.rename(name="b-a-cm")
    targets = [{"name": "cm"}, {"name": "a-cm"}, {"name": "b-a-cm"}, {"namespace": "default"}, {"namespace": "ml"},
               {"name": "cm", "namespace": "default"}]
    actual = {i for i, t in enumerate(targets) if select([res], parse_target(t, "k.yaml", "patches[0].target"))}
    assert actual == expected == {0, 2, 3, 4, 5}


def test_kustomize_ids_carry_the_current_group_and_version() -> None:
    res = Resource({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}}, "r.yaml")
    res.previous_ids.append(ResId("extensions", "v1beta1", "Deployment", "old"))
    assert kustomize_ids(res) == [ResId("apps", "v1", "Deployment", "old"), ResId("apps", "v1", "Deployment", "web")]


def test_cluster_scoped_objects_have_no_namespace_to_match() -> None:
    role = Resource({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                     "metadata": {"name": "reader", "namespace": "ignored"}}, "r.yaml")
    assert select([role], Target(namespace="default")) == []
    assert select([role], Target(namespace="ignored")) == []
    assert select([role], Target(name="reader")) == [role]


@pytest.mark.parametrize(("text", "labels", "expected"), [
    ("", {}, True),
    ("a=b", {"a": "b"}, True),
    ("a=b", {"a": "c"}, False),
    ("a==b", {"a": "b"}, True),
    ("a!=b", {}, True),
    ("a!=b", {"a": "b"}, False),
    ("a", {"a": ""}, True),
    ("!a", {"a": ""}, False),
    ("a in (b, c)", {"a": "c"}, True),
    ("a notin (b,c)", {"a": "d"}, True),
    ("a notin (b,c)", {}, True),
    ("a in (b)", {}, False),
    ("a in ()", {"a": ""}, True),
    ("a=", {"a": ""}, True),
    ("n>3", {"n": "4"}, True),
    ("n>3", {"n": "x"}, False),
    ("n<3", {}, False),
    ("example.com/role=gpu, b", {"example.com/role": "gpu", "b": "1"}, True),
])
def test_label_selector_matching(text: str, labels: dict, expected: bool) -> None:
    assert parse_label_selector(text).matches(labels) is expected


@pytest.mark.parametrize("text", ["a in", "a b", "=b", "a>b", "a,", "a=b=c", "!", "a in (b c)", "A/b=c", "a=-b",
                                  "x" * 64, "a in (b", "a notin b"])
def test_label_selector_syntax_errors(text: str) -> None:
    with pytest.raises(SelectorSyntaxError):
        parse_label_selector(text)


@pytest.mark.parametrize(("raw", "field", "needle"), [
    ({"knd": "Deployment"}, "patches[1].target", "unknown field 'knd' in a target (did you mean 'kind'?)"),
    ({"name": 3}, "patches[1].target.name", "expected a string, found the number 3"),
    ({"kind": "Deploy("}, "patches[1].target.kind", "invalid regular expression 'Deploy('"),
    ({"labelSelector": "app in web"}, "patches[1].target.labelSelector", "invalid selector 'app in web'"),
    (["Deployment"], "patches[1].target", "expected a mapping"),
])
def test_parse_target_errors(raw: object, field: str, needle: str) -> None:
    with pytest.raises(RenderError) as caught:
        parse_target(raw, "overlays/eu/kustomization.yaml", "patches[1].target")
    assert caught.value.file == "overlays/eu/kustomization.yaml"
    assert caught.value.field == field
    assert needle in str(caught.value)


def test_suggest_offers_the_closest_name_of_the_kind() -> None:
    resources = [Resource({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": n}}, "r.yaml")
                 for n in ("inference-server", "trainer")]
    assert suggest(resources, Target(kind="Deployment", name="inference")) == " (did you mean inference-server?)"
    assert suggest(resources, Target(kind="Service", name="inference")) == ""
