"""`replacements` against kubectl kustomize: sources, targets, path syntax, options, files, and errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.render.errors import RenderError
from hub.render.files import DirectoryFiles
from hub.render.resource import Resource
from hub.render.transforms.replacements import apply_replacements, split_path
from tests.hub.render.conftest import Oracle, write_tree
from tests.hub.render.test_generators import assert_same_objects, ours

TARGET = "  targets: [{select: {kind: Service}, fieldPaths: [metadata.labels.x], options: {create: true}}]"

RESOURCES = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: src
  labels: {role: source}
data:
  num: "5"
  word: hello
  list: a,b,c
  image: registry.example.com/team/app:1.2.3
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {tier: front}
spec:
  replicas: 1
  template:
    metadata:
      annotations: {keep: me}
    spec:
      containers:
      - name: app
        image: nginx:1
        args: ["--port", "8080", "--mode=fast"]
        env:
        - {name: FLAG, value: "true"}
        - {name: COUNT, value: 7}
        - {name: RATIO, value: 0.5}
      - name: myapp-sidecar
        image: envoy:1
      - name: other
        image: busybox
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
  labels: {tier: back}
spec:
  replicas: 2
  template:
    spec:
      containers:
      - name: app
        image: worker:1
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
"""

REPLACEMENTS = """
replacements:
- source: {kind: ConfigMap, name: src, fieldPath: data.num}
  targets:
  - select: {kind: Deployment}
    fieldPaths: [spec.replicas]
  - select: {kind: Deployment, name: web}
    fieldPaths:
    - spec.template.spec.containers.[name=app].env.[name=COUNT].value
    - spec.template.spec.containers.[name=app].env.[name=FLAG].value
    - spec.template.spec.containers.[name=app].env.[name=RATIO].value
- source: {kind: ConfigMap, name: src, fieldPath: data.word}
  targets:
  - select: {kind: Deployment, name: web}
    fieldPaths: ["spec.template.spec.containers.[name=app].image"]
  - select: {labelSelector: tier=back}
    fieldPaths: [metadata.annotations.word, spec.template.metadata.labels.word, "spec.extra.0", "spec.list.[=x]"]
    options: {create: true}
- source: {kind: ConfigMap, fieldPath: data.list, options: {delimiter: ",", index: 2}}
  targets:
  - select: {kind: Deployment}
    reject: [{name: worker}]
    fieldPaths: ["spec.template.spec.containers.0.args.2"]
    options: {delimiter: "=", index: 1}
  - select: {kind: Deployment}
    reject: [{labelSelector: tier=front}]
    fieldPaths: ["spec.template.spec.containers.0.image"]
    options: {delimiter: ":", index: 5}
  - select: {kind: Service}
    fieldPaths: [metadata.annotations.first]
    options: {delimiter: "-", index: -1, create: true}
- source: {kind: ConfigMap, name: src, fieldPath: data.image, options: {delimiter: ":", index: 1}}
  targets:
  - select: {name: web, kind: Service}
    fieldPaths: [spec.selector.version]
    options: {create: true}
- source: {kind: Deployment, name: web, fieldPath: "spec.template.spec.containers.[name=app]"}
  targets:
  - select: {kind: Deployment, name: worker}
    fieldPaths: [spec.template.spec.containers.0, spec.copied]
    options: {create: true}
- source: {kind: Service, name: web, fieldPath: spec.ports.0.targetPort}
  targets:
  - select: {kind: Deployment, name: web}
    fieldPaths: ["spec.template.spec.containers.*.ports.0.containerPort"]
    options: {create: true}
- source: {kind: Deployment, name: web, fieldPath: spec.template.metadata.annotations}
  targets:
  - select: {kind: Service}
    fieldPaths: [spec.selector]
"""


def _tree(root: Path, kustomization: str, resources: str = RESOURCES, extra: dict | None = None) -> Path:
    return write_tree(root, {"kustomization.yaml": kustomization, "res.yaml": resources, **(extra or {})})


def test_replacements_equal_kustomize(tmp_path: Path, kustomize_oracle: Oracle) -> None:
    root = _tree(tmp_path, "resources: [res.yaml]\n" + REPLACEMENTS)
    expected = kustomize_oracle.build(root)
    actual = ours(root)
    assert_same_objects(expected, actual)
    web = next(d for d in actual if d["metadata"]["name"] == "web" and d["kind"] == "Deployment")
    containers = web["spec"]["template"]["spec"]["containers"]
    assert web["spec"]["replicas"] == 5  # an integer target stays an integer
    assert [c["image"] for c in containers[:2]] == ["hello", "hello"]  # [name=app] also matches myapp-sidecar
    assert containers[0]["env"][1]["value"] == 5 and containers[0]["env"][0]["value"] == "5"


