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


def _listing(path: str) -> tuple[str, str]:
    return ("listing", path)


def _observed(op: str, path: str) -> tuple[str, str]:
    return _listing(path) if op == "list" else _path(path)


def _directory(directory: str) -> tuple[str, str]:
    return ("kustomization", directory)


class ImpactGraph:
    """Paths -> kustomization directories -> pairs, kept up to date as pairs are rendered."""

    def __init__(self) -> None:
        self.graph = nx.DiGraph()
        self._recorded: dict[str, list[Inputs]] = {}  # directory -> the inputs its edges currently come from

    def record(self, pair: Pair, inputs: Inputs) -> None:
        """Set what `pair`'s latest render read: the tree of inputs its source directory's build recorded.
        A directory's edges are replaced by those of its latest build."""
        pair_node = ("pair", pair.cluster, pair.app)
        if pair_node in self.graph:
            self.graph.remove_edges_from(list(self.graph.in_edges(pair_node)))
        self.graph.add_edge(_directory(inputs.directory), pair_node)
        groups: dict[str, list[Inputs]] = {}  # a directory's nodes in this tree (a top build and its accumulation)
        stack = [inputs]
        while stack:
            node = stack.pop()
            group = groups.setdefault(node.directory, [])
            if node not in group:
                group.append(node)
                stack.extend(node.children)
        for directory, nodes in groups.items():
            recorded = self._recorded.get(directory, [])
            if len(recorded) == len(nodes) and all(node in recorded for node in nodes):
                continue  # already in the graph (a base shared by many pairs)
            target = _directory(directory)
            if target in self.graph:
                self.graph.remove_edges_from(list(self.graph.in_edges(target)))
            self._recorded[directory] = nodes
            for node in nodes:
                self.graph.add_edges_from((_observed(op, path), target) for op, path, _ in node.own)
                self.graph.add_edges_from((_directory(child.directory), target) for child in node.children
                                          if child.directory != directory)

    def forget(self, pair: Pair) -> None:
        """Drop a pair that no longer exists (its application or cluster left the fleet)."""
        node = ("pair", pair.cluster, pair.app)
        if node in self.graph:
            self.graph.remove_node(node)

    def pairs(self) -> set[Pair]:
        return {Pair(node[1], node[2]) for node in self.graph if node[0] == "pair"}

    def affected(self, change: Change) -> set[Pair]:
        """The pairs whose render observed anything `change` changed (directly or through a base)."""
        starts = [n for n in [*map(_path, change.paths), *map(_listing, change.listings)] if n in self.graph]
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


@dataclass(frozen=True)
class Change:
    """What a commit changed, in the terms builds observe: paths whose content or existence changed, and
    directories whose list of entries changed."""

    paths: frozenset[str]
    listings: frozenset[str]

    def __bool__(self) -> bool:
        return bool(self.paths or self.listings)


def changed_paths(repo_path: str, old_revision: str, new_revision: str) -> Change:
    """The change from `old_revision` to `new_revision`: every added, deleted, modified or renamed file
    (both names), every directory created or removed with them, and the directories whose entries changed."""
    from hub.render.files import GitTreeFiles

    old, new = GitTreeFiles(repo_path, old_revision), GitTreeFiles(repo_path, new_revision)
    paths: set[str] = set()
    listings: set[str] = set()
    for diff in old.commit.diff(new.commit):
        for path in {diff.a_path, diff.b_path} - {None}:
            paths.add(path)
            if old.kind(path) is not None and new.kind(path) is not None:
                continue  # modified in place: no listing changed
            parent = posixpath.dirname(path)
            while True:
                listings.add(parent)
                if (old.kind(parent) is None) != (new.kind(parent) is None):
                    paths.add(parent)  # the directory itself appeared or disappeared
                if not parent:
                    break
                parent = posixpath.dirname(parent)
    return Change(frozenset(paths), frozenset(listings))
