"""Tests of `hub.render.transforms.patches` (with `smp` and `json6902`): kustomize's `patches`,
`patchesStrategicMerge` and `patchesJson6902`, each behaviour compared with `kubectl kustomize` on the same
input; and the errors, which name the kustomization file and the entry."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from fleetline.yamlsafe import load_all, load_one
from hub.render.errors import RenderError
from hub.render.files import DirectoryFiles
from hub.render.resource import ResId, Resource
from hub.render.transforms.json6902 import apply_operations
from hub.render.transforms.patches import apply_patches, apply_patches_json6902, apply_patches_strategic_merge
from hub.render.transforms.smp import strategic_merge

KUBECTL = shutil.which("kubectl")
NO_KUBECTL = "kubectl is not on PATH: these tests compare with `kubectl kustomize` (kustomize v5.5.0)"


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def load_resources(root: Path, rel: str = "res.yaml") -> list[Resource]:
    return [Resource(obj=doc, origin=rel) for doc in load_all((root / rel).read_bytes(), rel)]


def ours(root: Path, directory: str = "") -> list[dict]:
    """Our patch transformers on the kustomization at `directory`, on the objects of its `res.yaml`, in the
    order kustomize runs them."""
    file = f"{directory}/kustomization.yaml" if directory else "kustomization.yaml"
    k = load_one((root / file).read_bytes(), file)
    files = DirectoryFiles(root)
    resources = load_resources(root, f"{directory}/res.yaml" if directory else "res.yaml")
    if "patchesStrategicMerge" in k:
        resources = apply_patches_strategic_merge(resources, k["patchesStrategicMerge"], files, directory, file)
    if "patches" in k:
        resources = apply_patches(resources, k["patches"], files, directory, file)
    if "patchesJson6902" in k:
        resources = apply_patches_json6902(resources, k["patchesJson6902"], files, directory, file)
    return [res.obj for res in resources]


def kustomize(root: Path) -> subprocess.CompletedProcess:
    if KUBECTL is None:
        print(NO_KUBECTL)
        pytest.skip(NO_KUBECTL)
    return subprocess.run([KUBECTL, "kustomize", str(root)], capture_output=True, text=True, timeout=60, check=False)


def canonical(docs: list) -> list[str]:
    return sorted(json.dumps(doc, sort_keys=True) for doc in docs)


def assert_like_kustomize(root: Path) -> list[dict]:
    """Our output equals kustomize's (as a set of objects: output order is the builder's business)."""
    proc = kustomize(root)
    assert proc.returncode == 0, proc.stderr
    expected = load_all(proc.stdout, "kustomize")
    actual = ours(root)
    assert canonical(actual) == canonical(expected)
    return actual


def assert_kustomize_fails(root: Path, *needles: str) -> RenderError:
    proc = kustomize(root)
    assert proc.returncode != 0, proc.stdout
    with pytest.raises(RenderError) as caught:
        ours(root)
    for needle in needles:
        assert needle in str(caught.value)
    return caught.value


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
  finalizers: [a, b]
spec:
  replicas: 1
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1}
  template:
    metadata:
      labels: {app: web}
    spec:
      volumes:
      - name: v1
        emptyDir: {}
      containers:
      - name: a
        image: a
        ports:
        - containerPort: 80
        - containerPort: 90
      - name: b
        image: b
        env:
        - name: E1
          value: "1"
        - name: E2
          value: "2"
      - name: c
        image: c
"""


# ------------------------------------------------------------------------------------- strategic merge


def test_smp_keyed_lists_put_the_patched_items_first(tmp_path: Path) -> None:
    write(tmp_path, {"res.yaml": DEPLOYMENT, "kustomization.yaml": """\
resources: [res.yaml]
patches:
- patch: |
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
      finalizers: [z, a]
    spec:
      template:
        spec:
          containers:
          - name: b
            image: b2
            env:
            - name: E3
              value: "3"
            - name: E1
              value: one
          - name: new
            image: n
"""})
    [obj] = assert_like_kustomize(tmp_path)
    assert [c["name"] for c in obj["spec"]["template"]["spec"]["containers"]] == ["b", "new", "a", "c"]
    assert obj["metadata"]["finalizers"] == ["z", "a", "b"]