def test_replacements_from_files_and_after_renames(tmp_path: Path, kustomize_oracle: Oracle) -> None:
    root = _tree(tmp_path, """
namePrefix: p-
resources: [res.yaml]
configMapGenerator:
- name: generated
  literals: [k=v]
replacements:
- path: repl/list.yaml
- path: repl/one.yaml
- source: {kind: ConfigMap, name: generated}
  targets:
  - select: {kind: Deployment, name: p-web}
    fieldPaths: [metadata.annotations.config-name]
    options: {create: true}
""", extra={
        "repl/list.yaml": """
- source: {kind: ConfigMap, name: src, fieldPath: data.word}
  targets:
  - select: {kind: Service}
    fieldPaths: [metadata.labels.word]
    options: {create: true}
- source: {kind: Service, name: p-web}
  targets:
  - select: {kind: Deployment, name: web}
    fieldPaths: [spec.serviceName]
    options: {create: true}
""",
        "repl/one.yaml": """
source: {kind: Deployment, name: worker, fieldPath: spec.replicas}
targets:
- select: {kind: ConfigMap, name: src}
  fieldPaths: [data.num]
---
ignored: this second document is not read, as in kustomize
""",
    })
    assert_same_objects(kustomize_oracle.build(root), ours(root))


def test_value_types_and_rejects_equal_kustomize(tmp_path: Path, kustomize_oracle: Oracle) -> None:
    """Created fields are typed by their text ("true" becomes a boolean, "" stays a string); existing fields keep
    their type; a reject by id and a reject by labels each exclude objects."""
    root = write_tree(tmp_path, {"res.yaml": """
apiVersion: v1
kind: ConfigMap
metadata: {name: src}
data: {t: "true", f: "1.50", s: "hello world", e: "", i: "42"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: dst, labels: {a: b}}
data: {x: "1"}
spec: {num: 3, ratio: 0.5, on: false, text: "x"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: other, labels: {a: c}}
""", "kustomization.yaml": """
resources: [res.yaml]
replacements:
- source: {kind: ConfigMap, name: src, fieldPath: data.t}
  targets: [{select: {name: dst}, fieldPaths: [spec.t, spec.list.0, spec.on], options: {create: true}}]
- source: {kind: ConfigMap, name: src, fieldPath: data.f}
  targets: [{select: {name: dst}, fieldPaths: [spec.f, spec.ratio], options: {create: true}}]
- source: {kind: ConfigMap, name: src, fieldPath: data.i}
  targets: [{select: {name: dst}, fieldPaths: [spec.num, spec.i, spec.text], options: {create: true}}]
- source: {kind: ConfigMap, name: src, fieldPath: data.e}
  targets: [{select: {name: dst}, fieldPaths: [spec.e, data.x], options: {create: true}}]
- source: {kind: ConfigMap, name: dst, fieldPath: spec.num}
  targets: [{select: {name: src}, fieldPaths: [data.s]}]
- source: {kind: ConfigMap, name: src, fieldPath: data.s}
  targets:
  - select: {kind: ConfigMap}
    reject: [{name: src}, {labelSelector: a=c}]
    fieldPaths: [spec.r]
    options: {create: true}
"""})
    expected = kustomize_oracle.build(root)
    actual = ours(root)
    assert_same_objects(expected, actual)
    spec = next(d for d in actual if d["metadata"]["name"] == "dst")["spec"]
    assert (spec["t"], spec["list"], spec["e"], spec["num"], spec["text"], spec["r"]) == (True, [True], "", 42, "42",
                                                                                         42)


