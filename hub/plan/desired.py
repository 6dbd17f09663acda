"""What the hub would send to a cluster: each targeted application rendered, owned, checked and hashed.

For one (cluster, application) pair: fill the application's source template for the cluster, render the
source (a kustomization, a Helm chart, or a plain directory of manifests as Argo CD's directory apps), put
namespaced objects without a namespace into the destination namespace, stamp every object with the
tracking annotation and app label (DESIGN.md, Ownership), run the rendered-output policies, and hash the
result canonically. A pair that fails carries every error and no objects; it never stops the others.
`Renderer` keeps the build memo, so rendering many clusters and many revisions reuses shared bases.
"""

from __future__ import annotations

import posixpath
import weakref
from dataclasses import dataclass, field, replace

from fleetline.identity import APP_LABEL, TRACKING_ANNOTATION, content_hash, tracking_id
from hub.fleet.model import Application, Cluster, Fleet
from hub.plan.impact import Pair
from hub.plan.policies import ERROR, PolicyFinding, check
from hub.render.errors import RenderError
from hub.render.files import RepoFiles
from hub.render.inputs import Inputs
from hub.render.kustomization import KUSTOMIZATION_FILE_NAMES
from hub.render.memo import BuildMemo, MemoBuilder
from hub.render.resource import CLUSTER_SCOPED_KINDS, Resource

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass
class AppDesiredState:
    """One application's desired state on one cluster, or why it has none."""

    cluster: str
    app: str
    source: str  # the repository path rendered (a kustomization, chart or manifest directory)
    namespace: str  # the destination namespace ("" when the application names none)
    objects: list[dict] = field(default_factory=list)
    findings: list[PolicyFinding] = field(default_factory=list)  # warnings, and errors when refused
    errors: list[str] = field(default_factory=list)  # render errors and refusing policy findings
    inputs: Inputs | None = None  # what the render read (for change impact)
    content_hash: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def pair(self) -> Pair:
        return Pair(self.cluster, self.app)