def test_smp_directives_as_kyaml_reads_them(tmp_path: Path) -> None:
    write(tmp_path, {"res.yaml": DEPLOYMENT, "kustomization.yaml": """\
resources: [res.yaml]
patches:
- patch: |
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
      labels: null
    spec:
      strategy:
        $retainKeys: [type]
        type: Recreate
      template:
        spec:
          $setElementOrder/containers:
          - name: c
          - name: a
          containers:
          - name: a
            ports:
            - containerPort: 80
              protocol: UDP
            - containerPort: 81
          - name: b
            $patch: replace
            image: replaced
          - name: c
            $patch: delete
          volumes:
          - $patch: replace
          - name: v2
            emptyDir: {}
"""})
    [obj] = assert_like_kustomize(tmp_path)
    spec = obj["spec"]["template"]["spec"]
    assert "$setElementOrder/containers" in spec  # kyaml copies what it does not understand
    assert [c["name"] for c in spec["containers"]] == ["a", "b"]
    assert spec["containers"][1]["image"] == "b"  # `$patch: replace` on an item keeps the original item
    assert [p["containerPort"] for p in spec["containers"][0]["ports"]] == [81, 80, 90]
    assert "labels" not in obj["metadata"]


def test_smp_on_a_custom_resource_replaces_lists(tmp_path: Path) -> None:
    write(tmp_path, {"res.yaml": """\
apiVersion: example.com/v1
kind: Thing
metadata:
  name: t
  finalizers: [a]
spec:
  items:
  - name: a
    v: 1
  - name: b
    v: 1
  gone: 1
  kept: null
  nested: {a: 1, b: 2}
  list2: [{y: 1}]
""", "kustomization.yaml": """\
resources: [res.yaml]
patches:
- patch: |
    apiVersion: example.com/v1
    kind: Thing
    metadata:
      name: t
      finalizers: [z]
    spec:
      items:
      - name: b
        v: 2
      absent: null
      gone: null
      nested:
        $patch: replace
        only: 1
      list2:
      - $patch: replace
      - x: 1
"""})
    [obj] = assert_like_kustomize(tmp_path)
    assert obj["spec"]["items"] == [{"name": "b", "v": 2}]
    assert obj["spec"]["kept"] is None and "absent" not in obj["spec"]


def test_smp_with_target_options_and_delete(tmp_path: Path) -> None:
    write(tmp_path, {"res.yaml": DEPLOYMENT + """\
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm
---
apiVersion: v1
kind: Service
metadata:
  name: svc
""", "kustomization.yaml": """\
resources: [res.yaml]
patches:
- target: {kind: Deployment}
  patch: |
    kind: Whatever
    metadata:
      name: ignored
      namespace: ignored-too
    spec:
      replicas: 5
- target: {kind: ConfigMap}
  options: {allowNameChange: true}
  patch: |
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: renamed
    data: {x: "1"}
- patch: |
    apiVersion: v1
    kind: Service
    metadata:
      name: svc
    $patch: delete
"""})
    objs = assert_like_kustomize(tmp_path)
    assert {o["metadata"]["name"] for o in objs} == {"web", "renamed"}


def test_renaming_records_the_previous_id(tmp_path: Path) -> None:
    resources = [Resource({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}}, "res.yaml")]
    entries = [{"target": {"kind": "ConfigMap"}, "options": {"allowNameChange": True},
                "patch": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: renamed}\n"}]
    [res] = apply_patches(resources, entries, DirectoryFiles(tmp_path), "", "kustomization.yaml")
    assert res.name == "renamed"
    assert res.previous_ids == [ResId("", "v1", "ConfigMap", "cm")]


def test_metadata_maps_of_a_targeted_patch_become_string_maps(tmp_path: Path) -> None:
    write(tmp_path, {"res.yaml": """\
apiVersion: v1
kind: ConfigMap
metadata: {name: a, labels: {x: y}, annotations: {p: q}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: b, labels: {x: y}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c, labels: {x: y}}
""", "kustomization.yaml": """\
resources: [res.yaml]
patches:
- target: {name: a}
  patch: |
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: a
      labels: null
      annotations: {n: 1}
- patch: |
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: c
      labels: {v: 2}
      annotations: null
patchesStrategicMerge:
- |
  apiVersion: v1
  kind: ConfigMap
  metadata:
    name: b
    labels: null
"""})
    objs = {o["metadata"]["name"]: o for o in assert_like_kustomize(tmp_path)}
    assert objs["a"]["metadata"]["annotations"]["n"] == "1" and objs["a"]["metadata"]["labels"] == {"x": "y"}
    assert objs["c"]["metadata"]["labels"]["v"] == 2


def test_strategic_merge_never_mutates_its_inputs() -> None:
    original = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                "spec": {"containers": [{"name": "a", "image": "a"}]}}
    patch = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
             "spec": {"containers": [{"name": "a", "$patch": "delete"}]}}
    before = json.dumps([original, patch], sort_keys=True)
    result = strategic_merge(original, patch)
    assert result is not None and result["spec"]["containers"] == []
    assert json.dumps([original, patch], sort_keys=True) == before


