"""What a build read: every observation of the repository, recorded so that a result can be reused or invalidated.

A build's output is a function of what it observed through `RepoFiles`: the kind of each path it probed
(including paths it found missing), the content of each file it read, and the entries of each directory it
listed. `RecordingFiles` wraps a view; each `scope` (one per kustomization directory being built) collects
the observations made directly inside it, and holds the scopes of the directories it built in turn, so a
build leaves a tree of `Inputs` that mirrors the kustomization tree. An `Inputs` tree can be checked against
another revision's view (`still_valid`) and gives the paths a change to which would invalidate it, which is
what the change-impact graph is made of.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from hub.render.files import Kind, RepoFiles

# One observation: ("kind", path, kind-or-None), ("read", path, content id) or ("list", path, entries).
Observation = tuple[str, str, object]


@dataclass(eq=False)
class Inputs:
    """The observations made while building `directory`, and the inputs of the directories it built."""

    directory: str
    own: set[Observation] = field(default_factory=set)
    children: list[Inputs] = field(default_factory=list)

    def walk(self) -> Iterator[Inputs]:
        """This node and every node below it, each once."""
        seen: set[int] = set()
        stack = [self]
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            yield node
            stack.extend(node.children)

    def observations(self) -> set[Observation]:
        """Every observation of this build, its own and its children's."""
        result: set[Observation] = set()
        for node in self.walk():
            result |= node.own
        return result

    def paths(self) -> set[str]:
        """Every repository path whose change (content, existence, entries) could change the result."""
        return {path for _, path, _ in self.observations()}

    def still_valid(self, files: RepoFiles) -> bool:
        """Whether `files` shows the repository exactly as these observations saw it."""
        for op, path, seen in self.observations():
            try:
                if op == "kind":
                    now: object = files.kind(path)
                elif op == "read":
                    now = files.content_id(path)
                else:
                    now = tuple(files.listdir(path))
            except Exception:  # noqa: BLE001 - a path that now fails to read (gone, escaping link) is a change
                return False
            if now != seen:
                return False
        return True


class RecordingFiles(RepoFiles):
    """A view that records every observation made through it into the innermost open scope."""

    def __init__(self, inner: RepoFiles) -> None:
        self.inner = inner
        self._scopes: list[Inputs] = []

    @contextmanager
    def scope(self, directory: str) -> Iterator[Inputs]:
        """Record the observations made inside the `with` block as the inputs of `directory`; the new scope
        becomes a child of the scope that was open."""
        inputs = Inputs(directory)
        if self._scopes:
            self._scopes[-1].children.append(inputs)
        self._scopes.append(inputs)
        try:
            yield inputs
        finally:
            self._scopes.pop()

    def adopt(self, inputs: Inputs) -> None:
        """Attach the inputs of a build made earlier (a memoised directory reused here) to the open scope."""
        if self._scopes:
            self._scopes[-1].children.append(inputs)

    def _record(self, observation: Observation) -> None:
        if self._scopes:
            own = self._scopes[-1].own
            own.add(observation)
            op, path, seen = observation
            real = self.inner.real_path(path)
            if real != path:  # read through a symlink: a change to the target must invalidate too
                own.add((op, real, seen))

    @property
    def label(self) -> str:
        return self.inner.label

    def real_path(self, path: str) -> str:
        return self.inner.real_path(path)

    def kind(self, path: str) -> Kind | None:
        result = self.inner.kind(path)
        self._record(("kind", path, result))
        return result

    def read(self, path: str) -> bytes:
        data, content_id = self.inner.read_with_id(path)
        self._record(("read", path, content_id))
        return data

    def read_with_id(self, path: str) -> tuple[bytes, str]:
        data, content_id = self.inner.read_with_id(path)
        self._record(("read", path, content_id))
        return data, content_id

    def listdir(self, path: str) -> list[str]:
        entries = self.inner.listdir(path)
        self._record(("list", path, tuple(entries)))
        return entries

    def content_id(self, path: str) -> str:
        result = self.inner.content_id(path)
        self._record(("read", path, result))
        return result