class Renderer:
    """Renders pairs from repository views, memoising kustomization builds across calls and revisions.

    Pairs whose render is the same function of the same files (the same source path, application, namespace,
    production flag and policies: the `apps/x/overlays/{region}` layout, where every cluster of a region
    renders one overlay) share one result: it is computed once per view and distinct input, and the clusters
    share its objects, which nobody may mutate."""

    def __init__(self, memo: BuildMemo | None = None) -> None:
        self.memo = memo or BuildMemo()
        self._results: dict[tuple, AppDesiredState] = {}  # render key -> the latest result for it
        self._checked: weakref.WeakKeyDictionary[RepoFiles, dict[tuple, AppDesiredState | None]] = \
            weakref.WeakKeyDictionary()
        self.shared = 0  # pairs served from another cluster's identical render

    def render_cluster(self, files: RepoFiles, fleet: Fleet, cluster: str,
                       apps: list[str] | None = None) -> list[AppDesiredState]:
        """Every application `fleet` targets at `cluster` (or only those named in `apps`), by name."""
        target = fleet.cluster(cluster)
        chosen = [a for a in fleet.applications_for(target) if apps is None or a.name in apps]
        return [self.render_app(files, fleet, target, app) for app in sorted(chosen, key=lambda a: a.name)]

    def render_app(self, files: RepoFiles, fleet: Fleet, cluster: Cluster, app: Application) -> AppDesiredState:
        """One pair's desired state; render errors and refusing policies are collected, never raised."""
        production = fleet.environment_for(cluster).production
        source = app.source_path_for(cluster)  # a kustomization or manifest directory, or a Helm chart
        helm = (app.source.helm, app.value_files_for(cluster)) if app.source.helm else None
        key = (source, helm, app.name, app.destination.namespace, production, app.policies)
        checked = self._checked.setdefault(files, {})
        if key not in checked:
            previous = self._results.get(key)
            fresh = previous is not None and previous.inputs is not None and previous.inputs.still_valid(files)
            checked[key] = previous if fresh else None
        if checked[key] is not None:
            self.shared += 1
            return replace(checked[key], cluster=cluster.name)  # type: ignore[type-var]
        state = self._render(files, fleet, cluster, app, source, production)
        self._results[key] = checked[key] = state
        return state

    def _render(self, files: RepoFiles, fleet: Fleet, cluster: Cluster, app: Application, source: str,
                production: bool) -> AppDesiredState:
        state = AppDesiredState(cluster.name, app.name, source, app.destination.namespace)
        builder = MemoBuilder(files, self.memo)
        try:
            with builder.recording.scope(source) as inputs:
                resources = self._render_source(builder, fleet, cluster, app)
            state.inputs = inputs
            objects = finish_objects(app.name, app.destination.namespace, resources)
        except RenderError as exc:
            state.inputs = inputs
            state.errors = [str(exc)]
            return state
        state.findings = check(objects, production, app.policies)
        refusals = [f for f in state.findings if f.severity == ERROR]
        if refusals:
            state.errors = [f"{source}: {finding}" for finding in refusals]
            return state
        state.objects = objects
        state.content_hash = content_hash(objects)
        return state

    def _render_source(self, builder: MemoBuilder, fleet: Fleet, cluster: Cluster,
                       app: Application) -> list[Resource]:
        files = builder.recording
        if app.source.helm is not None:
            from hub.render.helm import render_chart

            helm = app.source.helm
            return render_chart(files, app.source_path_for(cluster), helm.release_name or app.name,
                                app.destination.namespace, list(app.value_files_for(cluster)), helm.values,
                                fleet.file, f"{app.origin.field}.source.helm")
        path = app.source_path_for(cluster)
        kind = files.kind(path)
        if kind is None:
            raise RenderError(fleet.file, f"source path {path!r} of application {app.name!r} for cluster "
                                          f"{cluster.name!r} does not exist in the repository",
                              f"{app.origin.field}.source.path")
        if kind == "file":
            return builder.read_manifests(path)
        if any(files.kind(posixpath.join(path, name)) == "file" for name in KUSTOMIZATION_FILE_NAMES):
            return builder.build(path)
        return read_manifest_directory(builder, path)


def read_manifest_directory(builder: MemoBuilder, path: str) -> list[Resource]:
    """Argo CD's directory source: every *.yaml, *.yml and *.json file directly in `path`, by name, each read
    as the renderer reads a manifest file (`kind: List` expanded, kind and name required)."""
    resources: list[Resource] = []
    for name in builder.recording.listdir(path):
        child = posixpath.join(path, name)
        if name.endswith(MANIFEST_SUFFIXES) and builder.recording.kind(child) == "file":
            resources.extend(builder.read_manifests(child))
    return resources


def finish_objects(app: str, namespace: str, resources: list[Resource]) -> list[dict]:
    """The objects as sent: destination namespace filled in, tracking annotation and app label stamped,
    duplicates (after the namespace is filled in) refused naming both sources."""
    cluster_scoped_crd_kinds = {
        (r.obj.get("spec") or {}).get("names", {}).get("kind") for r in resources
        if r.kind == "CustomResourceDefinition" and (r.obj.get("spec") or {}).get("scope") == "Cluster"}
    seen: dict[str, str] = {}
    objects = []
    for res in resources:
        obj = res.obj
        meta = obj.setdefault("metadata", {})
        scoped = res.kind in CLUSTER_SCOPED_KINDS or res.kind in cluster_scoped_crd_kinds
        if namespace and not scoped and not meta.get("namespace"):
            meta["namespace"] = namespace
        identity = tracking_id(app, obj)
        if identity in seen:
            raise RenderError(res.origin, f"{res.kind}/{meta.get('name')} is declared twice: here and in "
                                          f"{seen[identity]}; remove one of them")
        seen[identity] = res.origin
        if not isinstance(meta.get("annotations"), dict):
            meta["annotations"] = {}
        if not isinstance(meta.get("labels"), dict):
            meta["labels"] = {}
        meta["annotations"][TRACKING_ANNOTATION] = identity
        meta["labels"][APP_LABEL] = app
        objects.append(obj)
    return objects
