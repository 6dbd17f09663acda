"""The `patches`, `patchesStrategicMerge` and `patchesJson6902` fields of a kustomization.

Mirrors kustomize v5.5's PatchTransformer, PatchStrategicMergeTransformer and PatchJson6902Transformer:

- a `patches` entry has `patch` (inline, trimmed) or `path` (a file in or below the kustomization's
  directory), an optional `target` and `options` (allowNameChange, allowKindChange). Its text is a strategic
  merge patch when every YAML document is an object with a kind and a metadata.name, and a JSON 6902 patch
  when it is a list of operations (JSON if it starts with `[`, else YAML);
- a strategic merge patch without target applies, document by document, to the one object having the
  document's apiVersion, kind, name and namespace now or under an earlier name (a base's name before an
  overlay's prefix); with a target it applies to every selected object. Name and kind stay unless the
  options allow them to change; the namespace always stays. A patch `$patch: delete` at the top removes
  the object; the merge itself is kyaml's (`hub.render.transforms.smp`);
- a JSON 6902 patch needs a target and applies to every selected object (`hub.render.transforms.json6902`);
- `patchesStrategicMerge` entries are inline patches or file paths; `patchesJson6902` entries are
  `{target, path | patch}`, the target needing a name.

Every error names the kustomization file and the entry (`patches[2].target.kind`). Objects a patch deletes
are left out of the returned list.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from fleetline.yamlsafe import YamlError, load_all
from hub.render.errors import RenderError
from hub.render.errors import describe_value as _describe
from hub.render.files import RepoFiles, resolve, within
from hub.render.resource import ResId, Resource
from hub.render.selectors import Target, effective_namespace, kustomize_ids, parse_target, select
from hub.render.transforms.json6902 import JsonPatchError, apply_operations, parse_operations
from hub.render.transforms.smp import MergeError, strategic_merge

_PATCH_FIELDS = ("path", "patch", "target", "options")
_INTERNAL = "internal.config.kubernetes.io/"  # kustomize's build annotations
# kustomize reads its kustomization as YAML 1.1 (sigs.k8s.io/yaml): there, these words are booleans too
_YAML11_BOOLEANS = {word: value for value, words in ((True, "y Y yes Yes YES on On ON"),
                                                     (False, "n N no No NO off Off OFF")) for word in words.split()}
_JSON6902_FIELDS = ("path", "patch", "target")


@dataclass
class _Patch:
    """One configured patch: strategic merge documents or JSON 6902 operations, and where to apply them."""

    field: str  # "patches[3]"
    source: str  # `inline patch` or `patch file overlays/eu/p.yaml`, for messages
    documents: list[dict] = field(default_factory=list)  # strategic merge documents
    operations: list | None = None  # JSON 6902 operations (None for a strategic merge patch)
    target: Target | None = None
    allow_name_change: bool = False
    allow_kind_change: bool = False


# ------------------------------------------------------------------------------------------- entry points


def apply_patches(resources: list[Resource], patches: list, files: RepoFiles, directory: str,
                  file: str) -> list[Resource]:
    """The kustomization's `patches` applied in order; returns the objects that remain."""
    if patches is None:
        return resources
    configured = [_configure_patch(raw, f"patches[{i}]", files, directory, file)
                  for i, raw in enumerate(_as_list(patches, file, "patches"))]
    for patch in configured:
        if patch.operations is not None:
            resources = _apply_json6902(resources, patch, file, store_previous_id=True)
        elif patch.target is not None:
            resources = _apply_smp_to_selected(resources, patch, file)
        else:
            for index, document in enumerate(patch.documents):
                resources = _apply_smp_by_id(resources, patch, document, index, file, normalise=False)
        if patch.operations is not None or patch.allow_name_change or patch.allow_kind_change:
            _check_unique_ids(resources, patch, file)
    return resources


def apply_patches_strategic_merge(resources: list[Resource], entries: list, files: RepoFiles, directory: str,
                                  file: str) -> list[Resource]:
    """The legacy `patchesStrategicMerge` field: inline patches or patch files, matched by id."""
    if not entries:
        return resources
    loaded: list[tuple[_Patch, dict]] = []
    for i, entry in enumerate(_as_list(entries, file, "patchesStrategicMerge")):
        where = f"patchesStrategicMerge[{i}]"
        if not isinstance(entry, str):
            raise RenderError(file, f"expected a file path or an inline patch (a string), found {_describe(entry)}",
                              where)
        patch = _Patch(where, "inline patch")
        try:
            documents = _smp_documents(entry, patch.source)
        except ValueError as exc:
            if "\n" in entry.strip():
                raise RenderError(file, _not_smp(patch, exc), where) from None
            patch.source = f"patch file {entry!r}"
            text = _read_patch_file(entry, files, directory, file, where)
            try:
                documents = _smp_documents(text, patch.source)
            except ValueError as exc:
                raise RenderError(file, _not_smp(patch, exc), where) from None
        loaded.extend((patch, document) for document in documents)
    if not loaded:
        raise RenderError(file, "the patches are empty: no YAML document in any of them", "patchesStrategicMerge")
    for patch, document in loaded:
        resources = _apply_smp_by_id(resources, patch, document, None, file, normalise=True)
    return resources


