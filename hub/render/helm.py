"""Helm charts as an application source: what `helm template --include-crds` prints, rendered in-process.

Owns turning a chart directory of the repository, a release name, a namespace, value files and inline values
into the list of objects Helm would render, through the optional `helm-python-sdk` package (`fleetline[helm]`),
which embeds Helm v4's own engine: no `helm` binary runs. Reads the chart only through a `RepoFiles` view
(so a Git commit's tree works as well as a directory) and never outside `chart_dir`.

What comes from Helm itself (the SDK's `Chart.render`): chart loading (`.helmignore`, subcharts as
directories or archives under `charts/`), dependency processing (`condition`, `tags`, `alias`,
`import-values`), value coalescing with the chart's defaults (a `null` deletes a default), the chart's
`values.schema.json`, and the template engine itself (`.Values`, `.Release`, `.Chart`, `.Capabilities`
with Helm's defaults, `include`, `tpl`, `required`, `.Files`; `lookup` returns nothing, as in `helm
template`). What this module does the way `helm template` does it after the engine (Helm v4.2,
`pkg/action/action.go` renderResources, `pkg/release/v1/util/manifest_sorter.go`, `pkg/cmd/template.go`):

- value files are read one by one (each may hold several YAML documents) with Helm's own YAML reading
  (YAML 1.1 typing, numbers as float64), and merged in order with Helm's `MergeMaps`; the inline values go
  on top the same way (as Argo CD passes them: one more values file);
- `NOTES.txt` and partials (`_*.tpl`) are dropped, each rendered file is split on `---` as Helm splits it;
- documents with a `helm.sh/hook` annotation are hooks; hooks of unknown types are dropped, as Helm drops
  them; hooks keep their annotations (the agent decides what a hook means);
- the output order is `helm template`'s: the chart's `crds/` files first (as with `--include-crds`, which
  is what Argo CD passes), then the other objects sorted by Helm's kind install order (stable within a kind,
  in template path order then document order), then the hooks sorted the same way;
- `metadata.namespace` is left as the templates wrote it: Helm sets `.Release.Namespace` for templates to
  use and never adds a namespace to objects itself.

Rendered documents are read with `fleetline.yamlsafe` (YAML 1.2, like kustomize), so the output can go
through the same pipeline as any manifest. See docs/helm-source.md.
"""

from __future__ import annotations

import os
import posixpath
import re
import tempfile
from dataclasses import dataclass
from types import ModuleType

from fleetline.yamlsafe import MAX_DOCUMENT_BYTES, YamlError, load_all
from hub.render.errors import RenderError
from hub.render.files import RepoFiles
from hub.render.resource import Resource

# Bounds on what one chart may hold once copied out of the repository for the engine.
MAX_CHART_FILES = 10_000
MAX_CHART_BYTES = 64 * 1024 * 1024
MAX_CHART_DEPTH = 32

# Helm's InstallOrder (pkg/release/v1/util/kind_sorter.go, Helm v4.2): kinds not listed come last, sorted by kind.
INSTALL_ORDER = (
    "PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
    "PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass",
    "PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole", "ClusterRoleList",
    "ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding", "RoleBindingList",
    "Service", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment",
    "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService",
    "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
)
_KIND_RANK = {kind: index for index, kind in enumerate(INSTALL_ORDER)}

HOOK_ANNOTATION = "helm.sh/hook"
# The hook events Helm knows (pkg/release/v1/util/manifest_sorter.go); `test-success` is Helm 2's name for `test`.
HOOK_EVENTS = frozenset({
    "pre-install", "post-install", "pre-delete", "post-delete", "pre-upgrade", "post-upgrade",
    "pre-rollback", "post-rollback", "test", "test-success",
})

_NOTES_SUFFIX = "NOTES.txt"
_MANIFEST_SEPARATOR = re.compile(r"(?:^|[\t\n\f\r ]*\n)---[\t\n\f\r ]*")  # Helm's SplitManifests
_VALUES_SEPARATOR = re.compile(r"^---(?P<rest>.*)$")  # k8s YAMLReader: a line starting with ---
_TEMPLATE_POSITION = re.compile(r"(?:template: |\()(?P<path>[^\s:()]+):(?P<line>\d+)(?::\d+)?")


@dataclass
class _Manifest:
    """One rendered document on its way to the output, with what Helm's sorter reads from it."""

    source: str  # the path Helm names it by: `<chart name>/templates/deployment.yaml`
    obj: dict
    kind: str