def test_smp_service_ports_and_untouched_multi_key_lists(tmp_path: Path) -> None:
    write(tmp_path, {"res.yaml": DEPLOYMENT + """\
---
apiVersion: v1
kind: Service
metadata: {name: svc}
spec:
  ports:
  - port: 80
    targetPort: 8080
  - port: 53
    protocol: UDP
  - port: 53
    protocol: TCP
""", "kustomization.yaml": """\
resources: [res.yaml]
patches:
- patch: |
    apiVersion: v1
    kind: Service
    metadata: {name: svc}
    spec:
      ports:
      - port: 53
        protocol: TCP
        name: dns-tcp
      - port: 443
- patch: |
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      template:
        spec:
          containers:
          - name: a
            image: a2
"""})
    assert_like_kustomize(tmp_path)


def test_smp_adds_lists_and_maps_that_are_missing(tmp_path: Path) -> None:
    write(tmp_path, {"res.yaml": """\
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  template:
    spec:
      containers:
      - name: db
        image: db
""", "kustomization.yaml": """\
resources: [res.yaml]
patches:
- patch: |
    apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: db, annotations: {a: b}}
    spec:
      volumeClaimTemplates:
      - metadata: {name: data}
        spec: {resources: {requests: {storage: 1Gi}}}
      template:
        spec:
          initContainers:
          - name: init
            image: busybox
            env:
            - name: X
              value: "1"
          containers:
          - name: db
            resources:
              limits: {nvidia.com/gpu: 1}
            volumeMounts:
            - name: data
              mountPath: /data
          tolerations:
          - key: gpu
            operator: Exists
"""})
    assert_like_kustomize(tmp_path)


def test_smp_multi_document_patch_file_and_list_kind(tmp_path: Path) -> None:
    write(tmp_path, {"res.yaml": DEPLOYMENT + """\
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
data: {a: "1"}
---
apiVersion: v1
kind: Secret
metadata: {name: s}
""", "patches/many.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec: {replicas: 3}
---
apiVersion: v1
kind: ConfigMapList
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: cm}
  data: {b: "2"}
---
apiVersion: v1
kind: Secret
metadata: {name: s}
stringData: {k: v}
""", "kustomization.yaml": """\
resources: [res.yaml]
patches:
- path: patches/many.yaml
"""})
    objs = {o["kind"]: o for o in assert_like_kustomize(tmp_path)}
    assert objs["ConfigMap"]["data"] == {"a": "1", "b": "2"}


def test_patches_strategic_merge_inline_and_files(tmp_path: Path) -> None:
    write(tmp_path, {"res.yaml": DEPLOYMENT, "replicas.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec: {replicas: 4}
""", "kustomization.yaml": """\
resources: [res.yaml]
patchesStrategicMerge:
- replicas.yaml
- |-
  apiVersion: apps/v1
  kind: Deployment
  metadata: {name: web}
  spec:
    template:
      spec:
        containers:
        - name: c
          image: c2
"""})
    [obj] = assert_like_kustomize(tmp_path)
    assert obj["spec"]["replicas"] == 4


