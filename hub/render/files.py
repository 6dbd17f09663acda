"""The only way the renderer reads a repository: a working directory, or a Git commit's tree without checkout.

Paths are repository-relative POSIX strings ("" is the root). `resolve` turns a reference written in a
kustomization into such a path and refuses what would leave the repository: absolute paths, `..` escapes,
remote URLs, and symlinks whose target lies outside. Both implementations follow symlinks that stay inside.
`content_id` gives a cheap identity of a file's bytes (the blob id in Git) for memoisation.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import stat
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Literal

from hub.render.errors import RenderError

Kind = Literal["file", "dir"]

_REMOTE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://|git@|github\.com/|gitlab\.com/|bitbucket\.org/)")
_MAX_LINK_HOPS = 40


class RepoFiles(ABC):
    """A read-only view of one revision of a repository."""

    @abstractmethod
    def kind(self, path: str) -> Kind | None:
        """"file", "dir", or None when nothing is there (symlinks followed)."""

    @abstractmethod
    def read(self, path: str) -> bytes:
        """The bytes of a file; FileNotFoundError when `path` is not a file."""

    @abstractmethod
    def listdir(self, path: str) -> list[str]:
        """The sorted entry names of a directory."""

    @abstractmethod
    def content_id(self, path: str) -> str:
        """An identity of the file's content: equal ids mean equal bytes."""

    @property
    @abstractmethod
    def label(self) -> str:
        """What this view shows, for messages: a directory or `repo@revision`."""

    def read_with_id(self, path: str) -> tuple[bytes, str]:
        """The bytes of a file and their `content_id`, in one go where the view can."""
        return self.read(path), self.content_id(path)

    def real_path(self, path: str) -> str:
        """`path` with symlinks resolved (a repository path; `path` itself when no link is on the way)."""
        return path


def resolve(base_dir: str, reference: str, file: str, field: str) -> str:
    """The repository path `reference` names, written in `file` (whose directory is `base_dir`) at `field`.

    Refuses remote URLs, absolute paths and paths that climb out of the repository, with a RenderError
    naming the file and field."""
    if not isinstance(reference, str) or not reference.strip():
        raise RenderError(file, f"expected a relative path, found {reference!r}", field)
    if _REMOTE.match(reference) or "?ref=" in reference:
        raise RenderError(file, f"remote resource {reference!r} is not supported: Fleetline renders only files "
                                "in the repository (vendor the remote base into the repository instead)", field)
    if reference.startswith("/") or re.match(r"^[a-zA-Z]:[\\/]", reference):
        raise RenderError(file, f"absolute path {reference!r} is not allowed: use a path relative to "
                                f"{base_dir or 'the repository root'}", field)
    joined = posixpath.normpath(posixpath.join(base_dir, reference))
    if joined == ".":
        return ""
    if joined == ".." or joined.startswith("../"):
        raise RenderError(file, f"path {reference!r} leaves the repository: a kustomization may only read files "
                                "inside the repository", field)
    return joined


def within(directory: str, path: str) -> bool:
    """Whether `path` is `directory` or below it (both repository paths)."""
    return directory == "" or path == directory or path.startswith(directory + "/")


