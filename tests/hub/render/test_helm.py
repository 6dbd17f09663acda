"""Helm charts as an application source (hub/render/helm.py): a chart with per-region value files renders
what Helm renders.

The oracle is a real `helm` binary (Helm v4): `charts/expected/<case>.yaml` is `helm template --include-crds`
output for each case of `charts/cases.yaml`, written by `charts/regenerate.py`; where a `helm` binary is on PATH
(or named by FLEETLINE_HELM) the tests also run it and check that the recorded outputs are still what it prints.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys

import pytest

from fleetline.yamlsafe import load_all
from hub.render import helm as helm_source
from hub.render.errors import RenderError
from hub.render.files import DirectoryFiles, GitTreeFiles
from hub.render.helm import merge_maps, render_chart, split_manifests

pytest.importorskip("helm_python", reason="needs the optional extra fleetline[helm] (helm-python-sdk)")

CHARTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "charts")
_spec = importlib.util.spec_from_file_location("helm_chart_cases", os.path.join(CHARTS, "regenerate.py"))
_cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_cases)
helm_template = _cases.helm_template
CASES = _cases.load_cases()
CHART = "inference-server"
FILE, FIELD = "fleet.yaml", "applications[0].source.helm"


def _helm_binary() -> str | None:
    return os.environ.get("FLEETLINE_HELM") or shutil.which("helm")


def _render(files, case: dict):
    value_files = [f"{case['chart']}/{path}" for path in case["valueFiles"]]
    return render_chart(files, case["chart"], case["release"], case["namespace"], value_files, case["values"],
                        FILE, FIELD)


def _parse_helm_output(text: str) -> list[tuple[str, dict]]:
    """(`# Source:` path, object) for each object `helm template` printed, in order."""
    out = []
    for doc in split_manifests(text):
        first, _, rest = doc.partition("\n")
        assert first.startswith("# Source: "), first
        source = first.removeprefix("# Source: ")
        out.extend((source, obj) for obj in load_all(rest, source))
    return out


def _expected(case: dict) -> list[tuple[str, dict]]:
    with open(os.path.join(CHARTS, "expected", f"{case['name']}.yaml"), encoding="utf-8") as handle:
        return _parse_helm_output(handle.read())


def _origin(source: str, chart_dir: str) -> str:
    """Where Fleetline says a Helm `# Source:` came from: the template in the repository, else the chart."""
    inside = source.partition("/")[2]
    return f"{chart_dir}/{inside}" if os.path.isfile(os.path.join(CHARTS, chart_dir, inside)) else chart_dir


@pytest.fixture(scope="module")
def files() -> DirectoryFiles:
    return DirectoryFiles(CHARTS)


def _error(**overrides) -> str:
    args = {"files": DirectoryFiles(CHARTS), "chart_dir": CHART, "release_name": "inference", "namespace": "ml",
            "value_files": [], "values": {"modelRegistry": {"url": "https://models.example.com"}}, "file": FILE,
            "field": FIELD}
    args.update(overrides)
    with pytest.raises(RenderError) as caught:
        render_chart(**args)
    return str(caught.value)


# -- what Helm renders -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_renders_what_helm_renders(files, case):
    expected = _expected(case)
    resources = _render(files, case)
    assert [r.obj for r in resources] == [obj for _, obj in expected]
    assert [r.origin for r in resources] == [_origin(source, case["chart"]) for source, _ in expected]


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_recorded_helm_output_is_what_the_helm_binary_prints(files, case):
    helm = _helm_binary()
    if helm is None:
        pytest.skip("no helm binary on PATH (set FLEETLINE_HELM); compared with the recorded helm output instead")
    printed = _parse_helm_output(helm_template(helm, case))
    assert printed == _expected(case), "charts/expected is stale: run charts/regenerate.py"
    assert [r.obj for r in _render(files, case)] == [obj for _, obj in printed]


def test_helm_template_order_crds_then_objects_by_kind_then_hooks(files):
    case = next(c for c in CASES if c["name"] == "us-east-prod")
    kinds = [r.kind for r in _render(files, case)]
    assert kinds == ["CustomResourceDefinition", "CustomResourceDefinition", "PodDisruptionBudget",
                     "ServiceAccount", "ConfigMap", "ConfigMap", "PersistentVolumeClaim", "Service", "Service",
                     "Deployment", "HorizontalPodAutoscaler", "Ingress", "InferenceModel", "ServiceMonitor",
                     "Pod", "Job"]


def test_hooks_keep_their_annotations_and_unknown_hook_types_are_dropped(files):
    case = next(c for c in CASES if c["name"] == "eu-prod")
    resources = _render(files, case)
    hooks = {r.name: r.annotations()["helm.sh/hook"] for r in resources if "helm.sh/hook" in r.annotations()}
    assert hooks == {"inference-inference-server-test-connection": "test",
                     "inference-inference-server-warm-cache": "pre-install,pre-upgrade"}
    assert not any(r.name.endswith("-legacy-hook") for r in resources)  # helm.sh/hook: crd-install


def test_namespace_is_given_to_templates_not_added_to_objects(files):
    case = next(c for c in CASES if c["name"] == "us-east-prod")
    resources = _render(files, case)
    assert all("namespace" not in r.metadata for r in resources)
    monitor = next(r for r in resources if r.kind == "ServiceMonitor")
    assert monitor.obj["spec"]["namespaceSelector"]["matchNames"] == ["ml-serving"]


def test_value_files_merge_in_order_then_inline_values_win(files):
    case = {"chart": CHART, "release": "inference", "namespace": "ml", "valueFiles": ["values-dev.yaml",
            "values-eu.yaml"], "values": {"env": {"WORKERS": "8"}, "model": {"name": "mistral-7b"}}}
    config = next(r for r in _render(files, case) if r.name == "inference-inference-server-config")
    assert config.obj["data"]["LOG_LEVEL"] == "warn"  # values-dev says debug, values-eu (later) says warn
    assert config.obj["data"]["DATA_RESIDENCY"] == "eu"  # values-eu's own key
    assert config.obj["data"]["WORKERS"] == "8"  # inline values on top
    assert config.obj["data"]["MODEL_NAME"] == "mistral-7b"
    assert config.obj["data"]["MODEL_REVISION"] == "2024-06"  # a sibling of the inline key survives the merge


def test_subchart_condition_tags_and_alias_follow_the_values(files):
    def names(value_files, values=None):
        case = {"chart": CHART, "release": "r", "namespace": "ml", "valueFiles": value_files,
                "values": {"modelRegistry": {"url": "https://m"}, **(values or {})}}
        return {f"{r.kind}/{r.name}" for r in _render(files, case)}

    defaults = names([])
    assert "ServiceMonitor/r-gpu-metrics" not in defaults  # condition metrics.enabled: false
    assert "PersistentVolumeClaim/r-model-cache" not in defaults  # tag extras: false
    assert "ConfigMap/r-tracing" in defaults  # a packaged subchart (charts/tracing-0.5.0.tgz), always on
    enabled = names([], {"metrics": {"enabled": True}, "tags": {"extras": True}})
    assert {"ServiceMonitor/r-gpu-metrics", "PersistentVolumeClaim/r-model-cache"} <= enabled
    # the chart object is loaded afresh for every render: the SDK's dependency processing changes it in place
    assert names([]) == defaults


def test_chart_in_a_git_commit_renders_like_the_working_directory(tmp_path, files):
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    shutil.copytree(os.path.join(CHARTS, CHART), tmp_path / "apps" / CHART)
    run = {"cwd": tmp_path, "check": True, "capture_output": True}
    subprocess.run([git, "init", "-q"], **run)
    subprocess.run([git, "add", "-A"], **run)
    subprocess.run([git, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "chart"], **run)
    shutil.rmtree(tmp_path / "apps")  # the commit's tree is read, not the working directory

    case = next(c for c in CASES if c["name"] == "eu-prod")
    tree = GitTreeFiles(tmp_path, "HEAD")
    value_files = [f"apps/{CHART}/{path}" for path in case["valueFiles"]]
    from_git = render_chart(tree, f"apps/{CHART}", case["release"], case["namespace"], value_files, case["values"],
                            FILE, FIELD)
    assert [r.obj for r in from_git] == [r.obj for r in _render(files, case)]
    assert from_git[0].origin == f"apps/{CHART}/crds/inferencemodels.yaml"


def _write_chart(root, templates: dict[str, str], values: str = "") -> DirectoryFiles:
    (root / "c" / "templates").mkdir(parents=True)
    (root / "c" / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 0.1.0\n")
    (root / "c" / "values.yaml").write_text(values)
    for name, text in templates.items():
        (root / "c" / "templates" / name).write_text(text)
    return DirectoryFiles(root)


def test_trailing_blank_lines_of_a_file_stay_in_its_last_document_as_in_helm_4_2(tmp_path):
    # Helm v4.2's SplitManifests trims only leading whitespace (v4.1 trimmed both ends), so a literal block
    # ending a file keeps its final line break.
    files = _write_chart(tmp_path, {"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n"
                                              "  script: |\n    {{- \"echo hi\\n\" | nindent 4 }}\n"})
    [config] = render_chart(files, "c", "r", "ns", [], {}, FILE, FIELD)
    assert config.obj["data"]["script"] == "echo hi\n"


def test_documents_are_split_as_helm_splits_them(tmp_path):
    files = _write_chart(tmp_path, {
        "a.yaml": "\n\n---\n# only a comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
                  "---apiVersion: v1\nkind: Secret\nmetadata: {name: b}\n---   \n\n",
        "empty.yaml": "{{- if false }}\nkind: Nope\n{{- end }}\n",
    })
    assert [r.name for r in render_chart(files, "c", "r", "ns", [], {}, FILE, FIELD)] == ["b", "a"]


def test_split_manifests_and_merge_maps_follow_helm():
    assert split_manifests("  \n---\na: 1\n---b: 2\n  ---\n\n") == ["a: 1", "b: 2\n  ---\n\n"]
    # Go's regexp finds non-overlapping matches: the second `---` keeps its place in the document, as in Helm
    assert split_manifests("a: 1\n   \n---\n---\nb: 2\n") == ["a: 1", "---\nb: 2\n"]
    base = {"a": {"x": 1, "y": 2}, "b": [1, 2], "c": {"k": 1}}
    assert merge_maps(base, {"a": {"y": 3}, "b": [3], "c": None}) == {"a": {"x": 1, "y": 3}, "b": [3], "c": None}
    assert merge_maps({"a": 1}, {"a": {"b": 2}}) == {"a": {"b": 2}}
    assert base["a"] == {"x": 1, "y": 2}  # inputs are not changed


def test_value_files_are_typed_by_helm_yaml_1_1_and_float64(tmp_path):
    files = _write_chart(tmp_path, {"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata:\n"
                                              "  flag: {{ kindOf .Values.flag | quote }}\n"
                                              "  big: {{ .Values.big | quote }}\n"})
    (tmp_path / "values-eu.yaml").write_text("flag: yes\nbig: 2000000\n")
    [config] = render_chart(files, "c", "r", "ns", ["values-eu.yaml"], {}, FILE, FIELD)
    assert config.obj["data"] == {"flag": "bool", "big": "2e+06"}


# -- errors ----------------------------------------------------------------------------------------------------


def test_required_value_missing_names_the_template_and_the_message():
    message = _error(values={})
    assert message.startswith(f"{FILE}: {FIELD}: Helm chart {CHART} cannot be rendered: ")
    assert f"{CHART}/templates/" in message and " line " in message
    assert "modelRegistry.url is required: set it in the environment's value file" in message


def test_missing_value_file_names_the_field():
    message = _error(value_files=[f"{CHART}/values-eu.yaml", f"{CHART}/values-apac.yaml"])
    assert message == (f"{FILE}: {FIELD}.valueFiles[1]: value file '{CHART}/values-apac.yaml' not found in "
                       f"{os.path.realpath(CHARTS)}")


def test_invalid_yaml_in_a_value_file_names_the_file_and_line(tmp_path):
    shutil.copytree(os.path.join(CHARTS, CHART), tmp_path / CHART)
    (tmp_path / "values-bad.yaml").write_text("replicaCount: 2\nenv:\n  A: [1, 2\n")
    message = _error(files=DirectoryFiles(tmp_path), value_files=["values-bad.yaml"])
    assert message.startswith(f"{FILE}: {FIELD}.valueFiles[0]: value file values-bad.yaml:")
    assert "invalid YAML" in message


def test_value_file_that_is_not_a_mapping_is_refused(tmp_path):
    shutil.copytree(os.path.join(CHARTS, CHART), tmp_path / CHART)
    (tmp_path / "values-list.yaml").write_text("- replicaCount: 2\n")
    message = _error(files=DirectoryFiles(tmp_path), value_files=["values-list.yaml"])
    assert message == (f"{FILE}: {FIELD}.valueFiles[0]: value file values-list.yaml: document 1 is a list; Helm "
                       "values must be a mapping of keys to values")


def test_value_file_with_text_after_a_separator_is_refused_like_helm(tmp_path):
    shutil.copytree(os.path.join(CHARTS, CHART), tmp_path / CHART)
    (tmp_path / "values-sep.yaml").write_text("a: 1\n--- {b: 2}\n")  # valid YAML, but not for Helm
    message = _error(files=DirectoryFiles(tmp_path), value_files=["values-sep.yaml"])
    assert "value file values-sep.yaml: line 2: text after the document separator '---' must be a comment" in message


def test_inline_values_must_be_a_mapping():
    assert _error(values=["replicaCount=2"]) == (f"{FILE}: {FIELD}.values: expected a mapping of Helm values, "
                                                 "found list")


def test_values_breaking_the_chart_schema_are_refused():
    message = _error(values={"modelRegistry": {"url": "https://m"}, "replicaCount": -1})
    assert "values don't meet the specifications of the schema" in message
    assert "/replicaCount" in message and "minimum" in message


def test_missing_chart_and_missing_chart_yaml():
    assert _error(chart_dir="charts/none") == (f"{FILE}: {FIELD}: chart directory 'charts/none' not found in "
                                               f"{os.path.realpath(CHARTS)}")
    assert _error(chart_dir=f"{CHART}/templates") == (f"{FILE}: {FIELD}: {CHART}/templates is not a Helm chart: "
                                                      "it has no Chart.yaml")


def test_invalid_release_name():
    assert "release name 'Inference_Server' is not valid for Helm" in _error(release_name="Inference_Server")
    assert "is not valid for Helm" in _error(release_name="x" * 54)


def test_dependency_missing_from_charts_directory(tmp_path):
    shutil.copytree(os.path.join(CHARTS, CHART), tmp_path / CHART)
    shutil.rmtree(tmp_path / CHART / "charts" / "metrics")
    message = _error(files=DirectoryFiles(tmp_path))
    assert message == (f"{FILE}: {FIELD}: Helm chart {CHART}: found in Chart.yaml, but missing in charts/ directory: "
                       "metrics (run `helm dependency build` and commit the charts/ directory)")


def test_template_rendering_invalid_yaml_names_the_template(tmp_path):
    files = _write_chart(tmp_path, {"bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"
                                                "data: {{ .Values.data }}\n"}, values="data: [a, b\n")
    # values.yaml itself is malformed: Helm cannot load the chart
    assert "Helm chart c cannot be loaded" in _error(files=files, chart_dir="c")
    (tmp_path / "c" / "values.yaml").write_text("data: 'a: [b'\n")
    message = _error(files=files, chart_dir="c")
    assert message.startswith(f"{FILE}: {FIELD}: Helm chart c: template c/templates/bad.yaml: renders invalid YAML")


def test_object_without_a_name_is_refused(tmp_path):
    files = _write_chart(tmp_path, {"job.yaml": "apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: x-\n"})
    assert _error(files=files, chart_dir="c") == (f"{FILE}: {FIELD}: Helm chart c: template c/templates/job.yaml: "
                                                  "renders a Job without metadata.name")


def test_symlink_leaving_the_repository_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n")
    repo = tmp_path / "repo"
    files = _write_chart(repo, {})
    os.symlink(outside / "secret.yaml", repo / "c" / "templates" / "secret.yaml")
    message = _error(files=files, chart_dir="c")
    assert "c/templates/secret.yaml" in message and "outside the repository" in message


def test_chart_size_is_bounded(monkeypatch):
    monkeypatch.setattr(helm_source, "MAX_CHART_FILES", 5)
    assert "is too large: more than 5 files" in _error()


def test_without_the_helm_extra_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "helm_python", None)  # makes `import helm_python` raise ImportError
    assert _error() == (f"{FILE}: {FIELD}: Helm chart sources need the optional extra `fleetline[helm]` (the "
                        "helm-python-sdk package): install it with `pip install 'fleetline[helm]'`")
