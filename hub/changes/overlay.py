"""Where a promotion writes in one kustomize overlay: the image's `newTag` and the coupled model version.

The image is the overlay kustomization's `images` entry whose `name` (or `newName`) is the image; its
`newTag` is replaced, or added when the entry has none. The model version is the value of `key` in a
ConfigMap of the overlay, wherever the overlay itself sets it:
  - a `configMapGenerator` literal `KEY=value` in the overlay's kustomization;
  - a `KEY=value` line of an env file (`envs:`) of such a generator, inside the overlay directory;
  - `data.KEY` of a ConfigMap manifest inside the overlay directory that the kustomization lists as a
    resource or as a strategic-merge patch (`patches[].path`, `patchesStrategicMerge`).
Files outside the overlay directory (a shared base) are never edited: promoting one overlay must not move
another. Inline patches (`patches[].patch`) are not searched. Every place the overlay sets `key` in the chosen
ConfigMap is changed; keys in several ConfigMaps are ambiguous unless `configmap` names one. Nothing is
written here: the result is the new text of each file, for `hub.changes.promote` to write and commit.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field

import yaml

from hub.changes.errors import PromotionError
from hub.changes.yamledit import Edit, add_key, apply, compose, get, items, replace_scalar, scalar
from hub.render.kustomization import KUSTOMIZATION_FILE_NAMES

_QUOTES = ('"', "'")


@dataclass
class FileChange:
    """One file's new text and what changed in it (repository-relative path)."""

    path: str
    old: str
    new: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.new) and self.new != self.old


@dataclass(frozen=True)
class _Site:
    """One place the model version is set: a YAML scalar (`node` at `document`/`path`) or an env-file line."""

    configmap: str
    file: str
    where: str  # for messages: configMapGenerator[x].literals, data.KEY, ...
    old: str  # the current value
    node: yaml.Node | None = None
    document: int = 0
    path: tuple[str | int, ...] = ()
    line: int = -1  # env files: the line's index
    prefix: str = ""  # literals: the `KEY=` text kept as written
    quote: str = ""  # literals and env lines: the quote wrapped around the value, kept