def apply_patches_json6902(resources: list[Resource], entries: list, files: RepoFiles, directory: str,
                           file: str) -> list[Resource]:
    """The legacy `patchesJson6902` field: `{target, path | patch}` entries, JSON 6902 operations."""
    if not entries:
        return resources
    configured = []
    for i, raw in enumerate(_as_list(entries, file, "patchesJson6902")):
        where = f"patchesJson6902[{i}]"
        values = _entry_fields(raw, _JSON6902_FIELDS, file, where)
        if values.get("target") is None:
            raise RenderError(file, "missing target: a JSON 6902 patch needs `target` with at least a name", where)
        target = parse_target(values["target"], file, f"{where}.target")
        if not target.name:
            raise RenderError(file, "must specify the target name", f"{where}.target.name")
        path, inline = _string(values, "path", file, where), _string(values, "patch", file, where)
        if not path and not inline:
            raise RenderError(file, "expected `path` (a patch file) or `patch` (inline operations), found neither",
                              where)
        if path and inline:
            raise RenderError(file, "has both `path` and `patch`: give one of them", where)
        patch = _Patch(where, f"patch file {path!r}" if path else "inline patch", target=target)
        text = _read_patch_file(path, files, directory, file, f"{where}.path") if path else inline
        if path and text == "":
            raise RenderError(file, f"patch file {path!r} is empty", f"{where}.path")
        try:
            patch.operations = parse_operations(text, file)
        except ValueError as exc:
            raise RenderError(file, f"{patch.source} is not a JSON 6902 patch (a list of operations): {exc}",
                              where) from None
        if not patch.operations:
            raise RenderError(file, f"{patch.source} has no operations", where)
        configured.append(patch)
    for patch in configured:
        resources = _apply_json6902(resources, patch, file, store_previous_id=False)
        _check_unique_ids(resources, patch, file)
    return resources


# ------------------------------------------------------------------------------------------- configuring


def _as_list(value: object, file: str, field_name: str) -> list:
    if not isinstance(value, list):
        raise RenderError(file, f"expected a list, found {_describe(value)}", field_name)
    return value


def _entry_fields(raw: object, allowed: tuple[str, ...], file: str, where: str) -> dict:
    """The entry's fields under their canonical names (kustomize matches names case-insensitively)."""
    if not isinstance(raw, dict):
        raise RenderError(file, f"expected a mapping with {', '.join(allowed)}, found {_describe(raw)}", where)
    values = {}
    for key, value in raw.items():
        name = key if key in allowed else next((a for a in allowed if str(key).lower() == a.lower()), None)
        if name is None:
            hint = difflib.get_close_matches(str(key), allowed, n=1)
            fix = f"did you mean {hint[0]!r}?" if hint else f"expected one of {', '.join(allowed)}"
            raise RenderError(file, f"unknown field {key!r} ({fix})", where)
        values[name] = value
    return values


def _string(values: dict, name: str, file: str, where: str) -> str:
    value = values.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        hint = " (write the patch as a block string: `patch: |`)" if name == "patch" else ""
        raise RenderError(file, f"expected a string, found {_describe(value)}{hint}", f"{where}.{name}")
    return value


