"""The build pipeline: resources, bases, nested overlays, components, List expansion, local-config, the refused
layouts (cycles, duplicates, missing files), and `fleetline render`, each compared with `kubectl kustomize`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from fleetline.cli import main as fleetline_main
from fleetline.yamlsafe import load_all
from hub.render.build import Builder, render_directory
from hub.render.emit import to_yaml
from hub.render.errors import RenderError
from hub.render.files import DirectoryFiles, GitTreeFiles

needs_kubectl = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not on PATH: no kustomize oracle")

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.25
        envFrom:
        - configMapRef: {name: cfg}
      volumes:
      - name: config
        configMap: {name: cfg}
"""
SERVICE = """\
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
"""
BASE = {
    "base/kustomization.yaml": "resources: [deployment.yaml, service.yaml]\n"
                               "configMapGenerator:\n- name: cfg\n  literals: [mode=base, threads=\"4\"]\n",
    "base/deployment.yaml": DEPLOYMENT,
    "base/service.yaml": SERVICE,
}


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root


def kustomize(root: Path, path: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(["kubectl", "kustomize", str(root / path)], capture_output=True, text=True, timeout=60)


def build(root: Path, path: str = "") -> list[dict]:
    return [res.obj for res in Builder(DirectoryFiles(root)).build(path)]


def assert_like_kustomize(root: Path, path: str = "") -> list[dict]:
    """Our output equals kustomize's: parsed, and printed byte for byte."""
    done = kustomize(root, path)
    assert done.returncode == 0, done.stderr
    mine = build(root, path)
    assert mine == load_all(done.stdout, "kubectl kustomize")
    assert to_yaml(mine) == done.stdout
    return mine


def render_error(root: Path, path: str = "") -> RenderError:
    with pytest.raises(RenderError) as info:
        build(root, path)
    return info.value


def assert_kustomize_fails(root: Path, path: str, words: str) -> None:
    done = kustomize(root, path)
    assert done.returncode != 0 and words in done.stderr, done.stderr


# -- what builds ------------------------------------------------------------------------------------------

@needs_kubectl
def test_resources_from_files_and_directories(tmp_path):
    write(tmp_path, {**BASE, "kustomization.yaml": "resources: [extra.yaml, base]\n",
                     "extra.yaml": SERVICE.replace("name: web", "name: extra")})
    objects = assert_like_kustomize(tmp_path)
    assert [(o["kind"], o["metadata"]["name"][:4]) for o in objects] == [
        ("ConfigMap", "cfg-"), ("Service", "extr"), ("Service", "web"), ("Deployment", "web")]


@needs_kubectl
def test_bases_come_after_resources(tmp_path):
    write(tmp_path, {**BASE, "overlay/kustomization.yaml": "bases: [../base]\nresources: [pod.yaml]\n"
                                                           "sortOptions: {order: fifo}\n",
                     "overlay/pod.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: first}\n"})
    objects = assert_like_kustomize(tmp_path, "overlay")
    assert objects[0]["kind"] == "Pod"


@needs_kubectl
def test_nested_overlays_transform_only_their_own_objects(tmp_path):
    write(tmp_path, {
        **BASE,
        "regions/eu/kustomization.yaml": """\
resources: [../../base]
namespace: eu
namePrefix: eu-
commonLabels: {region: eu}
labels:
- pairs: {team: ml}
  includeTemplates: true
commonAnnotations: {owner: platform}
images:
- {name: nginx, newTag: "1.26"}
replicas:
- {name: web, count: 3}
configMapGenerator:
- name: cfg
  behavior: merge
  literals: [mode=eu]
""",
        "clusters/eu-1/kustomization.yaml": """\
resources: [../../regions/eu, quota.yaml]
nameSuffix: -c1
commonLabels: {cluster: eu-1}
secretGenerator:
- name: token
  literals: [token=abc]
""",
        "clusters/eu-1/quota.yaml": "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: gpu}\n"
                                    "spec: {hard: {requests.nvidia.com/gpu: '8'}}\n",
    })
    objects = assert_like_kustomize(tmp_path, "clusters/eu-1")
    quota = next(o for o in objects if o["kind"] == "ResourceQuota")
    assert "namespace" not in quota["metadata"] and quota["metadata"]["labels"] == {"cluster": "eu-1"}
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    assert deployment["metadata"]["name"] == "eu-web-c1" and deployment["spec"]["replicas"] == 3


@needs_kubectl
def test_components_add_resources_patch_and_merge_into_the_parent(tmp_path):
    write(tmp_path, {
        **BASE,
        "components/gpu/kustomization.yaml": """\
apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
resources: [pdb.yaml]
patches:
- target: {kind: Deployment}
  patch: |
    - op: add
      path: /spec/template/spec/nodeSelector
      value: {gpu: "true"}
configMapGenerator:
- name: cfg
  behavior: merge
  literals: [device=cuda]
""",
        "components/gpu/pdb.yaml": "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web}\n"
                                   "spec: {minAvailable: 1, selector: {matchLabels: {app: web}}}\n",
        "components/prefix/kustomization.yaml": "kind: Component\nnamePrefix: ml-\n",
        "overlay/kustomization.yaml": "resources: [../base]\ncomponents: [../components/gpu, ../components/prefix]\n"
                                      "namespace: ml\n",
    })
    objects = assert_like_kustomize(tmp_path, "overlay")
    assert {o["metadata"]["name"] for o in objects} >= {"ml-web"}
    assert any(o["kind"] == "PodDisruptionBudget" for o in objects)


@needs_kubectl
def test_a_component_directory_builds_on_its_own(tmp_path):
    write(tmp_path, {"c/kustomization.yaml": "kind: Component\nresources: [s.yaml]\nnamePrefix: x-\n",
                     "c/s.yaml": SERVICE})
    assert assert_like_kustomize(tmp_path, "c")[0]["metadata"]["name"] == "x-web"


@needs_kubectl
def test_list_documents_are_expanded_after_the_other_documents(tmp_path):
    write(tmp_path, {"kustomization.yaml": "resources: [list.yaml]\nsortOptions: {order: fifo}\n", "list.yaml": """\
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: ConfigMap, metadata: {name: one}}
- apiVersion: v1
  kind: ConfigMapList
  items:
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: nested}}
- {apiVersion: v1, kind: ConfigMap, metadata: {name: two}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: plain}
---
apiVersion: v1
kind: SecretList
items: null
---
---
"""})
    objects = assert_like_kustomize(tmp_path)
    assert [o["metadata"]["name"] for o in objects] == ["plain", "one", "two", "nested"]


@needs_kubectl
def test_local_config_objects_are_dropped_and_build_annotations_removed(tmp_path):
    write(tmp_path, {"kustomization.yaml": "resources: [objects.yaml]\n", "objects.yaml": """\
apiVersion: v1
kind: ConfigMap
metadata: {name: local, annotations: {config.kubernetes.io/local-config: "true"}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: also-local, annotations: {config.kubernetes.io/local-config: "no"}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: kept, annotations: {config.kubernetes.io/local-config: "false"}}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: bookkeeping
  annotations:
    internal.config.kubernetes.io/previousNames: x
    config.kubernetes.io/origin: y
    config.kubernetes.io/index: "3"
    example.com/stays: z
---
apiVersion: v1
kind: ConfigMap
metadata: {name: empty, annotations: {}, labels: {}}
---
kind: ConfigMap
metadata: {name: no-api-version}
"""})
    objects = assert_like_kustomize(tmp_path)
    assert [o["metadata"]["name"] for o in objects] == ["bookkeeping", "empty", "kept", "no-api-version"]
    assert objects[0]["metadata"]["annotations"] == {"example.com/stays": "z"}
    assert objects[1]["metadata"] == {"labels": {}, "name": "empty"}


def test_render_directory_and_git_tree_give_the_same_objects(tmp_path):
    git = pytest.importorskip("git")
    write(tmp_path, {**BASE, "kustomization.yaml": "resources: [base]\nnamePrefix: p-\n"})
    repo = git.Repo.init(tmp_path)
    repo.index.add([str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file() and ".git" not in p.parts])
    repo.index.commit("manifests")
    committed = render_directory(tmp_path)
    (tmp_path / "kustomization.yaml").write_text("resources: [base]\nnamePrefix: changed-\n")
    from_commit = [res.obj for res in Builder(GitTreeFiles(tmp_path, "HEAD")).build("")]
    assert from_commit == committed and from_commit[1]["metadata"]["name"] == "p-web"
    assert render_directory(tmp_path)[1]["metadata"]["name"] == "changed-web"


def test_accumulate_directory_depends_only_on_the_files(tmp_path):
    write(tmp_path, {**BASE, "a/kustomization.yaml": "resources: [../base]\n"})
    builder = Builder(DirectoryFiles(tmp_path))
    first = [res.obj for res in builder.accumulate_directory("base")]
    builder.build("a")
    again = [res.obj for res in builder.accumulate_directory("base")]
    assert first == again and len(first) == 3
    assert all(res.needs_hash is (res.kind == "ConfigMap") for res in builder.accumulate_directory("base"))


# -- what is refused -----------------------------------------------------------------------------------------

@needs_kubectl
def test_duplicate_ids_name_both_origins(tmp_path):
    write(tmp_path, {**BASE, "kustomization.yaml": "resources: [base, again.yaml]\n", "again.yaml": SERVICE})
    assert_kustomize_fails(tmp_path, "", "may not add resource with an already registered id")
    err = render_error(tmp_path)
    assert err.file == "kustomization.yaml" and err.field == "resources[1]"
    assert "Service/web (core/v1) is declared twice: in base/service.yaml and in again.yaml" in err.message


@needs_kubectl
def test_a_file_listed_twice_is_a_duplicate(tmp_path):
    write(tmp_path, {"kustomization.yaml": "resources: [s.yaml, ./s.yaml]\n", "s.yaml": SERVICE})
    assert_kustomize_fails(tmp_path, "", "already registered id")
    err = render_error(tmp_path)
    assert err.field == "resources[1]" and "declared twice: s.yaml is included twice" in err.message


@needs_kubectl
def test_default_namespace_and_no_namespace_are_the_same_id(tmp_path):
    write(tmp_path, {"kustomization.yaml": "resources: [s.yaml]\n",
                     "s.yaml": SERVICE + "---\n" + SERVICE.replace("name: web}", "name: web, namespace: default}")})
    assert_kustomize_fails(tmp_path, "", "already registered id")
    assert "declared twice in s.yaml" in render_error(tmp_path).message


@needs_kubectl
@pytest.mark.parametrize(("files", "path", "oracle_words", "field", "words"), [
    ({"a/kustomization.yaml": "resources: [../b]\n", "b/kustomization.yaml": "resources: [../a]\n"}, "a",
     "cycle detected", "resources[0]", "cycle between kustomizations: a -> b -> a"),
    ({"a/kustomization.yaml": "resources: [.]\n"}, "a", "cycle detected", "resources[0]",
     "cycle between kustomizations: a -> a"),
    ({"app/o/kustomization.yaml": "resources: [..]\n", "app/kustomization.yaml": "resources: [s.yaml]\n",
      "app/s.yaml": SERVICE}, "app/o", "contains visited root", "resources[0]",
     "'app' contains 'app/o', which is being built (app/o -> app)"),
])
def test_cycles_show_their_path(tmp_path, files, path, oracle_words, field, words):
    write(tmp_path, files)
    assert_kustomize_fails(tmp_path, path, oracle_words)
    err = render_error(tmp_path, path)
    assert err.field == field and words in err.message


@needs_kubectl
def test_missing_file_and_directory_without_kustomization(tmp_path):
    write(tmp_path, {"kustomization.yaml": "resources: [missing.yaml]\n",
                     "k2/kustomization.yaml": "resources: [../plain]\n", "plain/s.yaml": SERVICE})
    assert_kustomize_fails(tmp_path, "", "no such file or directory")
    err = render_error(tmp_path)
    assert (err.file, err.field) == ("kustomization.yaml", "resources[0]")
    assert "'missing.yaml' not found" in err.message
    assert_kustomize_fails(tmp_path, "k2", "unable to find one of 'kustomization.yaml'")
    err = render_error(tmp_path, "k2")
    assert err.file == "plain"
    assert "unable to find one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization' in directory " \
           "'plain'" in err.message and "(included from k2/kustomization.yaml at resources[0])" in err.message


@needs_kubectl
def test_files_outside_the_kustomization_directory_are_refused(tmp_path):
    write(tmp_path, {"k/kustomization.yaml": "resources: [../s.yaml]\n", "s.yaml": SERVICE})
    assert_kustomize_fails(tmp_path, "k", "is not in or below")
    err = render_error(tmp_path, "k")
    assert err.field == "resources[0]" and "file '../s.yaml' is not in or below 'k'" in err.message


@pytest.mark.parametrize(("reference", "words"), [
    ("https://github.com/example/repo//base?ref=v1", "remote resource"),
    ("/etc/kubernetes", "absolute path"),
    ("../../outside", "leaves the repository"),
])
def test_references_leaving_the_repository_are_refused(tmp_path, reference, words):
    write(tmp_path, {"k/kustomization.yaml": f"resources: ['{reference}']\n"})
    err = render_error(tmp_path, "k")
    assert err.field == "resources[0]" and words in err.message


@needs_kubectl
def test_component_and_kustomization_in_the_wrong_field(tmp_path):
    write(tmp_path, {**BASE, "c/kustomization.yaml": "kind: Component\nnamePrefix: x-\n",
                     "as-resource/kustomization.yaml": "resources: [../base, ../c]\n",
                     "as-component/kustomization.yaml": "resources: [../c]\ncomponents: [../base]\n",
                     "file-component/kustomization.yaml": "resources: [../base]\ncomponents: [../base/service.yaml]\n"})
    assert_kustomize_fails(tmp_path, "as-resource", "expected kind != 'Component'")
    err = render_error(tmp_path, "as-resource")
    assert err.file == "c/kustomization.yaml" and "list its directory under components" in err.message
    write(tmp_path, {"as-component/kustomization.yaml": "resources: [s.yaml]\ncomponents: [../base]\n",
                     "as-component/s.yaml": SERVICE.replace("name: web", "name: other")})
    assert_kustomize_fails(tmp_path, "as-component", "expected kind 'Component'")
    err = render_error(tmp_path, "as-component")
    assert err.file == "base/kustomization.yaml" and "found 'Kustomization'" in err.message
    assert "(included from as-component/kustomization.yaml at components[0])" in err.message
    assert_kustomize_fails(tmp_path, "file-component", "file is not directory")
    assert "must be a directory holding a kustomization of kind Component" in \
        render_error(tmp_path, "file-component").message


@needs_kubectl
def test_errors_in_a_base_name_the_base_file(tmp_path):
    write(tmp_path, {**BASE, "base/kustomization.yaml": "resources: [deployment.yaml]\nnamePrefx: b-\n",
                     "overlay/kustomization.yaml": "resources: [../base]\n"})
    assert_kustomize_fails(tmp_path, "overlay", "namePrefx")
    err = render_error(tmp_path, "overlay")
    assert (err.file, err.field) == ("base/kustomization.yaml", "namePrefx")
    assert "did you mean 'namePrefix'?" in err.message


@needs_kubectl
@pytest.mark.parametrize(("manifest", "oracle_words", "field", "words"), [
    ("apiVersion: v1\nmetadata: {name: x}\n", "missing kind", "kind", "document 1 has no kind"),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\n"
     "metadata: {namespace: x}\n", "missing metadata.name", "metadata.name", "document 2 (ConfigMap) has no "
                                                                             "metadata.name"),
    ("- a\n- b\n", "missing Resource metadata", "", "document 1 is not a Kubernetes object"),
    ("apiVersion: v1\nkind: List\nitems: {a: b}\n", "missing Resource metadata", "items",
     "expected a list in List.items"),
])
def test_malformed_manifests_name_the_document(tmp_path, manifest, oracle_words, field, words):
    write(tmp_path, {"kustomization.yaml": "resources: [m.yaml]\n", "m.yaml": manifest})
    assert_kustomize_fails(tmp_path, "", oracle_words)
    err = render_error(tmp_path)
    assert err.file == "m.yaml" and err.field == field and words in err.message
    assert "(listed in kustomization.yaml at resources[0])" in err.message


