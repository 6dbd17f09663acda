"""Argo CD `argoproj.io/v1alpha1` Application documents as fleet applications.

Reads the files and directories fleet.yaml lists in `spec.applicationFiles` (a directory: its `*.yaml` and
`*.yml` files, not recursively). Each document must be an Application whose `spec.destination.name` is a
fleet cluster; it becomes an application targeting exactly that cluster, with `spec.source.path`,
`spec.destination.namespace`, `spec.syncPolicy` and `spec.ignoreDifferences` mapped, and a Helm source
(`spec.source.helm`, or a `Chart.yaml` at the path, as Argo CD detects it) mapped to `source.helm`. What
Fleetline cannot honour (another repository, a per-application revision, `destination.server`, multiple
sources, Helm repository charts, kustomize/directory/plugin overrides) is an error saying so.
"""

from __future__ import annotations

import dataclasses
import json
import posixpath
import re

from fleetline.yamlsafe import YamlError, load_all, load_one
from hub.fleet.model import Application, Destination, Fleet, HelmSource, Origin, Source, Targets
from hub.fleet.reader import Reader, child, describe, did_you_mean
from hub.fleet.syncpolicy import read_ignore_differences, read_sync_policy
from hub.render.errors import RenderError
from hub.render.files import RepoFiles, resolve

ARGOCD_API_VERSION = "argoproj.io/v1alpha1"
_SPEC_FIELDS = ("project", "source", "sources", "destination", "syncPolicy", "ignoreDifferences", "info",
                "revisionHistoryLimit")
_SOURCE_FIELDS = ("repoURL", "targetRevision", "path", "helm", "chart", "kustomize", "directory", "plugin")
_UNSUPPORTED_SOURCE = {
    "chart": "charts from a Helm repository are not supported: vendor the chart into this repository and point "
             "spec.source.path at it",
    "kustomize": "spec.source.kustomize overrides are not supported: write them in the kustomization at "
                 "spec.source.path",
    "directory": "spec.source.directory options are not supported: use a kustomization at spec.source.path",
    "plugin": "config management plugins are not supported: commit the rendered manifests or a kustomization",
}
_HELM_FIELDS = ("valueFiles", "values", "valuesObject", "releaseName")
_UNSUPPORTED_HELM = ("parameters", "fileParameters", "passCredentials", "ignoreMissingValueFiles", "skipCrds",
                     "skipSchemaValidation", "skipTests", "version", "namespace", "kubeVersion", "apiVersions")
_DEFAULT_REVISIONS = ("", "HEAD")


def read_application_files(files: RepoFiles, application_files: list[tuple[str, str]], fleet: Fleet,
                           check_clusters: bool = True) -> tuple[list[Application], list[RenderError]]:
    """The applications of every listed file or directory, given as (field in fleet.yaml, repository path),
    and every error found in them. Without `check_clusters` (fleet.yaml's cluster list has errors of its
    own), an unknown destination cluster drops the document silently instead of adding an error."""
    applications: list[Application] = []
    errors: list[RenderError] = []
    for field, path in application_files:
        try:
            paths = _yaml_files(files, path, fleet.file, field)
        except RenderError as exc:
            errors.append(exc)
            continue
        for file in paths:
            found, file_errors = _read_file(files, file, fleet, check_clusters)
            applications.extend(found)
            errors.extend(file_errors)
    return applications, errors


def _yaml_files(files: RepoFiles, path: str, fleet_file: str, field: str) -> list[str]:
    kind = files.kind(path)
    if kind is None:
        raise RenderError(fleet_file, f'"{path}" does not exist in the repository; expected a file or directory '
                                      "of Argo CD Application documents", field)
    if kind == "file":
        return [path]
    found = [posixpath.join(path, name) for name in files.listdir(path) if name.endswith((".yaml", ".yml"))]
    found = [file for file in found if files.kind(file) == "file"]
    if not found:
        raise RenderError(fleet_file, f'directory "{path}" holds no .yaml or .yml files; expected Argo CD '
                                      "Application documents", field)
    return found


def _read_file(files: RepoFiles, file: str, fleet: Fleet, check_clusters: bool
               ) -> tuple[list[Application], list[RenderError]]:
    try:
        documents = load_all(files.read(file), file)
    except YamlError as exc:
        where = f" (line {exc.line})" if exc.line else ""
        return [], [RenderError(file, f"{exc.reason}{where}")]
    applications, errors = [], []
    for index, document in enumerate(documents):
        name = _document_name(document)
        label = f'Application "{name}"' if name else "Application"
        number = f" (document {index + 1})" if len(documents) > 1 else ""
        reader = Reader(file, f"{label}{number}: ")
        origin = Origin(file, f"metadata.name{number}")
        app = _read_application(reader, files, document, fleet, origin, check_clusters)
        errors.extend(reader.errors)
        if app is not None and not reader.errors:
            applications.append(app)
    return applications, errors