class Overlay:
    """One overlay directory of the working tree at `root`, read once and planned into file changes."""

    def __init__(self, root: str, directory: str) -> None:
        self.root = os.path.realpath(root)
        self.directory = _repo_path(directory, "overlay directory")
        if not os.path.isdir(self._disk(self.directory)):
            raise PromotionError(f"overlay directory {self.directory!r} does not exist in the repository")
        found = [name for name in KUSTOMIZATION_FILE_NAMES if os.path.isfile(self._disk(self._join(name)))]
        if not found:
            there = ", ".join(sorted(os.listdir(self._disk(self.directory)))) or "nothing"
            raise PromotionError(f"{self.directory}: no kustomization.yaml; the overlay to promote must be a "
                                 f"kustomize overlay (there: {there})")
        self.kustomization = self._join(found[0])
        self.texts: dict[str, str] = {}
        self.top = compose(self.text(self.kustomization), self.kustomization)
        if not self.top or not isinstance(self.top[0], yaml.MappingNode):
            raise PromotionError(f"{self.kustomization}: is not a kustomization (expected a mapping)")

    def plan(self, image: str, new_tag: str, key: str, value: str, configmap: str | None) -> list[FileChange]:
        """Each file involved, with its new text when it changes, and notes saying what changed (or was
        already at the new value)."""
        edits: dict[str, list[Edit]] = {}
        changes: dict[str, FileChange] = {}
        image_edit, note = self._image_edit(image, new_tag)
        self._change(changes, self.kustomization).notes.append(note)
        if image_edit is not None:
            edits.setdefault(self.kustomization, []).append(image_edit)
        env_lines: dict[str, dict[int, str]] = {}
        for site in self._model_sites(key, configmap):
            change = self._change(changes, site.file)
            if site.old == value:
                change.notes.append(f"{site.file}: {site.where} already {value}")
                continue
            change.notes.append(f"{site.file}: {site.where} {site.old} -> {value}")
            text = f"{site.prefix}{site.quote}{value}{site.quote}"
            if site.line >= 0:
                env_lines.setdefault(site.file, {})[site.line] = text
            else:
                edits.setdefault(site.file, []).append(
                    replace_scalar(site.node, site.file, site.document, site.path, text))  # type: ignore[arg-type]
        for path, file_edits in edits.items():
            changes[path].new = apply(self.text(path), file_edits, path)
        for path, lines in env_lines.items():
            changes[path].new = _replace_lines(self.text(path), lines)
        return list(changes.values())

    def text(self, path: str) -> str:
        if path not in self.texts:
            disk = self._disk(path)
            if os.path.realpath(disk) != disk:
                raise PromotionError(f"{path}: is reached through a symbolic link; promote the overlay that owns "
                                     "its target instead")
            with open(disk, encoding="utf-8", newline="") as handle:
                self.texts[path] = handle.read()
        return self.texts[path]

    def _change(self, changes: dict[str, FileChange], path: str) -> FileChange:
        if path not in changes:
            changes[path] = FileChange(path, self.text(path))
        return changes[path]

    def _image_edit(self, image: str, new_tag: str) -> tuple[Edit | None, str]:
        top, file = self.top[0], self.kustomization
        entries = items(_value(top, "images"))
        matches, listed = [], []
        for index, entry in enumerate(entries):
            name, new_name = scalar(_value(entry, "name")), scalar(_value(entry, "newName"))
            listed.append(name if not new_name else f"{name} (newName {new_name})")
            if image in (name, new_name):
                matches.append((index, entry))
        if not matches:
            there = f"its images entries: {', '.join(map(str, listed))}" if listed else "it has no images list"
            raise PromotionError(f"{file}: no images entry for {image!r} ({there}); name an image listed there, or "
                                 f"add an entry (images: [{{name: {image}, newTag: TAG}}]) in a separate commit")
        if len(matches) > 1:
            raise PromotionError(f"{file}: {len(matches)} images entries match {image!r}; keep one")
        index, entry = matches[0]
        label = f"images[{image}].newTag"
        if get(entry, "digest") is not None:
            raise PromotionError(f"{file}: {label}: the entry pins a digest, which wins over a tag; remove the "
                                 "digest first or promote by digest")
        tag = get(entry, "newTag")
        if tag is None:
            after = entry.value[-1][1] if entry.value else entry  # type: ignore[union-attr]
            return add_key(self.text(file), entry, after, file, 0, ("images", index, "newTag"), new_tag), \
                f"{file}: {label} (unset) -> {new_tag}"
        old = scalar(tag[1])
        if old == new_tag:
            return None, f"{file}: {label} already {new_tag}"
        return replace_scalar(tag[1], file, 0, ("images", index, "newTag"), new_tag), \
            f"{file}: {label} {old} -> {new_tag}"

    def _model_sites(self, key: str, configmap: str | None) -> list[_Site]:
        sites: list[_Site] = []
        seen: list[str] = []  # what is there, for the error when nothing matches
        for index, generator in enumerate(items(_value(self.top[0], "configMapGenerator"))):
            name = scalar(_value(generator, "name")) or ""
            keys: list[str] = []
            for number, literal in enumerate(items(_value(generator, "literals"))):
                text = scalar(literal) or ""
                literal_key, sep, old = text.partition("=")
                keys.append(literal_key.strip())
                if sep and literal_key.strip() == key and configmap in (None, name):
                    quote = old[0] if len(old) >= 2 and old[0] in _QUOTES and old[-1] == old[0] else ""
                    sites.append(_Site(name, self.kustomization, f"configMapGenerator[{name}].literals {key}",
                                       old[1:-1] if quote else old, literal, 0,
                                       ("configMapGenerator", index, "literals", number), prefix=literal_key + "=",
                                       quote=quote))
            envs = [scalar(node) for node in items(_value(generator, "envs"))] + [scalar(_value(generator, "env"))]
            for env in filter(None, envs):
                path = self._inside(env)
                if path is None:
                    seen.append(f"env file {env} of configMapGenerator {name} (outside the overlay: not edited)")
                    continue
                if not os.path.isfile(self._disk(path)):
                    seen.append(f"env file {path} of configMapGenerator {name} (missing)")
                    continue
                found = self._env_sites(path, name, key, keys)
                if configmap in (None, name):
                    sites.extend(found)
            seen.append(f"configMapGenerator {name} (keys: {', '.join(keys) or 'none'})")
        for path in self._manifest_files():
            for number, document in enumerate(compose(self.text(path), path)):
                if scalar(_value(document, "kind")) != "ConfigMap":
                    continue
                name = scalar(_value(_value(document, "metadata"), "name")) or ""
                data = _value(document, "data")
                keys = [scalar(k) or "" for k, _ in data.value] if isinstance(data, yaml.MappingNode) else []
                seen.append(f"ConfigMap {name} in {path} (data keys: {', '.join(keys) or 'none'})")
                entry = get(data, key) if data is not None else None
                if entry is not None and configmap in (None, name):
                    sites.append(_Site(name, path, f"ConfigMap {name} data.{key}", scalar(entry[1]) or "",
                                       entry[1], number, ("data", key)))
        if not sites:
            wanted = f"{key!r} in ConfigMap {configmap!r}" if configmap else repr(key)
            raise PromotionError(f"{self.directory}: no model-version value {wanted} is set in the overlay (there: "
                                 f"{'; '.join(seen) or 'no configMapGenerator and no ConfigMap manifest'}); add "
                                 f"{key}=VALUE to a configMapGenerator's literals in {self.kustomization}, or name "
                                 "the right ConfigMap and key (configmap=, key=)")
        names = sorted({site.configmap for site in sites})
        if len(names) > 1:
            raise PromotionError(f"{self.directory}: {key!r} is set in several ConfigMaps ({', '.join(names)}); say "
                                 "which one holds the model version (configmap=)")
        return sites

    def _env_sites(self, path: str, configmap: str, key: str, keys: list[str]) -> list[_Site]:
        sites = []
        for number, line in enumerate(self.text(path).splitlines()):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            env_key, sep, old = stripped.partition("=")
            keys.append(env_key.strip())
            if sep and env_key.strip() == key:
                quote = old[0] if len(old) >= 2 and old[0] in _QUOTES and old[-1] == old[0] else ""
                prefix = line[:line.index("=") + 1]
                sites.append(_Site(configmap, path, f"configMapGenerator[{configmap}] env {key}",
                                   old[1:-1] if quote else old, line=number, prefix=prefix, quote=quote))
        return sites

    def _manifest_files(self) -> list[str]:
        top = self.top[0]
        references = [scalar(node) for node in items(_value(top, "resources"))]
        references += [scalar(node) for node in items(_value(top, "patchesStrategicMerge"))]
        references += [scalar(_value(patch, "path")) for patch in items(_value(top, "patches"))]
        files = []
        for reference in filter(None, references):
            path = self._inside(reference)
            if path is not None and path not in files and os.path.isfile(self._disk(path)) \
                    and path.endswith((".yaml", ".yml")):
                files.append(path)
        return files

    def _inside(self, reference: str) -> str | None:
        """The repository path of `reference` (relative to the overlay) when it lies inside the overlay."""
        if reference.startswith("/") or "://" in reference:
            return None
        path = posixpath.normpath(posixpath.join(self.directory, reference))
        return path if path == self.directory or path.startswith(self.directory + "/") else None

    def _join(self, name: str) -> str:
        return posixpath.join(self.directory, name) if self.directory else name

    def _disk(self, path: str) -> str:
        """The on-disk path of repository path `path`; refused when a symbolic link leads outside the clone."""
        disk = os.path.join(self.root, *path.split("/")) if path else self.root
        real = os.path.realpath(disk)
        if real != self.root and not real.startswith(self.root + os.sep):
            raise PromotionError(f"{path}: leads outside the repository (a symbolic link?)")
        return disk


def _value(node: yaml.Node | None, key: str) -> yaml.Node | None:
    found = get(node, key) if node is not None else None
    return found[1] if found is not None else None


def _repo_path(path: str, what: str) -> str:
    normal = posixpath.normpath(path.replace("\\", "/")) if path else ""
    if not path or path.startswith("/") or normal == ".." or normal.startswith("../"):
        raise PromotionError(f"{what} {path!r} must be a path inside the repository, relative to its root "
                             "(e.g. apps/inference/overlays/eu)")
    return "" if normal == "." else normal


def _replace_lines(text: str, lines: dict[int, str]) -> str:
    parts = text.splitlines(keepends=True)
    for number, line in lines.items():
        ending = parts[number][len(parts[number].rstrip("\r\n")):]
        parts[number] = line + ending
    return "".join(parts)