def _configure_patch(raw: object, where: str, files: RepoFiles, directory: str, file: str) -> _Patch:
    values = _entry_fields(raw, _PATCH_FIELDS, file, where)
    inline = _string(values, "patch", file, where).strip()
    path = _string(values, "path", file, where)
    if not inline and not path:
        raise RenderError(file, "expected `patch` (inline) or `path` (a patch file), found neither", where)
    if inline and path:
        raise RenderError(file, "has both `patch` and `path`: give one of them", where)
    patch = _Patch(where, f"patch file {path!r}" if path else "inline patch")
    if values.get("target") is not None:
        patch.target = parse_target(values["target"], file, f"{where}.target")
    options = values.get("options")
    if options is not None:
        if not isinstance(options, dict):
            raise RenderError(file, f"expected a mapping of option names to true/false, found {_describe(options)}",
                              f"{where}.options")
        flags = {}
        for key, value in options.items():
            flags[key] = _YAML11_BOOLEANS.get(value, value) if isinstance(value, str) else value
            if not isinstance(flags[key], bool):
                raise RenderError(file, f"expected true or false, found {_describe(value)}",
                                  f"{where}.options.{key}")
        patch.allow_name_change = flags.get("allowNameChange", False)
        patch.allow_kind_change = flags.get("allowKindChange", False)
    text = _read_patch_file(path, files, directory, file, f"{where}.path") if path else inline
    try:
        documents, smp_error = _smp_documents(text, patch.source), ""
    except _NotYaml as exc:
        raise RenderError(file, f"the {patch.source} {exc}", where) from None
    except ValueError as exc:
        documents, smp_error = [], str(exc)
    try:
        operations, json_error = parse_operations(text, patch.source), ""
    except ValueError as exc:
        operations, json_error = None, str(exc)
    if not smp_error and not json_error:
        raise RenderError(file, f"the {patch.source} holds no patch: neither a strategic merge document nor a "
                                "JSON 6902 operation", where)
    if smp_error and json_error:
        raise RenderError(file, f"the {patch.source} is neither a strategic merge patch ({smp_error}) nor a JSON "
                                f"6902 patch ({json_error})", where)
    if not smp_error and documents:
        if patch.target is not None and len(documents) > 1:
            raise RenderError(file, f"the {patch.source} holds {len(documents)} strategic merge patches: with a "
                                    "`target`, an entry may hold only one (split it into several entries)", where)
        patch.documents = documents
        return patch
    patch.operations = operations or []
    if patch.target is None:
        raise RenderError(file, f"the {patch.source} is a JSON 6902 patch, which needs a `target` saying which "
                                "objects to patch", where)
    return patch


def _read_patch_file(reference: str, files: RepoFiles, directory: str, file: str, where: str) -> str:
    path = resolve(directory, reference, file, where)
    if not within(directory, path):
        raise RenderError(file, f"security; file {path!r} is not in or below {directory or '.'!r}: a kustomization "
                                "may only read patch files in or below its own directory", where)
    kind = files.kind(path)
    if kind != "file":
        found = "a directory" if kind == "dir" else "no such file in the repository"
        raise RenderError(file, f"patch file {reference!r} not found ({path}: {found})", where)
    try:
        return files.read(path).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RenderError(file, f"patch file {path!r} is not UTF-8 text: {exc}", where) from None


class _NotYaml(ValueError):
    """A patch text that is not YAML at all."""


def _smp_documents(text: str, source: str) -> list[dict]:
    """The strategic merge patches in a YAML text; ValueError when a document is not one (kustomize's rules:
    an object with a kind and a metadata.name; a `...List` with `items` stands for its items)."""
    try:
        documents = load_all(text, source)
    except YamlError as exc:
        where = f" (line {exc.line} of the patch)" if exc.line else ""
        raise _NotYaml(f"is not valid YAML{where}: {exc.reason}") from None
    queue = [doc for doc in documents if doc not in ({}, [])]
    result: list[dict] = []
    while queue:
        doc = queue.pop(0)
        _check_patch_object(doc)
        kind = str(doc.get("kind"))
        if kind.endswith("List") and "items" in doc:
            items = doc["items"]
            if items is None:
                continue
            if not isinstance(items, list):
                raise ValueError(f"expected a list in {kind}.items, found {_describe(items)}")
            for item in items:
                if item not in (None, {}, []):
                    _check_patch_object(item)
                    queue.append(item)
            continue
        result.append(doc)
    return result


def _check_patch_object(doc: object) -> None:
    if not isinstance(doc, dict):
        raise ValueError(f"a document is {_describe(doc)}, not an object")
    meta = doc.get("metadata")
    has_meta = isinstance(meta, dict) and any(_present(meta.get(k)) for k in ("name", "namespace", "labels",
                                                                             "annotations"))
    if not (_present(doc.get("apiVersion")) or _present(doc.get("kind")) or has_meta):
        raise ValueError("a document has no apiVersion, kind or metadata")
    if not _present(doc.get("kind")):
        raise ValueError("a document has no kind")
    if str(doc["kind"]).endswith("List"):
        return
    if not (isinstance(meta, dict) and _present(meta.get("name"))):
        raise ValueError(f"the {doc['kind']} document has no metadata.name")


def _present(value: object) -> bool:
    return value not in (None, "", {}, [])


# ------------------------------------------------------------------------------------------- applying


