"""Content-addressed memoisation of kustomization builds, across clusters and across revisions.

A base shared by 300 cluster overlays is accumulated once per distinct input, not 300 times: `MemoBuilder`
wraps `Builder.accumulate_directory` so that each directory's result is stored with the `Inputs` it read,
and reused (as a fresh copy) whenever a view of the repository shows those inputs unchanged. Validity is
checked once per view and directory; a new revision re-checks only content ids (Git blob ids), which is
cheap. `BuildMemo` is the only shared state and belongs to one renderer (no globals).
"""

from __future__ import annotations

import weakref
from collections import Counter, OrderedDict

from hub.render.build import Builder
from hub.render.files import RepoFiles
from hub.render.inputs import Inputs, RecordingFiles
from hub.render.resource import Resource

Entry = tuple[Inputs, list[Resource]]


class BuildMemo:
    """Accumulated directories, each under the inputs it was built from; a bounded LRU per directory."""

    def __init__(self, versions_per_directory: int = 4) -> None:
        self.versions_per_directory = versions_per_directory
        self._entries: dict[str, OrderedDict[int, Entry]] = {}
        self._checked: weakref.WeakKeyDictionary[RepoFiles, dict[str, Entry | None]] = weakref.WeakKeyDictionary()
        self.hits = 0
        self.misses = 0
        self.builds: Counter[str] = Counter()  # directory -> how many times it was built (stored)

    def lookup(self, files: RepoFiles, directory: str) -> Entry | None:
        """The stored build of `directory` whose inputs `files` still shows, if any."""
        checked = self._checked.setdefault(files, {})
        if directory in checked:
            entry = checked[directory]
        else:
            entry = None
            versions = self._entries.get(directory, OrderedDict())
            for key, candidate in reversed(versions.items()):
                if candidate[0].still_valid(files):
                    versions.move_to_end(key)
                    entry = candidate
                    break
            checked[directory] = entry
        if entry is None:
            self.misses += 1
        else:
            self.hits += 1
        return entry

    def store(self, files: RepoFiles, directory: str, inputs: Inputs, resources: list[Resource]) -> None:
        self.builds[directory] += 1
        versions = self._entries.setdefault(directory, OrderedDict())
        versions[id(inputs)] = (inputs, resources)
        while len(versions) > self.versions_per_directory:
            versions.popitem(last=False)
        self._checked.setdefault(files, {})[directory] = (inputs, resources)

    def __len__(self) -> int:
        return sum(len(v) for v in self._entries.values())


class MemoBuilder(Builder):
    """A Builder whose directory accumulations are memoised in a `BuildMemo` and whose reads are recorded."""

    def __init__(self, files: RepoFiles, memo: BuildMemo) -> None:
        self.view = files
        self.recording = RecordingFiles(files)
        self.memo = memo
        super().__init__(self.recording)

    def accumulate_directory(self, path: str) -> list[Resource]:
        hit = self.memo.lookup(self.view, path)
        if hit is not None:
            inputs, stored = hit
            self.recording.adopt(inputs)
            return [res.copy() for res in stored]
        with self.recording.scope(path) as inputs:
            resources = super().accumulate_directory(path)
        self.memo.store(self.view, path, inputs, [res.copy() for res in resources])
        return resources

    def build_with_inputs(self, path: str) -> tuple[list[Resource], Inputs]:
        """`build(path)` and the tree of inputs it read (the top node is labelled with `path`)."""
        with self.recording.scope(path) as inputs:
            resources = self.build(path)
        return resources, inputs
