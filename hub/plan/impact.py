"""Change impact: which (cluster, application) pairs a commit affects, from what their renders read.

A networkx graph with three kinds of nodes: repository paths, kustomization directories and pairs. An edge
runs from a path to the directory whose build observed it (read it, listed it, or found it missing), from a
directory to the directory that built it as a base or resource, and from a directory to each pair whose
source it is. The pairs a commit affects are the pair nodes reachable from the paths the commit changed,
plus the pairs whose application definition changed (see `hub.plan.desired`). Built from the `Inputs`
trees the renderer records, so it is exact: a file no render read affects nothing.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

import networkx as nx

from hub.render.inputs import Inputs


@dataclass(frozen=True, order=True)
class Pair:
    """One application on one cluster."""

    cluster: str
    app: str

    def __str__(self) -> str:
        return f"{self.cluster}/{self.app}"


def _path(path: str) -> tuple[str, str]:
    return ("path", path)


def _directory(directory: str) -> tuple[str, str]:
    return ("kustomization", directory)


class ImpactGraph:
    """Paths -> kustomization directories -> pairs, kept up to date as pairs are rendered."""

    def __init__(self) -> None:
        self.graph = nx.DiGraph()
        self._recorded: dict[str, Inputs] = {}  # directory -> the inputs its edges currently come from

    def record(self, pair: Pair, inputs: Inputs) -> None:
        """Set what `pair`'s latest render read: the tree of inputs its source directory's build recorded.
        A directory's edges are replaced by those of its latest build."""
        pair_node = ("pair", pair.cluster, pair.app)
        if pair_node in self.graph:
            self.graph.remove_edges_from(list(self.graph.in_edges(pair_node)))
        self.graph.add_edge(_directory(inputs.directory), pair_node)
        stack = [inputs]
        while stack:
            node = stack.pop()
            if self._recorded.get(node.directory) is node:
                continue  # already in the graph (a base shared by many pairs)
            self._recorded[node.directory] = node
            target = _directory(node.directory)
            if target in self.graph:
                self.graph.remove_edges_from(list(self.graph.in_edges(target)))
            self.graph.add_edges_from((_path(path), target) for _, path, _ in node.own)
            self.graph.add_edges_from((_directory(child.directory), target) for child in node.children
                                      if child.directory != node.directory)
            stack.extend(node.children)

    def forget(self, pair: Pair) -> None:
        """Drop a pair that no longer exists (its application or cluster left the fleet)."""
        node = ("pair", pair.cluster, pair.app)
        if node in self.graph:
            self.graph.remove_node(node)

    def pairs(self) -> set[Pair]:
        return {Pair(node[1], node[2]) for node in self.graph if node[0] == "pair"}

    def affected(self, changed_paths: set[str]) -> set[Pair]:
        """The pairs whose render read any of `changed_paths` (directly or through a base)."""
        starts = [_path(p) for p in changed_paths if _path(p) in self.graph]
        reached: set[tuple] = set()
        for start in starts:
            if start not in reached:
                reached |= nx.descendants(self.graph, start)
        return {Pair(node[1], node[2]) for node in reached if node[0] == "pair"}

    def directories_reading(self, path: str) -> set[str]:
        """The kustomization directories whose own build observed `path` (for explaining an impact)."""
        node = _path(path)
        if node not in self.graph:
            return set()
        return {succ[1] for succ in self.graph.successors(node)}


def changed_paths(repo_path: str, old_revision: str, new_revision: str) -> set[str]:
    """The repository paths a change from `old_revision` to `new_revision` touched: every added, deleted,
    modified or renamed file (both names), and every ancestor directory of an added or deleted file (their
    listings changed)."""
    import git

    repo = git.Repo(repo_path)
    old, new = repo.commit(old_revision), repo.commit(new_revision)
    paths: set[str] = set()
    for diff in old.diff(new):
        for path in {diff.a_path, diff.b_path} - {None}:
            paths.add(path)
            if diff.new_file or diff.deleted_file or diff.renamed_file or diff.a_path != diff.b_path:
                parent = posixpath.dirname(path)
                while True:
                    paths.add(parent)
                    if not parent:
                        break
                    parent = posixpath.dirname(parent)
    return paths