def _patch_id(document: dict) -> ResId:
    api_version = str(document.get("apiVersion") or "")
    group, _, version = api_version.partition("/") if "/" in api_version else ("", "", api_version)
    meta = document.get("metadata") or {}
    namespace = meta.get("namespace")
    return ResId(group, version, _scalar_text(document.get("kind")), _scalar_text(meta.get("name")),
                 namespace if isinstance(namespace, str) else "")


def _apply_smp_by_id(resources: list[Resource], patch: _Patch, document: dict, index: int | None, file: str,
                     normalise: bool) -> list[Resource]:
    wanted = _patch_id(document)
    matches = [res for res in resources if any(rid.same_object(wanted) for rid in kustomize_ids(res))]
    where = patch.field if index is None or len(patch.documents) < 2 else f"{patch.field} (document {index + 1})"
    if not matches:
        raise RenderError(file, _not_found(resources, wanted, patch), where)
    if len(matches) > 1:
        listed = ", ".join(f"{res.cur_id()} from {res.origin}" for res in matches)
        raise RenderError(file, f"patch target {_show(wanted)} matches {len(matches)} objects ({listed}); add a "
                                "namespace to the patch, or use a `target`", where)
    target = matches[0]
    if normalise:
        document = _as_applied_to(document, target)
    keep = _merge_into(target, document, patch, file, where)
    return resources if keep else [res for res in resources if res is not target]


def _apply_smp_to_selected(resources: list[Resource], patch: _Patch, file: str) -> list[Resource]:
    assert patch.target is not None
    deleted = set()
    for res in select(resources, patch.target):
        if not _merge_into(res, _as_applied_to(patch.documents[0], res), patch, file, patch.field):
            deleted.add(id(res))
    return [res for res in resources if id(res) not in deleted]


def _as_applied_to(document: dict, res: Resource) -> dict:
    """kustomize's copy of a patch for one target: the target's apiVersion, the patch's kind, and labels and
    annotations rewritten as string maps (a null or empty map is dropped, numbers become strings)."""
    copy = dict(document)
    meta = dict(copy.get("metadata") or {})
    for key in ("labels", "annotations"):
        value = meta.pop(key, None)
        if isinstance(value, dict) and value:
            meta[key] = {str(k): _scalar_text(v) for k, v in value.items()}
    if not meta.get("namespace"):
        meta.pop("namespace", None)
    copy["metadata"] = meta
    copy["apiVersion"] = res.api_version
    return copy


def _scalar_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (dict, list)):
        return ""
    return str(value)


def _merge_into(res: Resource, document: dict, patch: _Patch, file: str, where: str) -> bool:
    """Apply one strategic merge document to `res`; False when the patch deleted it."""
    name, namespace, kind = res.name, res.namespace, res.kind
    if patch.allow_name_change or patch.allow_kind_change:
        res.previous_ids.append(res.cur_id())
    try:
        merged = strategic_merge(res.obj, document)
    except MergeError as exc:
        raise RenderError(file, f"cannot apply the {patch.source} to {_show(res.cur_id())} from {res.origin}: "
                                f"{exc}", where) from None
    if not merged:
        return False
    if not patch.allow_kind_change:
        merged["kind"] = kind
    meta = merged.get("metadata")
    if not isinstance(meta, dict):
        meta = merged["metadata"] = {}
    if not patch.allow_name_change:
        meta["name"] = name
    if namespace:
        meta["namespace"] = namespace
    else:
        meta.pop("namespace", None)
    res.obj = merged
    res.sync_shared_scalars()  # kustomize merges in place: a patched shared label changes its twins
    return True


def _apply_json6902(resources: list[Resource], patch: _Patch, file: str, store_previous_id: bool) -> list[Resource]:
    assert patch.target is not None and patch.operations is not None
    for res in select(resources, patch.target):
        if store_previous_id:
            res.previous_ids.append(res.cur_id())
        notes = _build_annotations(res)
        try:
            result = apply_operations(_with_annotations(res.obj, notes), patch.operations)
        except JsonPatchError as exc:
            raise RenderError(file, f"cannot apply the {patch.source} to {_show(res.cur_id())} from {res.origin}: "
                                    f"{exc}", patch.field) from None
        if not isinstance(result, dict):
            raise RenderError(file, f"the {patch.source} turned {_show(res.cur_id())} into {_describe(result)}; "
                                    "an object must stay a mapping", patch.field)
        _strip_build_annotations(result)
        res.obj = result
        res.shared_scalars = []  # kustomize applies the patch to the object's JSON: no node is shared after it
    return resources


