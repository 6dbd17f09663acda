"""A kustomize build: from a kustomization directory to the list of objects `kubectl kustomize` prints.

Follows kustomize v5.5's KustTarget (api/internal/target/kusttarget.go). Building a directory accumulates,
in order: the objects of its `resources` (manifest files, `kind: ...List` documents expanded, and
directories built recursively as kustomizations of their own) and `bases`; then the output of its
generators, merged into them (create / merge / replace); then its `components`, each applied onto what has
been accumulated so far; then its transformers, in kustomize's order: patchesStrategicMerge, patches,
namespace, namePrefix/nameSuffix, labels (the `labels` entries, then commonLabels), commonAnnotations,
patchesJson6902, replicas, images, replacements. At the top level only: content-hash name suffixes, then
name references, then objects annotated `config.kubernetes.io/local-config` are dropped, then the output is
sorted (`sortOptions`, by default kustomize's legacy order), then kustomize's build-only annotations removed
and integral floats turned into integers (kustomize's objects pass through JSON: `1.0` comes out as `1`).

Refused as kustomize refuses them: an object id declared twice (both origins named), a directory that
includes itself or a directory above it (the cycle's path shown), a directory without a kustomization, a
Component listed under resources or a Kustomization under components, a manifest file outside the
kustomization's directory tree (kustomize's default load restrictor).

`Builder.accumulate_directory` builds one directory from what it reads through `Builder.files` and nothing
else, so a caller may memoise it by content; it returns objects the caller then owns and mutates (a memo
must hand out copies).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

from fleetline.yamlsafe import Timestamp, YamlError, iter_documents
from hub.render import generators
from hub.render.emit import format_float, json_number, normalize_numbers
from hub.render.errors import RenderError
from hub.render.files import DirectoryFiles, RepoFiles, resolve, within
from hub.render.hashing import add_hash_suffixes
from hub.render.kustomization import Kustomization, load_kustomization
from hub.render.namerefs import fix_name_references
from hub.render.order import sort_resources
from hub.render.resource import CLUSTER_SCOPED_KINDS, Resource
from hub.render.transforms import labels, patches
from hub.render.transforms.images import set_images
from hub.render.transforms.namespace import set_namespace
from hub.render.transforms.naming import add_name_affixes
from hub.render.transforms.replacements import apply_replacements
from hub.render.transforms.replicas import set_replicas

LOCAL_CONFIG_ANNOTATION = "config.kubernetes.io/local-config"

# Annotations kustomize removes from every object before printing it (its build bookkeeping, kyaml's reader
# annotations, origin and transformer tracking); an object left without annotations loses the field.
BUILD_ANNOTATIONS = frozenset({
    "internal.config.kubernetes.io/previousKinds", "internal.config.kubernetes.io/previousNames",
    "internal.config.kubernetes.io/prefixes", "internal.config.kubernetes.io/suffixes",
    "internal.config.kubernetes.io/previousNamespaces", "internal.config.kubernetes.io/allowNameChange",
    "internal.config.kubernetes.io/allowKindChange", "internal.config.kubernetes.io/refBy",
    "internal.config.kubernetes.io/generatorBehavior", "internal.config.kubernetes.io/needsHashSuffix",
    "internal.config.kubernetes.io/path", "internal.config.kubernetes.io/index",
    "internal.config.kubernetes.io/seqindent", "internal.config.kubernetes.io/id",
    "internal.config.kubernetes.io/annotations-migration-resource-id",
    "config.kubernetes.io/path", "config.kubernetes.io/index", "config.k8s.io/id",
    "config.kubernetes.io/origin", "alpha.config.kubernetes.io/transformations",
})


class Builder:
    """Builds kustomization directories of one repository view."""

    def __init__(self, files: RepoFiles) -> None:
        self.files = files
        self._building: list[str] = []  # directories being built, outermost first (cycle detection only)

    # -- the top level ------------------------------------------------------------------------------------

    def build(self, path: str) -> list[Resource]:
        """The objects `kubectl kustomize <path>` prints, in its order (`path` is a repository directory)."""
        path = _normal(path)
        if self.files.kind(path) != "dir":
            raise RenderError(path or ".", "is not a directory: give the directory holding a kustomization")
        kustomization = load_kustomization(self.files, path)
        with self._entering(path, kustomization.file, ""):
            # the top directory is accumulated from the kustomization just loaded (a Component given directly
            # is built on nothing, as kustomize does); only the directories below go through
            # accumulate_directory, which a memoising builder caches
            resources = self._accumulate(kustomization, [])
        return self.finish(resources, kustomization)

    def finish(self, resources: list[Resource], kustomization: Kustomization) -> list[Resource]:
        """The top-level steps after accumulation: hash suffixes, name references, local-config objects
        dropped, output order, build annotations removed, numbers as kustomize's JSON round trip leaves them
        (`1.0` -> `1`)."""
        add_hash_suffixes(resources)
        fix_name_references(resources)
        resources = [res for res in resources if not is_local_config(res)]
        resources = sort_resources(resources, kustomization.sort_options, kustomization.file)
        for res in resources:
            strip_build_annotations(res.obj)
            stringify_annotations(res.obj)  # first: annotations keep a timestamp's text
            normalize_numbers(res.obj)
        return resources

    # -- one directory ------------------------------------------------------------------------------------

    def accumulate_directory(self, path: str) -> list[Resource]:
        """The objects the kustomization in directory `path` produces before the top-level steps (hash
        suffixes, name references, ordering). Depends only on what it reads through `self.files`."""
        kustomization = load_kustomization(self.files, path)
        if kustomization.is_component:
            raise RenderError(kustomization.file, "is a Component (kind: Component): list its directory under "
                                                  "components, not resources or bases", "kind")
        return self._accumulate(kustomization, [])

    def _accumulate(self, kustomization: Kustomization, accumulated: list[Resource]) -> list[Resource]:
        """kustomize's accumulateTarget: resources, generators, components, transformers (a Component works on
        the objects its parent accumulated so far; a Kustomization starts from none)."""
        for field, reference in kustomization.resource_entries():
            self._add_resource_entry(kustomization, field, reference, accumulated)
        accumulated = self._run_generators(kustomization, accumulated)
        for index, reference in enumerate(kustomization.components):
            accumulated = self._apply_component(kustomization, f"components[{index}]", reference, accumulated)
        return self._run_transformers(kustomization, accumulated)

    def _add_resource_entry(self, kustomization: Kustomization, field: str, reference: object,
                            accumulated: list[Resource]) -> None:
        file, directory = kustomization.file, kustomization.directory
        path = resolve(directory, reference, file, field)  # type: ignore[arg-type]
        kind = self.files.kind(path)
        if kind == "file":
            if not within(directory, path):
                raise RenderError(file, f"file {reference!r} is not in or below {directory or '.'!r}: a "
                                        "kustomization may only read files in its own directory tree (list the "
                                        "directory holding that file, with its own kustomization, instead)", field)
            new = self.read_manifests(path, file, field)
        elif kind == "dir":
            with self._entering(path, file, field):
                try:
                    new = self.accumulate_directory(path)
                except RenderError as exc:
                    raise _included(exc, file, field) from exc
        else:
            raise RenderError(file, f"{reference!r} not found: no file or directory {path or '.'!r} in the "
                                    "repository", field)
        append_all(accumulated, new, file, field)

    def _apply_component(self, kustomization: Kustomization, field: str, reference: object,
                         accumulated: list[Resource]) -> list[Resource]:
        file = kustomization.file
        path = resolve(kustomization.directory, reference, file, field)  # type: ignore[arg-type]
        kind = self.files.kind(path)
        if kind != "dir":
            found = "a file" if kind == "file" else "nothing"
            raise RenderError(file, f"{reference!r} must be a directory holding a kustomization of kind Component, "
                                    f"found {found} at {path or '.'!r}", field)
        with self._entering(path, file, field):
            try:
                component = load_kustomization(self.files, path)
                if not component.is_component:
                    raise RenderError(component.file, f"expected kind 'Component' because {file} lists it under "
                                                      f"components, found '{component.kind}': list a "
                                                      "Kustomization under resources instead", "kind")
                return self._accumulate(component, accumulated)
            except RenderError as exc:
                raise _included(exc, file, field) from exc

    def _run_generators(self, kustomization: Kustomization, accumulated: list[Resource]) -> list[Resource]:
        if not (kustomization.config_map_generator or kustomization.secret_generator):
            return accumulated
        generated = generators.generate(self.files, kustomization.directory, kustomization.file,
                                        kustomization.config_map_generator, kustomization.secret_generator,
                                        kustomization.generator_options)
        return generators.merge_generated(accumulated, generated, kustomization.file)

    def _run_transformers(self, k: Kustomization, resources: list[Resource]) -> list[Resource]:
        """kustomize's built-in transformers, in its order (configureBuiltinTransformers)."""
        files, directory, file = self.files, k.directory, k.file
        if k.patches_strategic_merge:
            resources = patches.apply_patches_strategic_merge(resources, k.patches_strategic_merge, files,
                                                              directory, file)
        if k.patches:
            resources = patches.apply_patches(resources, k.patches, files, directory, file)
        if k.namespace:
            set_namespace(resources, k.namespace, file, "namespace")
        if k.name_prefix or k.name_suffix:
            add_name_affixes(resources, k.name_prefix, k.name_suffix, file,
                             "namePrefix" if k.name_prefix else "nameSuffix")
        if k.labels:
            labels.add_labels(resources, k.labels, file, "labels")
        if k.common_labels:
            labels.add_common_labels(resources, k.common_labels, file, "commonLabels")
        if k.common_annotations:
            labels.add_annotations(resources, k.common_annotations, file, "commonAnnotations")
        if k.patches_json6902:
            resources = patches.apply_patches_json6902(resources, k.patches_json6902, files, directory, file)
        if k.replicas:
            set_replicas(resources, k.replicas, file, "replicas")
        if k.images:
            set_images(resources, k.images, file, "images")
        if k.image_tags:
            set_images(resources, k.image_tags, file, "imageTags")
        if k.replacements:
            apply_replacements(resources, k.replacements, files, directory, file, "replacements")
            for res in resources:
                res.sync_shared_scalars()  # a replaced shared label changes its twins (Resource.share_scalar)
        return resources

    # -- reading manifests --------------------------------------------------------------------------------

    def read_manifests(self, path: str, file: str = "", field: str = "") -> list[Resource]:
        """The objects of a manifest file as kustomize reads them: empty documents skipped, `...List`
        documents replaced by their items (placed after the file's other documents, as kustomize does), and
        every object checked for a kind and a metadata.name. `file`/`field` name where it was listed."""
        try:
            documents = list(iter_documents(self.files.read(path), path))
        except YamlError as exc:
            where = f"line {exc.line}: " if exc.line else ""
            raise RenderError(path, f"{where}{exc.reason}{_listed(file, field)}") from exc
        pending = deque((f"document {n}", doc) for n, doc in enumerate(documents, 1))
        objects: list[Resource] = []
        while pending:
            where, doc = pending.popleft()
            if doc is None or doc == {}:
                continue
            if not isinstance(doc, dict):
                raise RenderError(path, f"{where} is not a Kubernetes object (expected a map with apiVersion, kind "
                                        f"and metadata, found {type(doc).__name__}){_listed(file, field)}")
            kind = doc.get("kind")
            if not isinstance(kind, str) or not kind:
                raise RenderError(path, f"{where} has no kind: every object needs apiVersion, kind and "
                                        f"metadata.name{_listed(file, field)}", "kind")
            if kind.endswith("List") and "items" in doc:
                items = doc["items"]
                if items is None:
                    continue
                if not isinstance(items, list):
                    raise RenderError(path, f"{where}: expected a list in {kind}.items, found "
                                            f"{type(items).__name__}{_listed(file, field)}", "items")
                pending.extend((f"{where}, items[{i}]", item) for i, item in enumerate(items))
                continue
            _check_object(doc, kind, path, where, file, field)
            objects.append(Resource(obj=doc, origin=path))
        return objects

    # -- cycles ---------------------------------------------------------------------------------------------

    @contextmanager
    def _entering(self, path: str, file: str, field: str) -> Iterator[None]:
        """Mark `path` as being built; refuse it if it is, or contains, a directory already being built
        (kustomize's loader refuses a root that contains a visited root)."""
        for visited in self._building:
            if within(path, visited):
                chain = " -> ".join(_show_dir(d) for d in [*self._building, path])
                if path == visited:
                    message = f"cycle between kustomizations: {chain}"
                else:
                    message = (f"{_show_dir(path)!r} contains {_show_dir(visited)!r}, which is being built "
                               f"({chain}): a kustomization may not include a directory above itself")
                raise RenderError(file, message, field)
        self._building.append(path)
        try:
            yield
        finally:
            self._building.pop()


