"""The whole fleet rendered at one revision, and moved to the next revision by re-rendering only what changed.

`FleetRenderer.render(revision)` renders every (cluster, application) pair the fleet definition assigns.
`FleetRenderer.advance(revision)` diffs the two commits' trees, asks the change-impact graph which pairs
read a changed path, adds the pairs whose definition in fleet.yaml changed (or that are new), drops the
pairs that left, and renders only those; every other pair keeps its desired state object as it was.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from hub.fleet.load import load_fleet
from hub.fleet.model import Application, Cluster, Fleet
from hub.plan.desired import AppDesiredState, Renderer
from hub.plan.impact import Change, ImpactGraph, Pair, changed_paths
from hub.render.files import GitTreeFiles


@dataclass
class FleetState:
    """Every pair's desired state at one revision."""

    revision: str
    fleet: Fleet
    states: dict[Pair, AppDesiredState] = field(default_factory=dict)

    def cluster(self, name: str) -> list[AppDesiredState]:
        return [state for pair, state in sorted(self.states.items()) if pair.cluster == name]


def _definition(fleet: Fleet, cluster: Cluster, app: Application) -> tuple:
    """What of fleet.yaml a pair's render depends on: the application, the cluster and its environment."""
    return app, cluster, fleet.environment_for(cluster)


def _assignments(fleet: Fleet) -> dict[Pair, tuple[Cluster, Application]]:
    return {Pair(cluster.name, app.name): (cluster, app) for cluster, app in fleet.assignments()}


class FleetRenderer:
    """Renders a Git repository's fleet revision by revision, reusing everything a commit did not touch."""

    def __init__(self, repo_path: str | os.PathLike[str], *, renderer: Renderer | None = None,
                 clusters: Callable[[Cluster], bool] | None = None) -> None:
        """`renderer`: share one (and its build memo) between several FleetRenderers; `clusters`: render only the
        pairs of the clusters it accepts (an environment's, for example); default all."""
        self.repo_path = str(repo_path)
        self.renderer = renderer if renderer is not None else Renderer()
        self.graph = ImpactGraph()
        self.current: FleetState | None = None
        self.clusters = clusters

    def _assignments(self, fleet: Fleet) -> dict[Pair, tuple[Cluster, Application]]:
        pairs = _assignments(fleet)
        if self.clusters is None:
            return pairs
        return {pair: assignment for pair, assignment in pairs.items() if self.clusters(assignment[0])}

    def render(self, revision: str = "HEAD") -> FleetState:
        """Render every pair at `revision` (a full render; the build memo is still used and filled)."""
        files = GitTreeFiles(self.repo_path, revision)
        fleet = load_fleet(files)
        state = FleetState(files.revision, fleet)
        for pair, (cluster, app) in sorted(self._assignments(fleet).items()):
            state.states[pair] = self._render_pair(files, fleet, cluster, app)
        self.current = state
        return state

    def advance(self, revision: str) -> tuple[FleetState, set[Pair]]:
        """Move to `revision`, re-rendering only the affected pairs; returns the new state and those pairs."""
        if self.current is None:
            state = self.render(revision)
            return state, set(state.states)
        previous = self.current
        files = GitTreeFiles(self.repo_path, revision)
        changed = changed_paths(self.repo_path, previous.revision, files.revision)
        fleet_changed = self._fleet_files_changed(previous.fleet, changed)
        fleet = load_fleet(files) if fleet_changed else previous.fleet
        affected = self.graph.affected(changed)
        state = FleetState(files.revision, fleet, dict(previous.states))
        if fleet_changed:  # pairs that are new, or whose application, cluster or environment changed
            assignments, before = self._assignments(fleet), self._assignments(previous.fleet)
            affected &= set(assignments)
            for pair, (cluster, app) in assignments.items():
                if pair not in before or \
                        _definition(fleet, cluster, app) != _definition(previous.fleet, *before[pair]):
                    affected.add(pair)
            for pair in set(before) - set(assignments):
                self.graph.forget(pair)
                del state.states[pair]
        for pair in sorted(affected):
            state.states[pair] = self._render_pair(files, fleet, fleet.cluster(pair.cluster),
                                                   fleet.application(pair.app, pair.cluster))
        self.current = state
        return state, affected

    def _fleet_files_changed(self, fleet: Fleet, change: Change) -> bool:
        if fleet.file in change.paths:
            return True
        return any(p == f or p.startswith(f.rstrip("/") + "/") for f in fleet.application_files
                   for p in change.paths)

    def _render_pair(self, files: GitTreeFiles, fleet: Fleet, cluster: Cluster, app: Application) -> AppDesiredState:
        state = self.renderer.render_app(files, fleet, cluster, app)
        if state.inputs is not None:
            self.graph.record(state.pair, state.inputs)
        return state
