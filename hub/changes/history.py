"""Which commit last changed an application's rendered output on a set of clusters.

Walks a branch's first-parent history from its tip and renders the (cluster, application) pairs at each
commit with the hub's own renderer (`hub.plan.desired.Renderer`), comparing `content_hash`es. From one commit
to the next only the pairs whose render read a changed path are rendered again (`hub.plan.impact`), and all of
them when the fleet definition changed. A commit's output on a cluster is its content hash, or "absent" when
the application did not run there (not targeted, or no such cluster yet), so the commit that brought the
application to a cluster counts as a change. A commit whose render fails there, or whose fleet.yaml does not
load, changes nothing: the hub keeps serving the last good output, so such a commit is never chosen and the
comparison runs between the good renders around it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from hub.fleet import FLEET_FILE, Fleet, load_fleet
from hub.fleet.model import Cluster
from hub.plan.desired import Renderer
from hub.plan.impact import Change, ImpactGraph, Pair, changed_paths
from hub.render.errors import RenderError
from hub.render.files import GitTreeFiles

ABSENT = "absent"  # the application did not run on the cluster at that commit
_FAILED = None  # the render failed: the cluster keeps its last good output


@dataclass(frozen=True)
class LastChange:
    """The newest commit whose rendered output differs from its first parent's on some of the clusters."""

    commit: str
    clusters: tuple[str, ...]  # the clusters (of those asked about) whose output it changed
    root: bool  # the commit has no parent (the repository's first commit)


class HistoryWalker:
    """Renders one application on some clusters commit by commit, as `FleetRenderer.advance` does: after the
    first commit, only the clusters whose render read a path the step changed are rendered again (the change
    impact graph of `hub.plan.impact`), and everything is rendered again when the fleet definition changed."""

    def __init__(self, repo_path: str | os.PathLike[str], application: str, clusters: tuple[str, ...]) -> None:
        self.repo_path = str(repo_path)
        self.application = application
        self.clusters = clusters
        self.renderer = Renderer()
        self.graph = ImpactGraph()
        self._fleet_cache: tuple[str, Fleet] | None = None  # fleet.yaml's blob id and the fleet it defines
        self._last: tuple[str, Fleet, dict[str, str | None]] | None = None  # revision, fleet, outputs there

    def outputs(self, revision: str) -> dict[str, str | None]:
        """Each cluster's output at `revision`: a content hash, ABSENT, or None when the render failed."""
        if self._last is not None:
            last_revision, fleet, last_outputs = self._last
            change = changed_paths(self.repo_path, last_revision, revision)
            if not _touches_fleet(fleet, change):
                stale = {pair.cluster for pair in self.graph.affected(change)}
                result = dict(last_outputs)
                if stale:
                    files = GitTreeFiles(self.repo_path, revision)
                    for name in sorted(stale & set(self.clusters)):
                        result[name] = self._render(files, fleet, fleet.cluster(name))
                self._last = (revision, fleet, result)
                return result
        files = GitTreeFiles(self.repo_path, revision)
        fleet = self._fleet(files)
        result = {}
        for name in self.clusters:
            cluster = None
            if fleet is not None:
                cluster = next((c for c in fleet.clusters if c.name == name), None)
            if cluster is None:
                self.graph.forget(Pair(name, self.application))
            result[name] = _FAILED if fleet is None else ABSENT if cluster is None else \
                self._render(files, fleet, cluster)
        self._last = (revision, fleet, result) if fleet is not None else None
        return result

    def _render(self, files: GitTreeFiles, fleet: Fleet, cluster: Cluster) -> str | None:
        pair = Pair(cluster.name, self.application)
        app = next((a for a in fleet.applications_for(cluster) if a.name == self.application), None)
        if app is None:
            self.graph.forget(pair)
            return ABSENT
        state = self.renderer.render_app(files, fleet, cluster, app)
        if state.inputs is not None:
            self.graph.record(pair, state.inputs)
        return state.content_hash if state.ok else _FAILED

    def errors(self, revision: str) -> list[str]:
        """The render errors of the application on the clusters at `revision` (empty when all render)."""
        files = GitTreeFiles(self.repo_path, revision)
        try:
            fleet = load_fleet(files)
        except RenderError as exc:
            return [exc.describe()]
        found: list[str] = []
        for name in self.clusters:
            try:
                cluster = fleet.cluster(name)
            except KeyError:
                continue
            for app in fleet.applications_for(cluster):
                if app.name == self.application:
                    found.extend(f"{name}: {error}" for error in self.renderer.render_app(files, fleet, cluster,
                                                                                          app).errors)
        return found

    def _fleet(self, files: GitTreeFiles) -> Fleet | None:
        try:
            blob = files.content_id(FLEET_FILE)
        except FileNotFoundError:
            return None
        cached = self._fleet_cache
        if cached is not None and cached[0] == blob and not cached[1].application_files:
            return cached[1]  # application files elsewhere in the tree may change without fleet.yaml: reload then
        try:
            fleet = load_fleet(files)
        except RenderError:
            return None
        self._fleet_cache = (blob, fleet)
        return fleet


def _touches_fleet(fleet: Fleet, change: Change) -> bool:
    """Whether `change` touched the fleet definition (fleet.yaml or an imported Application file)."""
    return any(path == fleet.file or any(path == f or path.startswith(f.rstrip("/") + "/")
                                         for f in fleet.application_files) for path in change.paths)


def last_change(walker: HistoryWalker, commits: list[str], reached_root: bool) -> LastChange | None:
    """The newest of `commits` (a first-parent history, newest first) that changed the walker's application on
    any of its clusters; None when none did. `reached_root` says the list ends with the repository's first
    commit (whose parent's output is ABSENT everywhere) rather than at a walk limit."""
    last_good: dict[str, tuple[int, str]] = {}  # cluster -> (index, output) of its oldest good render so far
    changed_at: dict[str, int] = {}  # cluster -> index of the commit that last changed it
    best: int | None = None
    for index, commit in enumerate(commits):
        if best is not None and all(last_good.get(c, (index, ""))[0] >= best
                                    for c in walker.clusters if c not in changed_at):
            break  # no cluster still undecided could name a newer commit than `best`
        for cluster, output in walker.outputs(commit).items():
            if cluster in changed_at or output is _FAILED:
                continue
            previous = last_good.get(cluster)
            if previous is not None and previous[1] != output:
                changed_at[cluster] = previous[0]
                best = previous[0] if best is None else min(best, previous[0])
            else:
                last_good[cluster] = (index, output)
    else:
        if reached_root:  # before the first commit the application ran nowhere
            for cluster, (index, output) in last_good.items():
                if cluster not in changed_at and output != ABSENT:
                    changed_at[cluster] = index
                    best = index if best is None else min(best, index)
    if best is None:
        return None
    clusters = tuple(sorted(c for c, index in changed_at.items() if index == best))
    return LastChange(commits[best], clusters, root=reached_root and best == len(commits) - 1)
