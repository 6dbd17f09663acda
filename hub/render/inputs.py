"""What a build read: every observation of the repository, recorded so that a result can be reused or invalidated.

A build's output is a function of what it observed through `RepoFiles`: the kind of each path it probed
(including paths it found missing), the content of each file it read, and the entries of each directory it
listed. `RecordingFiles` wraps a view and adds each observation to every open scope; an `Inputs` set can be
checked against another revision's view (`still_valid`), and turned into the repository paths a change to
which would invalidate it (`paths`), which is what the change-impact graph is made of.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from hub.render.files import Kind, RepoFiles

# One observation: ("kind", path, kind-or-None), ("read", path, content id) or ("list", path, entries).
Observation = tuple[str, str, object]


@dataclass
class Inputs:
    """The observations one build made."""

    observations: set[Observation] = field(default_factory=set)

    def still_valid(self, files: RepoFiles) -> bool:
        """Whether `files` shows the repository exactly as these observations saw it."""
        for op, path, seen in self.observations:
            try:
                if op == "kind":
                    now: object = files.kind(path)
                elif op == "read":
                    now = files.content_id(path)
                else:
                    now = tuple(files.listdir(path))
            except (FileNotFoundError, OSError):
                return False
            except Exception:  # noqa: BLE001 - a path that now fails (e.g. an escaping symlink) is a change
                return False
            if now != seen:
                return False
        return True

    def paths(self) -> set[str]:
        """Every repository path whose change (content, existence, or entries) could change the result."""
        return {path for _, path, _ in self.observations}


class RecordingFiles(RepoFiles):
    """A view that records every observation made through it into the scopes open at that moment."""

    def __init__(self, inner: RepoFiles) -> None:
        self.inner = inner
        self._scopes: list[Inputs] = []

    @contextmanager
    def scope(self) -> Iterator[Inputs]:
        """Record the observations made inside the `with` block (nested scopes all receive them)."""
        inputs = Inputs()
        self._scopes.append(inputs)
        try:
            yield inputs
        finally:
            self._scopes.remove(inputs)

    def note(self, observations: set[Observation]) -> None:
        """Add observations made elsewhere (a memoised sub-build reused here) to the open scopes."""
        for inputs in self._scopes:
            inputs.observations |= observations

    def _record(self, observation: Observation) -> None:
        for inputs in self._scopes:
            inputs.observations.add(observation)

    @property
    def label(self) -> str:
        return self.inner.label

    def kind(self, path: str) -> Kind | None:
        result = self.inner.kind(path)
        self._record(("kind", path, result))
        return result

    def read(self, path: str) -> bytes:
        data, content_id = self.inner.read_with_id(path)
        self._record(("read", path, content_id))
        return data

    def listdir(self, path: str) -> list[str]:
        entries = self.inner.listdir(path)
        self._record(("list", path, tuple(entries)))
        return entries

    def content_id(self, path: str) -> str:
        result = self.inner.content_id(path)
        self._record(("read", path, result))
        return result