def render_chart(files: RepoFiles, chart_dir: str, release_name: str, namespace: str, value_files: list[str],
                 values: dict, file: str, field: str) -> list[Resource]:
    """The objects `helm template RELEASE CHART --namespace NS --include-crds -f F1 -f F2 ... (values)` prints.

    `chart_dir` and `value_files` are repository paths read through `files`; value files are merged in order,
    then `values` on top. `file`/`field` name where the chart source is declared (e.g. `fleet.yaml` and
    `applications[2].source.helm`); every error is a RenderError naming them and the chart or values file
    at fault. Objects come in `helm template`'s order, each with the repository path of its template (or
    `chart_dir` when it came from a packaged subchart) as its origin.
    """
    helm = _sdk(file, field)
    _check_release_name(helm, release_name, file, field)
    if not isinstance(namespace, str):
        raise RenderError(file, f"expected the destination namespace as a string, found {namespace!r}", field)
    if files.kind(chart_dir) != "dir":
        raise RenderError(file, f"chart directory {chart_dir or '.'!r} not found in {files.label}", field)
    if files.kind(_join(chart_dir, "Chart.yaml")) != "file":
        raise RenderError(file, f"{chart_dir or '.'} is not a Helm chart: it has no Chart.yaml", field)
    user_values = _user_values(helm, files, value_files, values, file, field)

    with tempfile.TemporaryDirectory(prefix="fleetline-chart-") as scratch:
        root = os.path.join(scratch, "chart")
        _Copier(files, chart_dir, file, field).copy_tree(chart_dir, root, 0)
        where = _Where(chart_dir, scratch, file, field)
        try:
            chart = helm.Chart.load(root)
        except helm.HelmError as exc:
            raise where.error("cannot be loaded", exc) from exc
        try:
            _check_dependencies(chart, where)
            # The SDK processes dependencies inside render and changes the loaded chart as it does (as Helm's
            # install action does): a chart object must serve one render only, and its CRDs are read after.
            rendered = chart.render(user_values, name=release_name, namespace=namespace or "default",
                                    revision=1, is_install=True)
            crds = chart.crds
        except helm.HelmError as exc:
            raise where.error("cannot be rendered", exc) from exc
        finally:
            chart.close()

    manifests, hooks = _sort_rendered(rendered, where)
    out = [_resource(m, files, where) for m in _crd_manifests(crds, where)]
    out.extend(_resource(m, files, where) for m in manifests)
    out.extend(_resource(m, files, where) for m in hooks)
    return out


# -- the optional dependency ---------------------------------------------------------------------------------


def _sdk(file: str, field: str) -> ModuleType:
    try:
        import helm_python
    except ImportError as exc:
        raise RenderError(file, "Helm chart sources need the optional extra `fleetline[helm]` (the helm-python-sdk "
                                "package): install it with `pip install 'fleetline[helm]'`", field) from exc
    except Exception as exc:  # the package is there but its native library cannot be loaded (HelmLibraryError)
        raise RenderError(file, f"the helm-python-sdk package cannot load its native library: {exc}", field) from exc
    return helm_python


def _check_release_name(helm: ModuleType, release_name: str, file: str, field: str) -> None:
    try:
        if not isinstance(release_name, str):
            raise helm.HelmInvalidArgError("not a string")
        helm.validate_release_name(release_name)
    except helm.HelmError as exc:
        raise RenderError(file, f"release name {release_name!r} is not valid for Helm: use at most 53 lowercase "
                                "letters, digits, '-' and '.', starting and ending with a letter or digit",
                          field) from exc


# -- values ----------------------------------------------------------------------------------------------


def merge_maps(base: dict, override: dict) -> dict:
    """Helm's MergeMaps (the `-f` merge): `override` wins; maps present in both are merged recursively."""
    out = dict(base)
    for key, value in override.items():
        current = out.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            out[key] = merge_maps(current, value)
        else:
            out[key] = value
    return out


def _user_values(helm: ModuleType, files: RepoFiles, value_files: list[str], values: dict, file: str,
                 field: str) -> dict:
    if not isinstance(value_files, list):
        raise RenderError(file, f"expected a list of value file paths, found {value_files!r}", f"{field}.valueFiles")
    merged: dict = {}
    for index, path in enumerate(value_files):
        where = f"{field}.valueFiles[{index}]"
        if not isinstance(path, str) or not path:
            raise RenderError(file, f"expected a repository path, found {path!r}", where)
        if files.kind(path) != "file":
            raise RenderError(file, f"value file {path!r} not found in {files.label}", where)
        merged = merge_maps(merged, _read_value_file(helm, path, files.read(path), file, where))
    if values is None:
        return merged
    if not isinstance(values, dict):
        raise RenderError(file, f"expected a mapping of Helm values, found {type(values).__name__}", f"{field}.values")
    return merge_maps(merged, values)