# -- helpers shared with other modules ------------------------------------------------------------------------

def append_all(accumulated: list[Resource], new: list[Resource], file: str, field: str) -> None:
    """Append `new` to `accumulated`, refusing an object whose id is already there (kustomize's resWrangler
    Append: same group, version, kind, name and namespace, "" and "default" being the same namespace)."""
    if not new:
        return
    index = {_identity(res): res for res in accumulated}
    before = len(accumulated)
    for res in new:
        key = _identity(res)
        previous = index.get(key)
        if previous is not None:
            if previous.origin != res.origin:
                where = f"twice: in {previous.origin} and in {res.origin}"
            elif accumulated.index(previous) < before:
                where = f"twice: {res.origin} is included twice"
            else:
                where = f"twice in {res.origin}"
            raise RenderError(file, f"{res.cur_id()} is declared {where}; an object may appear only once in a build "
                                    "(use a patch to change it, or give one of them another name or namespace)",
                              field)
        index[key] = res
        accumulated.append(res)


def stringify_annotations(obj: dict) -> None:
    """kustomize reads annotations as a map of strings: `a: 5` and `b: true` are printed as "5" and "true"
    (labels keep their type). A float loses its original spelling here (`1.50` -> "1.5")."""
    meta = obj.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    if not isinstance(annotations, dict):
        return
    for key, value in annotations.items():
        if isinstance(value, Timestamp):
            annotations[key] = str(value)
        elif isinstance(value, bool):
            annotations[key] = "true" if value else "false"
        elif isinstance(value, int):
            annotations[key] = str(value)
        elif isinstance(value, float):
            number = json_number(value)
            annotations[key] = str(number) if isinstance(number, int) else format_float(number)