@pytest.mark.parametrize(("replacement", "field", "message", "kustomize_says"), [
    ("- source: {kind: ConfigMap, name: nope}\n" + TARGET,
     "replacements[0].source", "no object matches the replacement source {kind=ConfigMap, name=nope}",
     "nothing selected by"),
    ("- source: {kind: Deployment}\n" + TARGET,
     "replacements[0].source", "matches several objects", "multiple matches for selector"),
    ("- source: {kind: ConfigMap, name: src, fieldPath: data.missing}\n" + TARGET,
     "replacements[0].source", "fieldPath 'data.missing' is missing", "is missing for replacement source"),
    ("- source: {kind: ConfigMap, name: src, fieldPath: data.list, options: {delimiter: ',', index: 3}}\n"
     + TARGET, "replacements[0].source", "options.index 3 is out of range", "is out of bounds"),
    ("- source: {kind: ConfigMap, name: src, fieldPath: data.*}\n" + TARGET,
     "replacements[0].source", "'*' is not supported", "wildcard is not supported"),
    ("- source: {kind: ConfigMap, name: src, fieldPath: data.word}\n  targets:\n  - select: {kind: Service}\n"
     "    fieldPaths: [spec.nothere.x]", "replacements[0].targets[0].fieldPaths[0]",
     "field 'spec.nothere.x' not found in Service/web", "unable to find field"),
    ("- source: {kind: ConfigMap, name: src, fieldPath: data.word}\n  targets:\n  - select: {kind: Deployment}\n"
     "    fieldPaths: [spec.replicas]", "replacements[0].targets[0].fieldPaths[0]",
     "holds an integer (1), and the replacement value 'hello' is not one", "as a !!int"),
    ("- source: {kind: ConfigMap, name: src, fieldPath: data.word}\n  targets:\n  - select: {kind: Deployment}\n"
     "    fieldPaths: [spec.template.spec.containers.7.image]", "replacements[0].targets[0].fieldPaths[0]",
     "index 7 specified but only 3 elements found", "index 7 specified but only 3 elements found"),
    ("- source: {kind: ConfigMap, name: src, fieldPath: data.word}\n  targets:\n  - select: {kind: Deployment}\n"
     "    fieldPaths: [spec.template.spec.containers.image]", "replacements[0].targets[0].fieldPaths[0]",
     "'image' names a field, but the value there is a list", "wrong node kind"),
    ("- source: {kind: ConfigMap, name: src, fieldPath: data.word}\n  targets:\n  - select: {kind: Deployment}\n"
     "    fieldPaths: [spec.template]\n    options: {delimiter: '-'}", "replacements[0].targets[0].fieldPaths[0]",
     "options.delimiter needs a single value", "delimiter option can only be used with scalar nodes"),
    ("- source: {kind: ConfigMap, name: src}\n  targets:\n  - fieldPaths: [metadata.name]",
     "replacements[0].targets[0].select", "a target must say which objects to select", "must specify resources"),
    ("- source: {kind: ConfigMap, name: src}\n  targets: []", "replacements[0].targets",
     "a replacement must have a source and at least one target", "must specify a source and at least one target"),
    ("- path: r.yaml\n  source: {kind: ConfigMap}", "replacements[0]", "cannot also have source",
     "cannot specify both path and inline replacement"),
])
def test_replacement_errors(tmp_path: Path, kustomize_oracle: Oracle, replacement: str, field: str, message: str,
                            kustomize_says: str) -> None:
    root = _tree(tmp_path, f"resources: [res.yaml]\nreplacements:\n{replacement}\n", extra={"r.yaml": "{}"})
    result = kustomize_oracle.run(root)
    assert not result.ok and kustomize_says in result.stderr
    with pytest.raises(RenderError) as info:
        ours(root)
    assert info.value.file == "kustomization.yaml"
    assert info.value.field == field
    assert message in info.value.message


# ------------------------------------------------------------------------------------------ unit checks


def _deployment() -> Resource:
    return Resource(obj={"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                         "spec": {"replicas": 1}}, origin="res.yaml")


@pytest.mark.parametrize(("raw", "field", "message"), [
    ("notalist", "replacements", "expected a list of replacements"),
    ([{"source": {"kind": "ConfigMap", "fieldpath": "x"}, "targets": [{}]}], "replacements[0].source.fieldpath",
     "unknown field 'fieldpath'"),
    ([{"source": {"kind": "Deployment"}, "targets": [{"select": {"kind": "X", "labelSelector": "a in ("}}]}],
     "replacements[0].targets[0].select.labelSelector", "invalid selector"),
    ([{"source": {"kind": "Deployment", "options": {"index": "1"}}, "targets": [{}]}],
     "replacements[0].source.options.index", "expected an integer"),
    ([{"source": {"kind": "Deployment"}, "targets": [{"select": {"kind": "Deployment"}, "fieldPaths": "a.b"}]}],
     "replacements[0].targets[0].fieldPaths", "expected a list of field paths"),
    ([{"path": "../outside.yaml"}], "replacements[0].path", "is not in or below app"),
    ([{"path": "missing.yaml"}], "replacements[0].path", "not found"),
])
def test_invalid_replacements(tmp_path: Path, raw: object, field: str, message: str) -> None:
    root = write_tree(tmp_path, {"outside.yaml": "{}", "app/kustomization.yaml": ""})
    with pytest.raises(RenderError) as info:
        apply_replacements([_deployment()], raw, DirectoryFiles(root), "app", "app/kustomization.yaml")
    assert (info.value.file, info.value.field) == ("app/kustomization.yaml", field)
    assert message in info.value.message


def test_errors_in_a_replacement_file_name_that_file(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"app/r.yaml": "- source: {kind: Deployment}\n  targets: [{select: {}, x: 1}]\n"})
    with pytest.raises(RenderError) as info:
        apply_replacements([_deployment()], [{"path": "r.yaml"}], DirectoryFiles(root), "app", "app/k.yaml")
    assert (info.value.file, info.value.field) == ("app/r.yaml", "[0].targets[0].x")


def test_split_path() -> None:
    assert split_path("spec.template.spec.containers.[name=a.b].image") == \
        ["spec", "template", "spec", "containers", "[name=a.b]", "image"]
    assert split_path("metadata.annotations.[example.com/x]") == ["metadata", "annotations", "example.com/x"]
    assert split_path("metadata.labels.a\\.b") == ["metadata", "labels", "a.b"]