def _read_value_file(helm: ModuleType, path: str, data: bytes, file: str, where: str) -> dict:
    """One value file as Helm's `-f` reads it: every YAML document, each typed by Helm, merged in order."""
    try:
        for index, doc in enumerate(load_all(data, path)):  # the bounds (size, depth, aliases) first
            if not isinstance(doc, dict):
                raise RenderError(file, f"value file {path}: document {index + 1} is a {_type_name(doc)}; Helm values "
                                        "must be a mapping of keys to values", where)
    except YamlError as exc:
        raise RenderError(file, f"value file {exc}", where) from exc
    text = data.decode("utf-8-sig")
    merged: dict = {}
    for number, chunk in enumerate(_value_documents(text, path, file, where), start=1):
        try:
            doc = helm.values_from_yaml(chunk)
        except helm.HelmError as exc:
            raise RenderError(file, f"value file {path}: document {number}: {exc}", where) from exc
        merged = merge_maps(merged, doc)
    return merged


def _value_documents(text: str, path: str, file: str, where: str) -> list[str]:
    """Split a values stream the way Kubernetes' YAMLReader (Helm's `-f` reader) does: on lines that start
    with `---` and hold nothing else but spaces or a comment."""
    docs: list[str] = []
    current: list[str] = []
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        match = _VALUES_SEPARATOR.match(line.rstrip("\r\n"))
        if match is None:
            current.append(line)
            continue
        rest = match.group("rest").strip()
        if rest and not rest.startswith("#"):
            raise RenderError(file, f"value file {path}: line {number}: text after the document separator "
                                    f"'---' must be a comment, found {rest!r}", where)
        if current:
            docs.append("".join(current))
        current = []
    if current:
        docs.append("".join(current))
    return docs


def _type_name(value: object) -> str:
    return {list: "list", str: "string", bool: "boolean", int: "number", float: "number"}.get(type(value), "value")


# -- copying the chart out of the repository ------------------------------------------------------------------


@dataclass
class _Copier:
    """Writes the files under `chart_dir` into a scratch directory, within the bounds above.

    Only regular files and directories are written (symlinks are resolved by the repository view, which
    refuses those leaving the repository), so nothing the engine reads can lie outside the chart."""

    files: RepoFiles
    chart_dir: str
    file: str
    field: str
    count: int = 0
    size: int = 0

    def copy_tree(self, path: str, target: str, depth: int) -> None:
        if depth > MAX_CHART_DEPTH:
            raise RenderError(self.file, f"chart {self.chart_dir}: {path} is nested more than {MAX_CHART_DEPTH} "
                                         "directories deep (a symlink loop?)", self.field)
        os.mkdir(target)
        for name in self.files.listdir(path):
            if name in ("", ".", "..") or "/" in name or "\\" in name or "\0" in name:
                raise RenderError(self.file, f"chart {self.chart_dir}: unusable file name {name!r} in {path}",
                                  self.field)
            child = _join(path, name)
            kind = self.files.kind(child)
            if kind == "dir":
                self.copy_tree(child, os.path.join(target, name), depth + 1)
            elif kind == "file":
                self.copy_file(child, os.path.join(target, name))

    def copy_file(self, path: str, target: str) -> None:
        data = self.files.read(path)
        self.count += 1
        self.size += len(data)
        if self.count > MAX_CHART_FILES or self.size > MAX_CHART_BYTES:
            raise RenderError(self.file, f"chart {self.chart_dir} is too large: more than {MAX_CHART_FILES} files "
                                         f"or {MAX_CHART_BYTES} bytes", self.field)
        with open(target, "xb") as handle:
            handle.write(data)


@dataclass
class _Where:
    """Turns the engine's names (scratch paths, `<chart name>/templates/...`) back into repository paths."""

    chart_dir: str
    scratch: str
    file: str
    field: str

    def repo_path(self, helm_name: str) -> str:
        """`mychart/templates/x.yaml` -> `<chart_dir>/templates/x.yaml` (the chart's own name comes first)."""
        _, _, inside = helm_name.partition("/")
        return _join(self.chart_dir, inside) if inside else self.chart_dir

    def error(self, what: str, exc: Exception) -> RenderError:
        detail = str(exc).replace(os.path.join(self.scratch, "chart"), self.chart_dir or ".")
        detail = detail.replace(self.scratch, self.chart_dir or ".").strip()
        match = _TEMPLATE_POSITION.search(detail)
        if match:
            where = f"{self.repo_path(match.group('path'))} line {match.group('line')}"
            return RenderError(self.file, f"Helm chart {self.chart_dir or '.'} {what}: {where}: {detail}", self.field)
        return RenderError(self.file, f"Helm chart {self.chart_dir or '.'} {what}: {detail}", self.field)

    def manifest_error(self, source: str, message: str) -> RenderError:
        return RenderError(self.file, f"Helm chart {self.chart_dir or '.'}: template {self.repo_path(source)}: "
                                      f"{message}", self.field)


