"""Promotion as a Git operation: a new image tag and its model version, written together in one commit.

`promote` brings the hub's working clone up to date with the tracked branch (refusing a dirty or diverged
clone), plans the edits in every overlay named (`hub.changes.overlay`: the kustomize `images` entry's
`newTag`, and the model-version value of a configMapGenerator literal, env file or ConfigMap manifest), refuses
everything when any overlay lacks the image or the key, writes the files with only those values changed
(comments, order and quoting kept, `hub.changes.yamledit`), commits them in one commit by the author and pushes
it to the branch. Server and model version therefore always move together: there is no commit in which one
has moved without the other.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from hub.changes.errors import NothingToPromoteError, PromotionError
from hub.changes.overlay import FileChange, Overlay
from hub.changes.workclone import WorkClone, parse_author

DEFAULT_KEY = "MODEL_VERSION"
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")  # an OCI image tag


@dataclass(frozen=True)
class Promotion:
    """A pushed promotion: its commit, the files it changed (repository paths), and its message."""

    commit: str
    files: tuple[str, ...]
    message: str
    branch: str


def promote(clone_path: str | os.PathLike[str], ref: str, overlay_dir: str | Sequence[str], image: str, new_tag: str,
            model_version: str, author: str, *, configmap: str | None = None, key: str = DEFAULT_KEY,
            remote: str = "origin") -> Promotion:
    """Set `image`'s `newTag` to `new_tag` and the model version `key` (of ConfigMap `configmap`, or of the one
    ConfigMap the overlay sets `key` in) to `model_version` in the overlay directory `overlay_dir` (or in each
    of several), in one commit by `author` (`Name <email>`), pushed to `ref` on `remote`.

    Raises a ChangeError subclass, leaving the clone as it was, when the clone is dirty or diverged, an input is
    malformed, an overlay has no such image entry or key (the error names the file and what is there), an edit
    cannot be made without touching other content, or the push is refused; NothingToPromoteError when every
    value is already as asked."""
    identity = parse_author(author)
    if not _TAG.match(new_tag or ""):
        raise PromotionError(f"image tag {new_tag!r} is not a valid tag (letters, digits, '_', '.', '-'; at most 128 "
                             "characters, not starting with '.' or '-')")
    if not model_version or model_version != model_version.strip() or "\n" in model_version:
        raise PromotionError(f"model version {model_version!r} must be a non-empty single-line value without "
                             "surrounding spaces")
    if not image or not key or "=" in key:
        raise PromotionError("promote needs an image name (as in the overlay's images entry) and a ConfigMap key "
                             "(without '=')")
    directories = [overlay_dir] if isinstance(overlay_dir, str) else list(dict.fromkeys(overlay_dir))
    if not directories:
        raise PromotionError("promote needs at least one overlay directory")
    clone = WorkClone(clone_path, ref, remote)
    with clone.change():
        changes = _plan(clone.path, directories, image, new_tag, key, model_version, configmap)
        changed = [change for change in changes if change.changed]
        if not changed:
            raise NothingToPromoteError(f"nothing to promote: {'; '.join(n for c in changes for n in c.notes)}")
        for change in changed:
            with open(os.path.join(clone.path, *change.path.split("/")), "w", encoding="utf-8",
                      newline="") as handle:
                handle.write(change.new)
        files = tuple(change.path for change in changed)
        message = _message(image, new_tag, key, model_version, directories, changes)
        clone.git("add", "--", *files)
        clone.git("commit", "--quiet", "--cleanup=whitespace", "-m", message, env=identity.env())
        commit = clone.head()
        clone.push()
    return Promotion(commit, files, message, clone.branch)


def _plan(root: str, directories: list[str], image: str, new_tag: str, key: str, value: str,
          configmap: str | None) -> list[FileChange]:
    """Every overlay's changes, planned before anything is written; a file claimed by two overlays is refused."""
    changes: list[FileChange] = []
    owners: dict[str, str] = {}
    for directory in directories:
        overlay = Overlay(root, directory)
        for change in overlay.plan(image, new_tag, key, value, configmap):
            if change.path in owners:
                raise PromotionError(f"{change.path} belongs to both overlay {owners[change.path]} and "
                                     f"{overlay.directory}; promote them separately")
            owners[change.path] = overlay.directory
            changes.append(change)
    return changes


def _message(image: str, new_tag: str, key: str, value: str, directories: list[str],
             changes: list[FileChange]) -> str:
    where = directories[0] if len(directories) == 1 else f"{len(directories)} overlays"
    notes = "\n".join(f"- {note}" for change in changes for note in change.notes)
    return (f"Promote {image} to {new_tag} with {key} {value} in {where}\n\n"
            "Image and model version are set in one commit so that they cannot drift apart:\n"
            f"{notes}\n\n"
            f"Fleetline-Promotion: {image}:{new_tag} {key}={value}\n")