def _document_name(document: object) -> str:
    metadata = document.get("metadata") if isinstance(document, dict) else None
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return name if isinstance(name, str) else ""


def _read_application(reader: Reader, files: RepoFiles, raw: object, fleet: Fleet, origin: Origin,
                      check_clusters: bool) -> Application | None:
    top = reader.fields(raw, "", ("apiVersion", "kind", "metadata", "spec"),
                        f"an Argo CD Application document (apiVersion: {ARGOCD_API_VERSION}, kind: Application)")
    if top is None:
        return None
    api_version = reader.string(top.get("apiVersion"), "apiVersion", f'"{ARGOCD_API_VERSION}"', required=True,
                                check=lambda text: None if text == ARGOCD_API_VERSION else "not Argo CD's API")
    kind = reader.string(top.get("kind"), "kind", '"Application" (list only Application documents in '
                                                  "spec.applicationFiles; ApplicationSets and AppProjects are not "
                                                  "read)", required=True,
                         check=lambda text: None if text == "Application" else "not an Application")
    if not api_version or not kind:
        return None
    metadata = reader.fields(top.get("metadata"), "metadata", ("name", "namespace", "labels", "annotations",
                                                               "finalizers")) or {}
    name = reader.name(metadata.get("name"), "metadata.name", "the application's name")
    spec = reader.fields(top.get("spec"), "spec", _SPEC_FIELDS)
    if not spec:
        if spec is not None:
            reader.error("spec", "missing required field; expected a mapping with source and destination")
        return None
    reader.string(spec.get("project"), "spec.project", "an Argo CD project name")
    if spec.get("sources") is not None:
        reader.error("spec.sources", "multi-source applications are not supported; use a single spec.source")
    cluster = _read_destination_cluster(reader, spec.get("destination"), fleet, check_clusters)
    namespace = ""
    if isinstance(spec.get("destination"), dict):
        namespace = reader.name(spec["destination"].get("namespace"), "spec.destination.namespace", "a namespace",
                                required=False)
    source = _read_source(reader, files, spec.get("source"), fleet, cluster)
    sync_policy = read_sync_policy(reader, spec.get("syncPolicy"), "spec.syncPolicy")
    ignore_differences = read_ignore_differences(reader, spec.get("ignoreDifferences"), "spec.ignoreDifferences")
    reader.integer(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit", 10, minimum=0)
    if not name or cluster is None or source is None:
        return None
    if source.helm is not None and not source.helm.release_name:
        source = Source(helm=dataclasses.replace(source.helm, release_name=name))
    return Application(name=name, source=source, origin=origin, destination=Destination(namespace=namespace),
                       targets=Targets(clusters=(cluster,)), sync_policy=sync_policy,
                       ignore_differences=ignore_differences)


def _read_destination_cluster(reader: Reader, raw: object, fleet: Fleet, check_clusters: bool) -> str | None:
    spec = reader.fields(raw, "spec.destination", ("name", "server", "namespace"), "a mapping {name, namespace}")
    if spec is None:
        return None
    if spec.get("server") is not None:
        reader.error("spec.destination.server", f"destination.server {describe(spec['server'])} is not supported: "
                                                "Fleetline names clusters, it does not dial API servers; set "
                                                "spec.destination.name to a cluster of fleet.yaml instead")
        return None
    name = reader.string(spec.get("name"), "spec.destination.name", "the name of a cluster in fleet.yaml",
                         required=True)
    if not name:
        return None
    known = [cluster.name for cluster in fleet.clusters]
    if name not in known:
        if not check_clusters:
            return None
        listed = f"; clusters: {', '.join(known)}" if len(known) <= 12 else ""
        reader.error("spec.destination.name", f'"{name}" is not a cluster of {fleet.file}'
                                              f"{did_you_mean(name, known)}{listed}")
        return None
    return name


def _read_source(reader: Reader, files: RepoFiles, raw: object, fleet: Fleet, cluster: str | None
                 ) -> Source | None:
    field = "spec.source"
    if raw is None:
        reader.error(field, "missing required field; expected {repoURL, path, targetRevision}")
        return None
    spec = reader.fields(raw, field, _SOURCE_FIELDS)
    if spec is None:
        return None
    for key, message in _UNSUPPORTED_SOURCE.items():
        if spec.get(key) is not None:
            reader.error(child(field, key), message)
    _check_repository(reader, spec.get("repoURL"), fleet)
    _check_revision(reader, spec.get("targetRevision"), fleet, cluster)
    path = _literal_path(reader, spec.get("path"), "", child(field, "path"), required=True)
    if path is None:
        return None
    helm_raw = spec.get("helm")
    if helm_raw is None and files.kind(posixpath.join(path, "Chart.yaml") if path else "Chart.yaml") == "file":
        helm_raw = {}  # Argo CD detects a chart by its Chart.yaml
    if helm_raw is None:
        return Source(path=path)
    helm = _read_helm(reader, helm_raw, child(field, "helm"), path)
    return Source(helm=helm) if helm is not None else None


def _literal_path(reader: Reader, raw: object, base: str, field: str, *, required: bool) -> str | None:
    """A repository path written literally (no placeholders), relative to `base`; None when invalid."""
    text = reader.string(raw, field, "a path relative to the repository root", required=required)
    if raw is None and not required:
        return None
    if not isinstance(raw, str):
        return None
    if "{" in text or "}" in text:
        reader.error(field, f"found {describe(text)}: braces are not allowed in Argo CD paths (use fleet.yaml "
                            "applications for path templates)")
        return None
    if text in ("", "."):
        return base
    try:
        return resolve(base, text, reader.file, field)
    except RenderError as exc:
        reader.error(field, exc.message)
        return None


def _read_helm(reader: Reader, raw: object, field: str, chart: str) -> HelmSource | None:
    spec = reader.fields(raw, field, _HELM_FIELDS + _UNSUPPORTED_HELM)
    if spec is None:
        return None
    for key in _UNSUPPORTED_HELM:
        if spec.get(key) is not None:
            hint = "; set values with valuesObject instead" if key in ("parameters", "fileParameters") else \
                "; remove it"
            reader.error(child(field, key), f"Argo CD's helm.{key} is not supported by Fleetline{hint}")
    value_files = []
    for path, entry in reader.items(spec.get("valueFiles"), child(field, "valueFiles"), "a list of value files"):
        resolved = _literal_path(reader, entry, chart, path, required=True)
        if resolved is not None:
            value_files.append(posixpath.relpath(resolved, chart or "."))
    values: object = {}
    if spec.get("values") is not None:
        text = reader.string(spec["values"], child(field, "values"), "Helm values as a YAML string (or use "
                                                                     "valuesObject for a mapping)")
        try:
            values = load_one(text, f"{reader.file} {child(field, 'values')}") or {}
        except YamlError as exc:
            reader.error(child(field, "values"), f"invalid YAML in the values string: {exc.reason}")
        if not isinstance(values, dict):
            reader.error(child(field, "values"), f"expected YAML holding a mapping of values, found {describe(values)}")
            values = {}
    if spec.get("valuesObject") is not None:  # Argo CD: valuesObject, when set, replaces values
        values = spec["valuesObject"]
        if not isinstance(values, dict):
            reader.error(child(field, "valuesObject"), f"expected a mapping of Helm values, found {describe(values)}")
            values = {}
    release = reader.name(spec.get("releaseName"), child(field, "releaseName"), "a Helm release name",
                          required=False)
    return HelmSource(chart=chart, value_files=tuple(value_files), values_json=json.dumps(values, sort_keys=True),
                      release_name=release)


def normalise_repo_url(url: str) -> str:
    """A comparable form of a Git URL: no scheme, user, port, trailing slash or `.git`, lower case;
    `git@host:org/repo` and `https://host/org/repo.git` compare equal."""
    text = url.strip().lower()
    had_scheme = re.match(r"^[a-z][a-z0-9+.-]*://", text) is not None
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text)
    text = re.sub(r"^[^@/]+@", "", text)
    text = re.sub(r"^([^/:]+):\d+/", r"\1/", text)
    if not had_scheme:
        text = re.sub(r"^([^/:]+):", r"\1/", text)  # scp-like git@host:path
    text = text.rstrip("/")
    return text[:-4] if text.endswith(".git") else text