def _check_dependencies(chart: object, where: _Where) -> None:
    """`helm template` refuses a chart whose Chart.yaml declares a dependency missing from charts/."""
    declared = chart.metadata.get("dependencies") or []
    present = {dep.get("name") for dep in chart.dependencies}
    missing = [dep.get("name") for dep in declared if isinstance(dep, dict) and dep.get("name") not in present]
    if missing:
        raise RenderError(where.file, f"Helm chart {where.chart_dir or '.'}: found in Chart.yaml, but missing in "
                                      f"charts/ directory: {', '.join(missing)} (run `helm dependency build` and "
                                      "commit the charts/ directory)", where.field)


# -- after the engine: what `helm template` prints, in its order ------------------------------------------------


def split_manifests(text: str) -> list[str]:
    """Helm's SplitManifests: the documents of one rendered file, split on `---`, blank ones dropped."""
    docs = _MANIFEST_SEPARATOR.split(text.lstrip())
    return [doc.lstrip() for doc in docs if doc.strip()]


def _sort_rendered(rendered: dict[str, str], where: _Where) -> tuple[list[_Manifest], list[_Manifest]]:
    """Helm's SortManifests on the engine's output: (objects, hooks), each in install order."""
    manifests: list[_Manifest] = []
    hooks: list[_Manifest] = []
    for source in sorted(rendered):
        text = rendered[source]
        if source.endswith(_NOTES_SUFFIX) or posixpath.basename(source).startswith("_") or not text.strip():
            continue
        for doc in split_manifests(text):
            for manifest in _parse(source, doc, where):
                annotations = manifest.obj.get("metadata", {}).get("annotations") or {}
                if HOOK_ANNOTATION not in annotations:
                    manifests.append(manifest)
                    continue
                events = [event.strip().lower() for event in annotations[HOOK_ANNOTATION].split(",")]
                if all(event in HOOK_EVENTS for event in events):
                    hooks.append(manifest)
                # else: Helm skips a hook of an unknown type ("skipping unknown hooks")
    return _by_kind(manifests), _by_kind(hooks)


def _crd_manifests(crds: list[dict], where: _Where) -> list[_Manifest]:
    out: list[_Manifest] = []
    for crd in crds:
        source = crd.get("filename") or crd.get("name") or ""
        out.extend(_parse(source, crd.get("data") or "", where))
    return out


def _by_kind(manifests: list[_Manifest]) -> list[_Manifest]:
    """Helm's stable sort by kind: listed kinds in install order, then unknown kinds alphabetically."""
    return sorted(manifests, key=lambda m: (0, _KIND_RANK[m.kind], "") if m.kind in _KIND_RANK else (1, 0, m.kind))


def _parse(source: str, doc: str, where: _Where) -> list[_Manifest]:
    if len(doc.encode("utf-8")) > MAX_DOCUMENT_BYTES:
        raise where.manifest_error(source, f"a rendered document is over {MAX_DOCUMENT_BYTES} bytes")
    try:
        objects = load_all(doc, where.repo_path(source))
    except YamlError as exc:
        raise where.manifest_error(source, f"renders invalid YAML ({exc.reason}"
                                           f"{f', line {exc.line} of the document' if exc.line else ''}); "
                                           f"the rendered document begins {doc[:120]!r}") from exc
    out = []
    for obj in objects:
        if not isinstance(obj, dict):
            raise where.manifest_error(source, f"renders a {_type_name(obj)} where a Kubernetes object (a mapping) "
                                               f"was expected: {doc[:120]!r}")
        kind, metadata = obj.get("kind"), obj.get("metadata")
        name = metadata.get("name") if isinstance(metadata, dict) else None
        if not isinstance(obj.get("apiVersion"), str) or not isinstance(kind, str) or not kind:
            raise where.manifest_error(source, f"renders an object without apiVersion and kind: {doc[:120]!r}")
        if not isinstance(name, str) or not name:
            raise where.manifest_error(source, f"renders a {kind} without metadata.name")
        annotations = metadata.get("annotations")
        if annotations is not None and (not isinstance(annotations, dict)
                                        or not all(isinstance(v, str) for v in annotations.values())):
            raise where.manifest_error(source, f"{kind} {name}: metadata.annotations must map names to strings "
                                               "(quote the values)")
        out.append(_Manifest(source=source, obj=obj, kind=kind))
    return out


def _resource(manifest: _Manifest, files: RepoFiles, where: _Where) -> Resource:
    origin = where.repo_path(manifest.source)
    try:
        known = files.kind(origin) == "file"
    except RenderError:
        known = False
    return Resource(obj=manifest.obj, origin=origin if known else where.chart_dir)


def _join(directory: str, name: str) -> str:
    return f"{directory}/{name}" if directory else name
