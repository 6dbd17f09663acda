"""One pair's desired state: sources of every shape, the destination namespace, ownership, errors, policies."""

from __future__ import annotations

from pathlib import Path

from fleetline.identity import TRACKING_ANNOTATION
from hub.fleet.load import load_fleet
from hub.plan.desired import Renderer
from hub.render.files import DirectoryFiles
from tests.hub.render.conftest import write_tree

FLEET = """\
apiVersion: fleetline.io/v1alpha1
kind: Fleet
metadata:
  name: t
spec:
  environments:
    prod:
      production: true
  clusters:
  - {name: euw1, region: eu, environment: prod}
  applications:
  - name: plain
    source: {path: plain}
    destination: {namespace: ml}
  - name: missing
    source: {path: "apps/{region}/nothing"}
  - name: secrets
    source: {path: secrets}
  - name: dupes
    source: {path: dupes}
    destination: {namespace: ml}
"""

PLAIN = {
    "plain/a-deployment.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: server}
spec:
  template:
    spec:
      containers: [{name: c, image: "acme/server:1.2", resources: {requests: {nvidia.com/gpu: 1}}}]
""",
    "plain/b-crd.yaml": """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gpumodels.ml.acme.io}
spec:
  group: ml.acme.io
  scope: Cluster
  names: {kind: GpuModel, plural: gpumodels}
---
apiVersion: ml.acme.io/v1
kind: GpuModel
metadata: {name: llama}
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: settings, namespace: other}
- apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRole
  metadata: {name: reader}
""",
    "plain/notes.txt": "not a manifest\n",
    "secrets/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: token}\nstringData: {token: hunter2}\n",
    "dupes/one.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: same}\n",
    "dupes/two.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: same, namespace: ml}\n",
}


def render(tmp_path: Path) -> dict:
    write_tree(tmp_path, {"fleet.yaml": FLEET, **PLAIN})
    files = DirectoryFiles(tmp_path)
    fleet = load_fleet(files)
    return {s.app: s for s in Renderer().render_cluster(files, fleet, "euw1")}


def test_plain_directory_source_with_namespaces_filled_in(tmp_path: Path) -> None:
    plain = render(tmp_path)["plain"]
    assert plain.ok, plain.errors
    by_kind = {o["kind"]: o for o in plain.objects}
    assert list(by_kind) == ["Deployment", "CustomResourceDefinition", "GpuModel", "ConfigMap", "ClusterRole"]
    assert by_kind["Deployment"]["metadata"]["namespace"] == "ml"
    assert by_kind["ConfigMap"]["metadata"]["namespace"] == "other"  # an explicit namespace is kept
    for kind in ("CustomResourceDefinition", "GpuModel", "ClusterRole"):  # cluster-scoped, the CR by its CRD
        assert "namespace" not in by_kind[kind]["metadata"]
    assert by_kind["GpuModel"]["metadata"]["annotations"][TRACKING_ANNOTATION] == "plain:ml.acme.io/GpuModel:/llama"
    [warning] = plain.findings
    assert warning.policy == "gpu-limits" and "nvidia.com/gpu" in warning.message


def test_errors_are_per_application(tmp_path: Path) -> None:
    states = render(tmp_path)
    assert states["missing"].errors == [
        "fleet.yaml: spec.applications[1].source.path: source path 'apps/eu/nothing' of application 'missing' "
        "for cluster 'euw1' does not exist in the repository"]
    [refusal] = states["secrets"].errors
    assert refusal.startswith("secrets: error: Secret/token: a plain Secret with stringData in Git")
    assert states["secrets"].objects == [] and states["secrets"].content_hash == ""
    [duplicate] = states["dupes"].errors
    assert "dupes/two.yaml: ConfigMap/same is declared twice: here and in dupes/one.yaml" in duplicate
    assert states["plain"].ok