def _check_repository(reader: Reader, raw: object, fleet: Fleet) -> None:
    field = "spec.source.repoURL"
    url = reader.string(raw, field, "this repository's URL")
    if not url:
        return
    if not fleet.repo_url:
        reader.error(field, f'repoURL "{url}" cannot be checked: {fleet.file} has no spec.repoURL; set spec.repoURL '
                            "to this repository's URL (Applications may only render this repository)")
    elif normalise_repo_url(url) != normalise_repo_url(fleet.repo_url):
        reader.error(field, f'"{url}" is a different repository than {fleet.file} spec.repoURL "{fleet.repo_url}"; '
                            "Fleetline renders only the fleet's own repository: vendor the other repository's "
                            "manifests here, or manage it with its own fleet")


def _check_revision(reader: Reader, raw: object, fleet: Fleet, cluster: str | None) -> None:
    field = "spec.source.targetRevision"
    revision = reader.string(raw, field, "a Git ref")
    if revision in _DEFAULT_REVISIONS or cluster is None:
        return
    environment = fleet.environment_for(cluster)
    if revision != environment.ref:
        reader.error(field, f'"{revision}" differs from "{environment.ref}", the ref environment '
                            f'"{environment.name}" (of cluster "{cluster}") tracks; Fleetline renders every '
                            "application of an environment at the environment's ref: remove targetRevision or "
                            f"change spec.environments.{environment.name}.ref in {fleet.file}")
