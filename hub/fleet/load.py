"""Loading `fleet.yaml` (and the Argo CD Application files it lists) into a validated `hub.fleet.model.Fleet`.

Reads only through `hub.render.files.RepoFiles` and `fleetline.yamlsafe`. Every problem of every file is
collected and raised together as one `FleetError`, each naming the file, the field path, what was found
and what was expected. Cross-field rules are checked here too: clusters name declared environments,
targets name existing clusters, regions and environments, path templates fill for every targeted cluster
and stay inside the repository, rollout steps list only targeted clusters (`hub.fleet.rollouts`), and no
two applications of the same name run on one cluster.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence

from fleetline.yamlsafe import YamlError, load_one
from hub.fleet.argocd import read_application_files
from hub.fleet.environments import read_environments
from hub.fleet.model import (
    Application,
    Cluster,
    Destination,
    Environment,
    Fleet,
    FrozenMap,
    HelmSource,
    Origin,
    Policies,
    Source,
)
from hub.fleet.reader import (
    Reader,
    child,
    describe,
    did_you_mean,
    label_key_problem,
    label_value_problem,
)
from hub.fleet.rollouts import read_rollout
from hub.fleet.selection import read_targets
from hub.fleet.syncpolicy import read_ignore_differences, read_sync_policy
from hub.fleet.targeting import TemplateError, fill_template, normalise_path, template_placeholders
from hub.render.errors import RenderError
from hub.render.files import RepoFiles, resolve

FLEET_FILE = "fleet.yaml"
API_VERSION = "fleetline.io/v1alpha1"
_SPEC_FIELDS = ("repoURL", "clusters", "environments", "applications", "applicationFiles")
_APP_FIELDS = ("name", "source", "destination", "targets", "syncPolicy", "ignoreDifferences", "policies", "rollout")
_POLICIES = {"allowPlainSecrets": "allow_plain_secrets", "allowMutableImageTags": "allow_mutable_image_tags",
             "allowUnboundedGpu": "allow_unbounded_gpu"}


class FleetError(RenderError):
    """Every error found in the fleet definition; str() lists each one on its own line."""

    def __init__(self, errors: Sequence[RenderError]) -> None:
        if not errors:
            raise ValueError("FleetError needs at least one error")
        self.errors = list(errors)
        first = self.errors[0]
        super().__init__(first.file, first.message, first.field)

    def describe(self) -> str:
        return "\n".join(error.describe() for error in self.errors)


def load_fleet(files: RepoFiles) -> Fleet:
    """The fleet defined by `fleet.yaml` at the root of `files`; FleetError listing every problem."""
    if files.kind(FLEET_FILE) != "file":
        raise FleetError([RenderError(FLEET_FILE, f"not found at the repository root of {files.label}; create it "
                                                  f"with apiVersion: {API_VERSION}, kind: Fleet (see "
                                                  "docs/fleet-yaml.md)")])
    try:
        raw = load_one(files.read(FLEET_FILE), FLEET_FILE)
    except YamlError as exc:
        where = f" (line {exc.line})" if exc.line else ""
        raise FleetError([RenderError(FLEET_FILE, f"{exc.reason}{where}")]) from exc
    reader = Reader(FLEET_FILE)
    fleet, application_files, clusters_complete = _read_fleet(reader, raw)
    errors = list(reader.errors)
    if fleet is not None and application_files:
        imported, import_errors = read_application_files(files, application_files, fleet, clusters_complete)
        errors.extend(import_errors)
        fleet = dataclasses.replace(fleet, applications=fleet.applications + tuple(imported),
                                    application_files=tuple(path for _, path in application_files))
    if fleet is not None:
        errors.extend(_duplicate_errors(fleet))
    if errors or fleet is None:
        raise FleetError(sorted(errors, key=lambda error: error.file != FLEET_FILE))
    return fleet


def _read_fleet(reader: Reader, raw: object) -> tuple[Fleet | None, list[tuple[str, str]], bool]:
    """The fleet of fleet.yaml (None when it is not even a mapping), the (field, path) of each application
    file it lists, and whether every cluster was read (else references to clusters are not checked, so that
    one bad cluster does not cascade into errors wherever it is named)."""
    top = reader.fields(raw, "", ("apiVersion", "kind", "metadata", "spec"), f"a Fleet document (apiVersion: "
                                                                             f"{API_VERSION}, kind: Fleet)")
    if top is None:
        return None, [], False
    reader.string(top.get("apiVersion"), "apiVersion", f'"{API_VERSION}"', required=True,
                  check=lambda text: None if text == API_VERSION else "unsupported apiVersion")
    reader.string(top.get("kind"), "kind", '"Fleet"', required=True,
                  check=lambda text: None if text == "Fleet" else "wrong kind")
    metadata = reader.fields(top.get("metadata"), "metadata", ("name",)) or {}
    name = reader.name(metadata.get("name"), "metadata.name", "the fleet's name")
    spec = reader.fields(top.get("spec"), "spec", _SPEC_FIELDS)
    if spec is None:
        return None, [], False
    if top.get("spec") is None:
        reader.error("spec", "missing required field; expected a mapping with clusters, environments and "
                             "applications")
    repo_url = reader.string(spec.get("repoURL"), "spec.repoURL", "the repository's URL, as Argo CD "
                             "Applications write it in spec.source.repoURL")
    environments = read_environments(reader, spec.get("environments"), "spec.environments")
    errors_before = len(reader.errors)
    clusters = _read_clusters(reader, spec.get("clusters"), environments)
    complete = len(reader.errors) == errors_before
    applications = [app for path, entry in reader.items(spec.get("applications"), "spec.applications",
                                                        "a list of applications")
                    if (app := _read_application(reader, entry, path, clusters, environments, complete))
                    is not None]
    application_files = [(path, entry) for path, entry in reader.items(
        spec.get("applicationFiles"), "spec.applicationFiles",
        "a list of files or directories holding Argo CD Application documents")]
    checked_files = []
    for path, entry in application_files:
        reference = reader.string(entry, path, "a file or directory path relative to the repository root",
                                  required=True)
        if reference:
            try:
                checked_files.append((path, resolve("", reference, FLEET_FILE, path)))
            except RenderError:
                reader.error(path, f"expected a file or directory inside the repository, relative to its root, "
                                   f"found {describe(reference)}")
    fleet = Fleet(name=name, clusters=tuple(clusters), environments=FrozenMap(environments),
                  applications=tuple(applications), repo_url=repo_url, file=FLEET_FILE)
    return fleet, checked_files, complete


def _read_clusters(reader: Reader, raw: object, environments: dict[str, Environment]) -> list[Cluster]:
    clusters: list[Cluster] = []
    first_seen: dict[str, str] = {}
    for path, entry in reader.items(raw, "spec.clusters", "a list of clusters {name, region, environment, labels}"):
        spec = reader.fields(entry, path, ("name", "region", "environment", "labels"),
                             "a cluster {name, region, environment, labels}")
        if spec is None:
            continue
        name = reader.name(spec.get("name"), child(path, "name"), "the cluster's name")
        region = reader.name(spec.get("region"), child(path, "region"), 'the cluster\'s region (e.g. "us-east")')
        environment = reader.name(spec.get("environment"), child(path, "environment"),
                                  'the cluster\'s environment (e.g. "staging")')
        labels = reader.string_map(spec.get("labels"), child(path, "labels"), key_check=label_key_problem,
                                   value_check=label_value_problem)
        if environment and environment not in environments:
            declared = ", ".join(environments) or "none"
            reader.error(child(path, "environment"), f'environment "{environment}" is not declared in '
                                                     f"spec.environments{did_you_mean(environment, list(environments))}"
                                                     f"; declared: {declared}")
            environment = ""
        if name and name in first_seen:
            reader.error(child(path, "name"), f'cluster "{name}" is already defined at {first_seen[name]}; cluster '
                                              "names must be unique")
            continue
        if name:
            first_seen[name] = path
        if name and region and environment:
            clusters.append(Cluster(name=name, region=region, environment=environment, labels=FrozenMap(labels)))
    return clusters


def _read_application(reader: Reader, raw: object, field: str, clusters: list[Cluster],
                      environments: dict[str, Environment], complete: bool) -> Application | None:
    spec = reader.fields(raw, field, _APP_FIELDS, "an application {name, source, destination, targets, ...}")
    if spec is None:
        return None
    errors_before = len(reader.errors)
    name = reader.name(spec.get("name"), child(field, "name"), "the application's name")
    source = _read_source(reader, spec.get("source"), child(field, "source"))
    destination_field = child(field, "destination")
    destination_spec = reader.fields(spec.get("destination"), destination_field, ("namespace",)) or {}
    namespace = reader.name(destination_spec.get("namespace"), child(destination_field, "namespace"),
                            "a namespace", required=False)
    targets = read_targets(reader, spec.get("targets"), child(field, "targets"), clusters, environments, complete)
    sync_policy = read_sync_policy(reader, spec.get("syncPolicy"), child(field, "syncPolicy"))
    ignore_differences = read_ignore_differences(reader, spec.get("ignoreDifferences"),
                                                 child(field, "ignoreDifferences"))
    policies_field = child(field, "policies")
    policies_spec = reader.fields(spec.get("policies"), policies_field, tuple(_POLICIES)) or {}
    policies = Policies(**{attribute: reader.boolean(policies_spec.get(key), child(policies_field, key))
                           for key, attribute in _POLICIES.items()})
    targeted = [cluster for cluster in clusters if targets.matches(cluster)]
    rollout = read_rollout(reader, spec.get("rollout"), child(field, "rollout"), name or "?", targeted, clusters,
                           environments, complete)
    if source is None or len(reader.errors) > errors_before:
        return None
    if source.helm is not None and not source.helm.release_name:
        source = dataclasses.replace(source, helm=dataclasses.replace(source.helm, release_name=name))
    app = Application(name=name, source=source, origin=Origin(FLEET_FILE, field),
                      destination=Destination(namespace=namespace), targets=targets, sync_policy=sync_policy,
                      ignore_differences=ignore_differences, policies=policies, rollout=rollout)
    _check_paths(reader, app, field, clusters, complete)
    return app


def _read_source(reader: Reader, raw: object, field: str) -> Source | None:
    if raw is None:
        reader.error(field, "missing required field; expected {path: TEMPLATE} (kustomize) or {helm: {chart: PATH}}")
        return None
    spec = reader.fields(raw, field, ("path", "pathOverrides", "helm"), "a mapping {path, pathOverrides} or {helm}")
    if spec is None:
        return None
    has_path, has_helm = spec.get("path") is not None, spec.get("helm") is not None
    if has_path == has_helm:
        found = "both" if has_path else "neither"
        reader.error(field, f"expected exactly one of path (a kustomize directory template) or helm (a chart), "
                            f"found {found}")
        return None
    path = ""
    if has_path:
        path = _template(reader, spec.get("path"), child(field, "path"))
    overrides = reader.string_map(spec.get("pathOverrides"), child(field, "pathOverrides"),
                                  "a mapping from cluster name to repository path")
    helm = _read_helm(reader, spec["helm"], child(field, "helm")) if has_helm else None
    return Source(path=path, path_overrides=FrozenMap(overrides), helm=helm)


def _template(reader: Reader, raw: object, field: str) -> str:
    text = reader.string(raw, field, 'a repository path template such as "apps/web/overlays/{region}"',
                         required=True)
    try:
        template_placeholders(text)
    except TemplateError as exc:
        reader.error(field, f"{exc} (found {describe(text)})")
        return ""
    return text


def _read_helm(reader: Reader, raw: object, field: str) -> HelmSource | None:
    spec = reader.fields(raw, field, ("chart", "valueFiles", "values", "releaseName"),
                         "a mapping {chart, valueFiles, values, releaseName}")
    if spec is None:
        return None
    chart = _template(reader, spec.get("chart"), child(field, "chart"))
    value_files = tuple(_template(reader, entry, path) for path, entry in reader.items(
        spec.get("valueFiles"), child(field, "valueFiles"), "a list of value file path templates"))
    values = spec.get("values")
    if values is not None and not isinstance(values, dict):
        reader.error(child(field, "values"), f"expected a mapping of Helm values, found {describe(values)}")
        values = None
    release = reader.name(spec.get("releaseName"), child(field, "releaseName"), "a Helm release name",
                          required=False)
    if not chart:
        return None
    return HelmSource(chart=chart, value_files=value_files, values_json=json.dumps(values or {}, sort_keys=True),
                      release_name=release)


def _check_paths(reader: Reader, app: Application, field: str, clusters: list[Cluster], complete: bool) -> None:
    """Path overrides name targeted clusters, and every targeted cluster's source path and value files fill
    and stay inside the repository (one error per template, for the first cluster it fails on)."""
    source_field = child(field, "source")
    targeted = [cluster for cluster in clusters if app.targets_cluster(cluster)]
    targeted_names = {cluster.name for cluster in targeted}
    known = [cluster.name for cluster in clusters]
    for name, path in app.source.path_overrides.items():
        where = child(child(source_field, "pathOverrides"), name)
        if name not in known:
            if complete:
                reader.error(where, f'"{name}" is not a cluster in spec.clusters{did_you_mean(name, known)}')
        elif name not in targeted_names:
            reader.error(where, f'cluster "{name}" is not targeted by application "{app.name}"; add it to '
                                "targets or remove the override")
        try:
            normalise_path(path)
        except TemplateError as exc:
            reader.error(where, str(exc))
    helm = app.source.helm
    helm_field = child(source_field, "helm")
    path_field = child(helm_field, "chart") if helm else child(source_field, "path")
    failed: set[str] = set()  # template fields already reported: one error per template
    for cluster in targeted:
        try:
            base = app.source_path_for(cluster)
        except TemplateError as exc:
            if cluster.name not in app.source.path_overrides:  # a bad override is reported above
                _template_error(reader, path_field, exc, helm.chart if helm else app.source.path, failed)
            continue
        for index, template in enumerate(helm.value_files if helm else ()):
            try:
                normalise_path(fill_template(template, cluster), base)
            except TemplateError as exc:
                _template_error(reader, f"{child(helm_field, 'valueFiles')}[{index}]", exc, template, failed)


def _template_error(reader: Reader, field: str, exc: TemplateError, template: str, failed: set[str]) -> None:
    if field in failed:
        return
    failed.add(field)
    fix = "; add the label to the cluster, narrow targets, or add a pathOverride" if "no label" in str(exc) else ""
    reader.error(field, f"{exc}{fix} (template {describe(template)})")


def _duplicate_errors(fleet: Fleet) -> list[RenderError]:
    """One error per pair of same-named applications that both run on some cluster, naming both places."""
    errors = []
    by_name: dict[str, list[tuple[Application, set[str]]]] = {}
    for app in fleet.applications:
        targeted = {cluster.name for cluster in fleet.clusters if app.targets_cluster(cluster)}
        for other, other_targeted in by_name.get(app.name, []):
            shared = sorted(targeted & other_targeted)
            if shared:
                shown = ", ".join(shared[:5]) + (f" and {len(shared) - 5} more" if len(shared) > 5 else "")
                errors.append(RenderError(app.origin.file, f'application "{app.name}" is also defined at '
                                                           f"{other.origin}, and both target cluster(s) {shown}; "
                                                           "an application name must be unique on a cluster",
                                          app.origin.field))
        by_name.setdefault(app.name, []).append((app, targeted))
    return errors


__all__ = ["API_VERSION", "FLEET_FILE", "FleetError", "load_fleet"]