def is_local_config(res: Resource) -> bool:
    """kustomize drops an object annotated config.kubernetes.io/local-config with any value but "false"."""
    annotations = res.annotations()
    return LOCAL_CONFIG_ANNOTATION in annotations and annotations[LOCAL_CONFIG_ANNOTATION] != "false"


def strip_build_annotations(obj: dict) -> None:
    """Remove kustomize's build-only annotations; remove the annotations map when that leaves it empty."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or "annotations" not in meta:
        return
    annotations = meta["annotations"]
    if isinstance(annotations, dict):
        for key in BUILD_ANNOTATIONS.intersection(annotations):
            del annotations[key]
        if annotations:
            return
    elif annotations is not None:
        return
    del meta["annotations"]


def render_directory(root: str | os.PathLike[str], path: str = "") -> list[dict]:
    """`kubectl kustomize` of directory `path` inside the repository at `root`, as plain objects."""
    return [res.obj for res in Builder(DirectoryFiles(root)).build(path)]


def _identity(res: Resource) -> tuple[str, str, str, str, str]:
    rid = res.cur_id()
    namespace = "" if rid.kind in CLUSTER_SCOPED_KINDS else (rid.namespace or "default")
    return rid.group, rid.version, rid.kind, rid.name, namespace


def _check_object(doc: dict, kind: str, path: str, where: str, file: str, field: str) -> None:
    meta = doc.get("metadata")
    if meta is not None and not isinstance(meta, dict):
        raise RenderError(path, f"{where} ({kind}): metadata must be a map, found {type(meta).__name__}"
                                f"{_listed(file, field)}", "metadata")
    name = (meta or {}).get("name")
    if not kind.endswith("List") and (name is None or name == ""):
        raise RenderError(path, f"{where} ({kind}) has no metadata.name: every object needs apiVersion, kind and "
                                f"metadata.name{_listed(file, field)}", "metadata.name")
    if name is not None and not isinstance(name, str):
        raise RenderError(path, f"{where} ({kind}): metadata.name must be a string, found {name!r} (quote it)"
                                f"{_listed(file, field)}", "metadata.name")


def _listed(file: str, field: str) -> str:
    return f" (listed in {file} at {field})" if file and field else ""


def _included(exc: RenderError, file: str, field: str) -> RenderError:
    """The same error, saying which kustomization included the one at fault."""
    return RenderError(exc.file, f"{exc.message} (included from {file} at {field})", exc.field)


def _show_dir(path: str) -> str:
    return path or "."


def _normal(path: str) -> str:
    path = path.strip("/")
    return "" if path in ("", ".") else os.path.normpath(path).replace(os.sep, "/")