class DirectoryFiles(RepoFiles):
    """A repository as a directory on disk (a working tree, or any directory treated as the root)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = os.path.realpath(root)

    @property
    def label(self) -> str:
        return self.root

    def _real(self, path: str) -> str | None:
        """The real on-disk path of `path`, or None when it does not exist; refuses symlinks leaving root."""
        candidate = os.path.join(self.root, path) if path else self.root
        if not os.path.lexists(candidate):
            return None
        real = os.path.realpath(candidate)
        if real != self.root and not real.startswith(self.root + os.sep):
            raise RenderError(path, "is a symlink to a target outside the repository; only links that stay "
                                    "inside the repository are followed")
        return real if os.path.exists(real) else None

    def real_path(self, path: str) -> str:
        real = self._real(path)
        if real is None:
            return path
        return "" if real == self.root else os.path.relpath(real, self.root).replace(os.sep, "/")

    def kind(self, path: str) -> Kind | None:
        real = self._real(path)
        if real is None:
            return None
        mode = os.stat(real).st_mode
        if stat.S_ISDIR(mode):
            return "dir"
        return "file" if stat.S_ISREG(mode) else None

    def read(self, path: str) -> bytes:
        real = self._real(path)
        if real is None or not os.path.isfile(real):
            raise FileNotFoundError(path)
        with open(real, "rb") as handle:
            return handle.read()

    def listdir(self, path: str) -> list[str]:
        real = self._real(path)
        if real is None or not os.path.isdir(real):
            raise FileNotFoundError(path)
        return sorted(os.listdir(real))

    def content_id(self, path: str) -> str:
        return self.read_with_id(path)[1]

    def read_with_id(self, path: str) -> tuple[bytes, str]:
        data = self.read(path)
        return data, hashlib.sha1(data).hexdigest()  # noqa: S324 - an identity, not a signature


_TREE_MODE = 0o040000
_LINK_MODE = 0o120000
_FILE_MODES = (0o100644, 0o100755, 0o100664)


@dataclass(frozen=True)
class _Entry:
    """One entry of a Git tree: its mode and object id (binary)."""

    mode: int
    binsha: bytes


class GitTreeFiles(RepoFiles):
    """One commit's tree of a Git repository, read through GitPython's object database without a checkout.

    Each directory's tree object is parsed once per view (GitPython's Tree re-parses on every lookup, which
    is quadratic for a directory of 1,000 cluster overlays), and each blob is read once per view."""

    def __init__(self, repo_path: str | os.PathLike[str], revision: str = "HEAD") -> None:
        import git  # GitPython; imported here so that directory rendering does not need it

        self.repo = git.Repo(repo_path)
        try:
            self.commit = self.repo.commit(revision)
        except (git.BadName, ValueError) as exc:
            raise RenderError(str(repo_path), f"revision {revision!r} not found in the repository") from exc
        self.revision = self.commit.hexsha
        self._root = _Entry(_TREE_MODE, self.commit.tree.binsha)
        self._trees: dict[bytes, dict[str, _Entry]] = {}
        self._entries: dict[str, _Entry | None] = {}
        self._real: dict[str, str] = {}  # path -> the path it resolves to, where a symlink is on the way
        self._blobs: dict[bytes, bytes] = {}  # a view is read many times over (a base by every overlay)

    @property
    def label(self) -> str:
        return f"{self.repo.working_dir or self.repo.git_dir}@{self.revision[:12]}"

    def _tree(self, binsha: bytes) -> dict[str, _Entry]:
        entries = self._trees.get(binsha)
        if entries is None:
            from git.objects.fun import tree_entries_from_data

            data = self.repo.odb.stream(binsha).read()
            entries = {name: _Entry(mode, sha) for sha, mode, name in tree_entries_from_data(data)}
            self._trees[binsha] = entries
        return entries

    def _lookup(self, path: str) -> _Entry | None:
        """The entry at `path` with symlinks resolved (None when absent)."""
        if path not in self._entries:
            self._entries[path] = self._walk(path, 0)
        return self._entries[path]

    def _walk(self, path: str, hops: int) -> _Entry | None:
        node = self._root
        parts = [p for p in path.split("/") if p]
        for index, part in enumerate(parts):
            if node.mode != _TREE_MODE:
                return None
            found = self._tree(node.binsha).get(part)
            if found is None:
                return None
            node = found
            if node.mode == _LINK_MODE:  # a symlink: follow it inside the tree
                if hops >= _MAX_LINK_HOPS:
                    raise RenderError(path, "too many levels of symbolic links")
                target = self.repo.odb.stream(node.binsha).read().decode("utf-8", "replace")
                link_dir = "/".join(parts[:index])
                if target.startswith("/"):
                    raise RenderError(path, f"is a symlink to the absolute path {target!r}; only links that stay "
                                            "inside the repository are followed")
                joined = posixpath.normpath(posixpath.join(link_dir, target, *parts[index + 1:]))
                if joined == ".." or joined.startswith("../"):
                    raise RenderError(path, f"is a symlink to {target!r}, outside the repository; only links "
                                            "that stay inside the repository are followed")
                resolved = "" if joined == "." else joined
                entry = self._walk(resolved, hops + 1)
                self._real[path] = self._real.get(resolved, resolved)
                return entry
        return node

    def real_path(self, path: str) -> str:
        self._lookup(path)
        return self._real.get(path, path)

    def kind(self, path: str) -> Kind | None:
        node = self._lookup(path)
        if node is None:
            return None
        if node.mode == _TREE_MODE:
            return "dir"
        return "file" if node.mode in _FILE_MODES else None

    def _file(self, path: str) -> _Entry:
        node = self._lookup(path)
        if node is None or node.mode not in _FILE_MODES:
            raise FileNotFoundError(path)
        return node

    def _blob(self, binsha: bytes) -> bytes:
        data = self._blobs.get(binsha)
        if data is None:
            data = self._blobs[binsha] = self.repo.odb.stream(binsha).read()
        return data

    def read(self, path: str) -> bytes:
        return self._blob(self._file(path).binsha)

    def listdir(self, path: str) -> list[str]:
        node = self._lookup(path)
        if node is None or node.mode != _TREE_MODE:
            raise FileNotFoundError(path)
        return sorted(self._tree(node.binsha))

    def content_id(self, path: str) -> str:
        return self._file(path).binsha.hex()

    def read_with_id(self, path: str) -> tuple[bytes, str]:
        node = self._file(path)
        return self._blob(node.binsha), node.binsha.hex()