# -- the command line ----------------------------------------------------------------------------------------

@needs_kubectl
def test_fleetline_render_prints_what_kubectl_kustomize_prints(tmp_path, capsys, monkeypatch):
    write(tmp_path, {**BASE, "overlay/kustomization.yaml": "resources: [../base]\nnamespace: eu\n"
                                                           "commonLabels: {region: eu}\n"})
    expected = kustomize(tmp_path, "overlay").stdout
    assert fleetline_main(["render", "--root", str(tmp_path), str(tmp_path / "overlay")]) == 0
    assert capsys.readouterr().out == expected
    monkeypatch.chdir(tmp_path)  # the default root: the current directory holding DIR
    assert fleetline_main(["render", "overlay"]) == 0
    assert capsys.readouterr().out == expected


def test_fleetline_render_finds_the_git_work_tree(tmp_path, capsys, monkeypatch):
    write(tmp_path, {**BASE, "apps/web/kustomization.yaml": "resources: [../../base]\n"})
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path / "apps")
    assert fleetline_main(["render", "web"]) == 0
    assert [o["kind"] for o in load_all(capsys.readouterr().out, "out")] == ["ConfigMap", "Service", "Deployment"]


def test_fleetline_render_reports_errors_on_stderr(tmp_path, capsys, monkeypatch):
    write(tmp_path, {"app/kustomization.yaml": "resources: [nope.yaml]\n", "other/kustomization.yaml":
                     "resources: [../app]\n"})
    monkeypatch.chdir(tmp_path)
    assert fleetline_main(["render", "app"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "error: app/kustomization.yaml: resources[0]: 'nope.yaml' not found: no file or directory " \
                           "'app/nope.yaml' in the repository\n"
    assert fleetline_main(["render", "--root", "other", "other"]) == 1
    assert "'../app' leaves the repository" in capsys.readouterr().err
    assert fleetline_main(["render", "absent"]) == 1
    assert "not a directory" in capsys.readouterr().err


@needs_kubectl
def test_numbers_come_out_as_kustomize_json_round_trip_leaves_them(tmp_path):
    write(tmp_path, {"kustomization.yaml": "resources: [w.yaml]\n", "w.yaml": """\
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
spec: {cpu: 1.0, exp: 1e3, half: 0.5, small: 0.000001, big: 1234567.5, negzero: -0.0, huge: 100000000000000000000000,
       unsigned: 12345678901234567890, hex: 0x1F, list: [2.0, 2.5]}
"""})
    spec = assert_like_kustomize(tmp_path)[0]["spec"]
    assert spec["cpu"] == 1 and isinstance(spec["cpu"], int) and isinstance(spec["huge"], float)