def _check_unique_ids(resources: list[Resource], patch: _Patch, file: str) -> None:
    """A patch that renames objects may not give two of them the same id (kustomize fails too)."""
    seen: dict[tuple, Resource] = {}
    for res in resources:
        rid = res.cur_id()
        key = (rid.group, rid.version, rid.kind, rid.name, effective_namespace(rid.kind, rid.namespace))
        if key in seen:
            raise RenderError(file, f"after the {patch.source}, two objects have the same id {_show(rid)} (from "
                                    f"{seen[key].origin} and from {res.origin}): a patch that renames objects must "
                                    "give each a distinct name", patch.field)
        seen[key] = res


def _build_annotations(res: Resource) -> dict[str, str]:
    """The `internal.config.kubernetes.io/` annotations kustomize keeps on an object during a build, which a
    JSON 6902 patch sees (so `add /metadata/annotations/x` works on an object without annotations)."""
    notes = {}
    if res.previous_ids:
        notes[_INTERNAL + "previousKinds"] = ",".join(rid.kind for rid in res.previous_ids)
        notes[_INTERNAL + "previousNames"] = ",".join(rid.name for rid in res.previous_ids)
        notes[_INTERNAL + "previousNamespaces"] = ",".join(effective_namespace(rid.kind, rid.namespace)
                                                          for rid in res.previous_ids)
    if res.prefixes:
        notes[_INTERNAL + "prefixes"] = ",".join(res.prefixes)
    if res.suffixes:
        notes[_INTERNAL + "suffixes"] = ",".join(res.suffixes)
    if res.behavior:
        notes[_INTERNAL + "generatorBehavior"] = res.behavior
    if res.needs_hash:
        notes[_INTERNAL + "needsHashSuffix"] = "enabled"
    return notes


def _with_annotations(obj: dict, notes: dict[str, str]) -> dict:
    if not notes or not isinstance(obj.get("metadata"), dict):
        return obj
    meta = dict(obj["metadata"])
    existing = meta.get("annotations")
    meta["annotations"] = {**(existing if isinstance(existing, dict) else {}), **notes}
    return {**obj, "metadata": meta}


def _strip_build_annotations(obj: dict) -> None:
    """Drop the build annotations again; like kustomize's SetAnnotations, the rest becomes a string map and
    an empty map goes away."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return
    annotations = meta.get("annotations")
    kept = {str(k): _scalar_text(v) for k, v in annotations.items() if not str(k).startswith(_INTERNAL)} \
        if isinstance(annotations, dict) else {}
    if kept:
        meta["annotations"] = kept
    else:
        meta.pop("annotations", None)


# ------------------------------------------------------------------------------------------- messages


def _not_smp(patch: _Patch, exc: ValueError) -> str:
    if isinstance(exc, _NotYaml):
        return f"the {patch.source} {exc}"
    return f"the {patch.source} is not a strategic merge patch: {exc}"


def _show(rid: ResId) -> str:
    where = f" in namespace {rid.namespace}" if rid.namespace else ""
    return f"{rid.kind}/{rid.name}{where}"


def _not_found(resources: list[Resource], wanted: ResId, patch: _Patch) -> str:
    message = f"patch target {_show(wanted)} not found"
    same_name = [rid for res in resources for rid in kustomize_ids(res)
                 if rid.kind == wanted.kind and rid.name == wanted.name]
    if same_name:
        other = same_name[0]
        if (other.group, other.version) != (wanted.group, wanted.version):
            found = f"{other.group}/{other.version}" if other.group else other.version
            return f"{message}: there is a {other.kind}/{other.name} with apiVersion {found}, the patch says " \
                   f"{wanted.group + '/' if wanted.group else ''}{wanted.version} (the {patch.source} must use " \
                   "the object's apiVersion)"
        return f"{message}: {other.kind}/{other.name} is in namespace {other.namespace or 'default'}; set " \
               "metadata.namespace in the patch to match"
    names = sorted({rid.name for res in resources for rid in kustomize_ids(res) if rid.kind == wanted.kind})
    close = difflib.get_close_matches(wanted.name, names, n=1, cutoff=0.5)
    if not close:
        close = [n for n in names if wanted.name in n or n in wanted.name][:1]
    if close:
        return f"{message} (did you mean {close[0]}?)"
    kinds = sorted({res.kind for res in resources})
    have = f"objects of kind {', '.join(kinds)}" if kinds else "no objects"
    return f"{message}: there is no {wanted.kind} of that name (the build has {have}); a strategic merge patch " \
           "without `target` applies to the object with its own apiVersion, kind, name and namespace"