def test_explicit_nulls_in_the_object_and_in_a_new_map(tmp_path: Path) -> None:
    write(tmp_path, {"res.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  minReadySeconds: null
  template:
    spec:
      containers:
      - name: a
        image: a
""", "kustomization.yaml": """\
resources: [res.yaml]
patches:
- patch: |
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      selector:
        matchLabels: {app: web, gone: null}
      template:
        spec:
          containers:
          - name: a
            args: null
            command: [run]
"""})
    assert_like_kustomize(tmp_path)


# --------------------------------------------------------------------------------------------- JSON 6902


def test_json6902_kustomize_quirks(tmp_path: Path) -> None:
    write(tmp_path, {"res.yaml": DEPLOYMENT, "kustomization.yaml": """\
resources: [res.yaml]
patches:
- target: {kind: Deployment}
  patch: |
    - op: replace
      path: /spec/paused
      value: true
    - op: add
      path: /spec/template/spec/containers/0/args
      value: [x, y, z]
    - op: add
      path: /spec/template/spec/containers/0/args/-1
      value: neg
    - op: add
      path: /spec/template/spec/containers/0/args/01
      value: lead
    - op: add
      path: /metadata/labels/novalue
    - op: copy
      from: /metadata/labels/app
      path: /metadata/labels/copied
    - op: move
      from: /spec/template/spec/containers/2
      path: /spec/template/spec/containers/0
    - op: remove
      path: /spec/template/spec/containers/-1
    - op: test
      path: /spec/replicas
      value: 1
    - op: replace
      path: /metadata/finalizers/1
      value: c
"""})
    [obj] = assert_like_kustomize(tmp_path)
    # a JSON 6902 patch written in YAML is read as YAML 1.1: the unquoted `y` is a boolean there
    assert obj["spec"]["template"]["spec"]["containers"][1]["args"] == ["x", "lead", True, "z", "neg"]


def test_json6902_as_json_and_the_legacy_field(tmp_path: Path) -> None:
    write(tmp_path, {"res.yaml": DEPLOYMENT, "ops.json": '[{"op": "add", "path": "/spec/replicas", "value": 7}]',
                     "ops.yaml": "- op: add\n  path: /metadata/annotations\n  value: {a: b}\n",
                     "kustomization.yaml": """\
resources: [res.yaml]
patches:
- path: ops.json
  target: {group: apps, version: v1, kind: Deployment, name: web}
patchesJson6902:
- target: {group: apps, version: v1, kind: Deployment, name: web}
  path: ops.yaml
- target: {kind: Deployment, name: web}
  patch: '[{"op": "replace", "path": "/metadata/name", "value": "renamed"}]'
"""})
    [obj] = assert_like_kustomize(tmp_path)
    assert obj["metadata"]["name"] == "renamed" and obj["spec"]["replicas"] == 7


@pytest.mark.parametrize(("ops", "needle"), [
    ("- op: replace\n  path: /spec/nothere/replicas\n  value: 3",
     "replace operation does not apply: doc is missing path: /spec/nothere/replicas"),
    ("- op: test\n  path: /metadata/labels/app\n  value: zzz", "testing value /metadata/labels/app failed"),
    ("- op: remove\n  path: /metadata/labels/zz", "Unable to remove nonexistent key: zz"),
    ("- op: frobnicate\n  path: /x", "Unexpected kind: frobnicate"),
    ("- op: add\n  path: /spec/template/spec/containers/9\n  value: {}", "Unable to access invalid index: 9"),
])
def test_json6902_errors_carry_kustomizes_message(tmp_path: Path, ops: str, needle: str) -> None:
    indented = "\n".join("    " + line for line in ops.splitlines())
    write(tmp_path, {"res.yaml": DEPLOYMENT, "kustomization.yaml": f"""\
resources: [res.yaml]
patches:
- target: {{kind: Deployment}}
  patch: |
{indented}
"""})
    proc = kustomize(tmp_path)
    assert proc.returncode != 0 and needle in proc.stderr
    with pytest.raises(RenderError) as caught:
        ours(tmp_path)
    assert needle in str(caught.value) and str(caught.value).startswith("kustomization.yaml: patches[0]: ")


def test_apply_operations_leaves_the_input_alone() -> None:
    doc = {"a": {"b": [1, 2.0]}}
    result = apply_operations(doc, [{"op": "add", "path": "/a/c", "value": 1.0}])
    assert result == {"a": {"b": [1, 2], "c": 1}} and isinstance(result["a"]["c"], int)
    assert doc == {"a": {"b": [1, 2.0]}}


# ------------------------------------------------------------------------------------------------ errors

SMP_WEB = "apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: web}\n  spec: {replicas: 2}\n"


@pytest.mark.parametrize(("kustomization", "extra", "needles"), [
    ("patches:\n- patch: |\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata: {name: wbe}\n",
     {}, ["kustomization.yaml: patches[0]: patch target Deployment/wbe not found (did you mean web?)"]),
    ("patches:\n- patch: |\n    apiVersion: apps/v1\n    kind: Deployment\n"
     "    metadata: {name: web, namespace: prod}\n",
     {}, ["patches[0]: patch target Deployment/web in namespace prod not found", "namespace default"]),
    ("patches:\n- patch: |\n    apiVersion: extensions/v1beta1\n    kind: Deployment\n    metadata: {name: web}\n",
     {}, ["patches[0]: patch target Deployment/web not found", "apiVersion apps/v1"]),
    ("patches:\n- target: {kind: Deployment}\n  patch: |\n    apiVersion: apps/v1\n    kind: Deployment\n"
     "    metadata: {name: web}\n    ---\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata: {name: x}\n",
     {}, ["patches[0]: ", "may hold only one"]),
    ("patches:\n- patch: |\n    - op: add\n      path: /spec/paused\n      value: true\n",
     {}, ["patches[0]: ", "needs a `target`"]),
    ("patches:\n- patch: 'x: 1'\n  path: p.yaml\n", {"p.yaml": "x: 1\n"}, ["patches[0]: has both"]),
    ("patches:\n- target: {kind: Deployment}\n", {}, ["patches[0]: expected `patch`"]),
    ("patches:\n- path: ../outside.yaml\n", {}, ["patches[0].path: "]),
    ("patches:\n- path: missing.yaml\n", {}, ["patches[0].path: patch file 'missing.yaml' not found"]),
    ("patches:\n- patch: |\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata: {name: web}\n"
     "    spec: {template: {spec: {containers: {name: a}}}}\n",
     {}, ["patches[0]: cannot apply the inline patch to Deployment/web", "spec.template.spec.containers"]),
    ("patches:\n- patch: |\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata: {name: web}\n"
     "    spec: {template: {$patch: frob}}\n", {}, ["patches[0]: ", "unknown patch strategy 'frob'"]),
    ("patches:\n- pach: |\n    apiVersion: v1\n", {}, ["patches[0]: unknown field 'pach' (did you mean 'patch'?)"]),
    ("patches:\n- target: {kind: 'Deploy(ment'}\n  patch: '[]'\n", {}, ["patches[0].target.kind: invalid regular"]),
    ("patches:\n- target: {labelSelector: 'app in web'}\n  patch: '[{\"op\": \"remove\", \"path\": \"/spec\"}]'\n",
     {}, ["patches[0].target.labelSelector: invalid selector"]),
    ("patches:\n- patch: |\n    apiVersion: apps/v1\n    kind: Deployment\n    spec: {replicas: 2}\n",
     {}, ["patches[0]: the inline patch is neither a strategic merge patch", "no metadata.name"]),
    ("patchesJson6902:\n- target: {kind: Deployment}\n  patch: '[]'\n",
     {}, ["patchesJson6902[0].target.name: must specify the target name"]),
    ("patchesStrategicMerge:\n- nothere.yaml\n", {}, ["patchesStrategicMerge[0]: patch file 'nothere.yaml' not found"]),
    ("patchesStrategicMerge:\n- |\n  " + SMP_WEB.replace("web", "nope"), {},
     ["patchesStrategicMerge[0]: patch target Deployment/nope not found"]),
])
def test_errors_name_the_file_and_the_entry(tmp_path: Path, kustomization: str, extra: dict, needles: list) -> None:
    write(tmp_path / "app", {"res.yaml": DEPLOYMENT, "kustomization.yaml": "resources: [res.yaml]\n" + kustomization,
                             **extra})
    write(tmp_path, {"outside.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"})
    proc = kustomize(tmp_path / "app")
    assert proc.returncode != 0, proc.stdout
    file = "app/kustomization.yaml"
    k = load_one((tmp_path / file).read_bytes(), file)
    resources = load_resources(tmp_path, "app/res.yaml")
    with pytest.raises(RenderError) as caught:
        for name, function in (("patchesStrategicMerge", apply_patches_strategic_merge), ("patches", apply_patches),
                               ("patchesJson6902", apply_patches_json6902)):
            if name in k:
                resources = function(resources, k[name], DirectoryFiles(tmp_path), "app", file)
    message = str(caught.value)
    assert message.startswith(file + ": "), message
    for needle in needles:
        assert needle in message, message


def test_json6902_sees_kustomizes_build_annotations(tmp_path: Path) -> None:
    """During a build kustomize keeps internal annotations on each object (a `patches` JSON patch first
    records the object's id in them): adding one annotation works on an object without any, a copy of the
    whole map shows them, and the values of the rest become strings."""
    write(tmp_path, {"res.yaml": """\
apiVersion: v1
kind: ConfigMap
metadata: {name: a, labels: {n: 1}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: b, annotations: {n: 1, m: true}}
---
apiVersion: v1
kind: Secret
metadata: {name: s}
""", "kustomization.yaml": """\
resources: [res.yaml]
patches:
- target: {kind: ConfigMap}
  patch: '[{"op": "add", "path": "/metadata/annotations/x", "value": "v"}]'
- target: {kind: Secret}
  patch: '[{"op": "copy", "from": "/metadata/annotations", "path": "/stringData"}]'
patchesJson6902:
- target: {kind: ConfigMap, name: a}
  patch: '[{"op": "add", "path": "/metadata/annotations/z", "value": "1"}]'
"""})
    objs = {o["metadata"]["name"]: o for o in assert_like_kustomize(tmp_path)}
    assert objs["s"]["stringData"]["internal.config.kubernetes.io/previousNames"] == "s"
    assert objs["b"]["metadata"]["annotations"] == {"n": "1", "m": "true", "x": "v"}


def test_json6902_without_build_annotations_has_no_annotations_map(tmp_path: Path) -> None:
    write(tmp_path, {"res.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n", "kustomization.yaml": """\
resources: [res.yaml]
patchesJson6902:
- target: {kind: ConfigMap, name: a}
  patch: '[{"op": "add", "path": "/metadata/annotations/z", "value": "1"}]'
"""})
    assert_kustomize_fails(tmp_path, "patchesJson6902[0]: ", "add operation does not apply: doc is missing path")


def namespaced_pair() -> list[Resource]:
    """Two ConfigMaps `cm` as two bases hand them over after setting namespaces a and b."""
    resources = []
    for namespace in ("a", "b"):
        res = Resource({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}}, f"{namespace}/cm.yaml")
        res.rename(namespace=namespace)
        resources.append(res)
    return resources


def write_pair(root: Path, patches: str) -> None:
    for namespace in ("a", "b"):
        write(root, {f"{namespace}/kustomization.yaml": f"namespace: {namespace}\nresources: [cm.yaml]\n",
                     f"{namespace}/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n"})
    write(root, {"top/kustomization.yaml": "resources: [../a, ../b]\npatches:\n" + patches})


def test_patch_matching_by_original_id_must_be_unique(tmp_path: Path) -> None:
    patches = "- patch: |\n    apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: cm}\n    data: {x: '1'}\n"
    write_pair(tmp_path, patches)
    proc = kustomize(tmp_path / "top")
    assert proc.returncode != 0 and "multiple matches" in proc.stderr
    entries = load_one((tmp_path / "top/kustomization.yaml").read_bytes(), "k")["patches"]
    with pytest.raises(RenderError) as caught:
        apply_patches(namespaced_pair(), entries, DirectoryFiles(tmp_path), "top", "top/kustomization.yaml")
    assert "patches[0]: patch target ConfigMap/cm matches 2 objects" in str(caught.value)


def test_patch_by_current_namespace_and_kind_change(tmp_path: Path) -> None:
    patches = """\
- patch: |
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: cm, namespace: b}
    data: {x: "1"}
- options: {allowKindChange: true, allowNameChange: true}
  target: {namespace: a}
  patch: |
    apiVersion: v1
    kind: Secret
    metadata: {name: sec}
    type: Opaque
"""
    write_pair(tmp_path, patches)
    proc = kustomize(tmp_path / "top")
    assert proc.returncode == 0, proc.stderr
    entries = load_one((tmp_path / "top/kustomization.yaml").read_bytes(), "k")["patches"]
    result = apply_patches(namespaced_pair(), entries, DirectoryFiles(tmp_path), "top", "top/kustomization.yaml")
    assert canonical([r.obj for r in result]) == canonical(load_all(proc.stdout, "kustomize"))
    secret = next(r for r in result if r.kind == "Secret")
    assert secret.orig_id() == ResId("", "v1", "ConfigMap", "cm")
    assert ResId("", "v1", "ConfigMap", "cm", "a") in secret.previous_ids


# A corpus of strategic merge corner cases, each compared with kustomize: (object, patch body).
POD_SPEC = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  ownerReferences:
  - {apiVersion: v1, kind: X, name: o1, uid: u1}
  finalizers: [a, b, a]
spec:
  template:
    spec:
      hostAliases:
      - {ip: 1.1.1.1, hostnames: [a]}
      imagePullSecrets: [{name: s1}]
      topologySpreadConstraints:
      - {topologyKey: zone, whenUnsatisfiable: DoNotSchedule, maxSkew: 1}
      - {topologyKey: zone, whenUnsatisfiable: ScheduleAnyway, maxSkew: 2}
      tolerations: [{key: a, operator: Exists}]
      volumes:
      - {name: v1, emptyDir: {}}
      - {name: v2, configMap: {name: c}}
      containers:
      - name: a
        image: a
        env:
        - {name: E1, value: "1"}
        - name: E2
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        ports:
        - {containerPort: 80, protocol: TCP, name: http}
        - {containerPort: 80, protocol: UDP, name: udp}
        volumeMounts:
        - {name: v1, mountPath: /a}
      - name: b
        image: b
"""
SERVICE = """\
apiVersion: v1
kind: Service
metadata: {name: web, labels: {a: b, c: d}}
spec:
  ports:
  - {port: 80, protocol: TCP, targetPort: 8080, name: http}
  - {port: 443, targetPort: 8443, name: https}
"""
WRAPPER = """\
apiVersion: example.com/v1
kind: Wrapper
metadata: {name: web, finalizers: [a]}
spec:
  template:
    apiVersion: apps/v1
    kind: Deployment
    spec:
      template:
        spec:
          containers: [{name: a, image: a}, {name: b, image: b}]
  items: [{name: a}, {name: b}]
"""
CORNER_CASES = {
    "item-without-key-empties-the-list": (POD_SPEC, "spec: {template: {spec: {containers: [{image: x}]}}}"),
    "empty-item": (POD_SPEC, "spec: {template: {spec: {containers: [{name: a}, {}]}}}"),
    "null-in-item": (POD_SPEC, "spec: {template: {spec: {containers: [{name: a, env: [{name: E2, valueFrom: null, "
                               "value: v}]}]}}}"),
    "delete-missing-item": (POD_SPEC, "spec: {template: {spec: {containers: [{name: zz, $patch: delete}]}}}"),
    "replace-list": (POD_SPEC, "spec: {template: {spec: {volumes: [{$patch: replace}, {name: v3, emptyDir: {}}, "
                               "{name: v1, hostPath: {path: /x}}]}}}"),
    "delete-list": (POD_SPEC, "spec: {template: {spec: {volumes: [{$patch: delete}]}}}"),
    "delete-every-item": (POD_SPEC, "spec: {template: {spec: {containers: [{name: a, $patch: delete}, "
                                    "{name: b, $patch: delete}]}}}"),
    "merge-directive": (POD_SPEC, "spec: {template: {$patch: merge, spec: {containers: [{name: b, image: b2}]}}}"),
    "empty-list": (POD_SPEC, "spec: {template: {spec: {containers: []}}}"),
    "null-list": (POD_SPEC, "spec: {template: {spec: {volumes: null}}}"),
    "port-as-string": (POD_SPEC, "spec: {template: {spec: {containers: [{name: a, ports: [{containerPort: '80', "
                                 "protocol: TCP, name: web}]}]}}}"),
    "port-without-protocol": (POD_SPEC, "spec: {template: {spec: {containers: [{name: a, ports: [{containerPort: 80, "
                                        "name: p}]}]}}}"),
    "other-keyed-lists": (POD_SPEC, "spec: {template: {spec: {imagePullSecrets: [{name: s2}], hostAliases: "
                                    "[{ip: 1.1.1.1, hostnames: [b]}, {ip: 2.2.2.2}]}}}"),
    "topology-two-keys": (POD_SPEC, "spec: {template: {spec: {topologySpreadConstraints: [{topologyKey: zone, "
                                    "whenUnsatisfiable: ScheduleAnyway, maxSkew: 5}, "
                                    "{topologyKey: host, maxSkew: 1}]}}}"),
    "owner-references": (POD_SPEC, "metadata: {name: web, ownerReferences: [{uid: u2, name: o2, kind: Y, "
                                   "apiVersion: v1}, {uid: u1, name: o1b}]}"),
    "top-level-replace-is-ignored": (POD_SPEC, "$patch: replace\nspec: {replicas: 1}"),
    "two-containers-reordered": (POD_SPEC, "spec: {template: {spec: {containers: [{name: b, env: "
                                           "[{name: Z, value: z}]}, {name: a, env: [{name: E2, value: x}, "
                                           "{name: E0, value: '0'}]}]}}}"),
    "service-ports": (SERVICE, "spec: {ports: [{port: 443, targetPort: 9443}, {port: 80, name: web}]}"),
    "service-port-new-protocol": (SERVICE, "spec: {ports: [{port: 80, protocol: UDP, name: u}]}"),
    "map-delete": (SERVICE, "spec: {$patch: delete}"),
    "custom-resource-embedding-a-deployment": (WRAPPER, "spec: {template: {spec: {template: {spec: {containers: "
                                                        "[{name: b, image: b2}]}}}}, items: [{name: b, x: 1}]}"),
}


@pytest.mark.parametrize("case", sorted(CORNER_CASES))
def test_strategic_merge_corner_cases(tmp_path: Path, case: str) -> None:
    obj, body = CORNER_CASES[case]
    head = load_all(obj, "res.yaml")[0]
    patch = f"apiVersion: {head['apiVersion']}\nkind: {head['kind']}\n"
    if not body.startswith("metadata"):
        patch += f"metadata: {{name: {head['metadata']['name']}}}\n"
    write(tmp_path, {"res.yaml": obj, "kustomization.yaml": json.dumps({"resources": ["res.yaml"],
                                                                        "patches": [{"patch": patch + body}]})})
    assert_like_kustomize(tmp_path)


def test_a_patch_in_an_overlay_finds_the_object_by_its_base_name(tmp_path: Path) -> None:
    """The base prefixes the name; the overlay's patches name the object by its original and by its
    current name (the overlay's own prefix comes after its patches)."""
    write(tmp_path, {
        "base/kustomization.yaml": "namePrefix: base-\nnamespace: ml\nresources: [res.yaml]\n",
        "base/res.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: '1'}\n",
        "top/kustomization.yaml": """\
namePrefix: top-
resources: [../base]
patches:
- patch: |
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: cm}
    data: {b: "2"}
- patch: |
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: base-cm, namespace: ml}
    data: {c: "3"}
"""})
    proc = kustomize(tmp_path / "top")
    assert proc.returncode == 0, proc.stderr
    [expected] = load_all(proc.stdout, "kustomize")

    res = Resource({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, "data": {"a": "1"}},
                   "base/res.yaml")
    res.rename(namespace="ml")
    res.rename(name="base-cm")
    entries = load_one((tmp_path / "top/kustomization.yaml").read_bytes(), "k")["patches"]
    [patched] = apply_patches([res], entries, DirectoryFiles(tmp_path), "top", "top/kustomization.yaml")
    patched.rename(name="top-base-cm")  # the overlay's prefix, which kustomize applies after the patches
    assert patched.obj == expected


@pytest.mark.parametrize("entry", [
    "- target: {kind: ConfigMap}\n  options: {allowNameChange: true}\n  patch: |\n    apiVersion: v1\n"
    "    kind: ConfigMap\n    metadata: {name: same}\n",
    "- target: {kind: ConfigMap}\n"
    "  patch: '[{\"op\": \"replace\", \"path\": \"/metadata/name\", \"value\": \"same\"}]'\n",
])
def test_renaming_two_objects_to_one_id_fails(tmp_path: Path, entry: str) -> None:
    write(tmp_path, {"res.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n"
                                 "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n",
                     "kustomization.yaml": "resources: [res.yaml]\npatches:\n" + entry})
    assert_kustomize_fails(tmp_path, "kustomization.yaml: patches[0]: ", "two objects have the same id ConfigMap/same")
