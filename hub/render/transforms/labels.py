"""`commonLabels`, `labels` and `commonAnnotations`: kustomize v5.5's LabelTransformer and
AnnotationsTransformer as the kustomization configures them.

- `commonLabels` writes every pair to the object's labels, its selectors and its pod (and PVC) templates,
  per kustomize's commonLabels field specs, creating the maps that the table marks `create`.
- each `labels` entry writes its `pairs` to `metadata.labels`; `includeTemplates: true` adds the template
  labels, `includeSelectors: true` the full commonLabels table (selectors and templates); its own `fields`
  come first and may not contradict the defaults' `create` (kustomize's "conflicting fieldspecs").
- `commonAnnotations` writes metadata and template annotations.

Values are strings; a null value becomes "" as in kustomize; numbers and booleans are refused (kustomize
refuses them: quote them). The builder applies `labels` entries before `commonLabels`, so that
`commonLabels` wins on a shared key, as in kustomize.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hub.render.errors import RenderError
from hub.render.fieldspec_tables import COMMON_ANNOTATIONS, COMMON_LABELS, TEMPLATE_LABELS
from hub.render.fieldspecs import FieldSpec, FieldSpecError, apply_fieldspecs, describe, parse_fieldspecs
from hub.render.resource import Resource

_LABEL_ENTRY_FIELDS = ("pairs", "includeSelectors", "includeTemplates", "fields")


def add_common_labels(resources: list[Resource], labels: dict, file: str, field: str = "commonLabels") -> None:
    """Apply a kustomization's `commonLabels` (labels, selectors and templates) to every resource."""
    pairs = _string_map(labels, file, field, "label")
    _set_pairs(resources, pairs, COMMON_LABELS, file, field)


def add_labels(resources: list[Resource], entries: list, file: str, field: str = "labels") -> None:
    """Apply a kustomization's `labels` entries, in order, to every resource."""
    if entries is None:
        return
    if not isinstance(entries, list):
        raise RenderError(file, f"expected a list of {{pairs, includeSelectors, includeTemplates, fields}} "
                                f"entries, found {describe(entries)}", field)
    for index, entry in enumerate(entries):
        where = f"{field}[{index}]"
        if not isinstance(entry, dict):
            raise RenderError(file, f"expected a mapping with pairs (and optionally includeSelectors, "
                                    f"includeTemplates, fields), found {describe(entry)}", where)
        unknown = sorted(set(entry) - set(_LABEL_ENTRY_FIELDS))
        if unknown:
            raise RenderError(file, f"unknown field {unknown[0]!r}: a labels entry has "
                                    f"{', '.join(_LABEL_ENTRY_FIELDS)}", f"{where}.{unknown[0]}")
        pairs = _string_map(entry.get("pairs"), file, f"{where}.pairs", "label")
        selectors = _flag(entry, "includeSelectors", file, where)
        templates = _flag(entry, "includeTemplates", file, where)
        specs = parse_fieldspecs(entry.get("fields"), file, f"{where}.fields")
        if selectors:
            specs = _merge(specs, COMMON_LABELS, file, where)
        else:
            if templates:
                specs = _merge(specs, TEMPLATE_LABELS, file, where)
            specs = _merge(specs, [FieldSpec("metadata/labels", create=True)], file, where)
        _set_pairs(resources, pairs, specs, file, where)


def add_annotations(resources: list[Resource], annotations: dict, file: str,
                    field: str = "commonAnnotations") -> None:
    """Apply a kustomization's `commonAnnotations` (metadata and templates) to every resource."""
    pairs = _string_map(annotations, file, field, "annotation")
    _set_pairs(resources, pairs, COMMON_ANNOTATIONS, file, field)


def _set_pairs(resources: list[Resource], pairs: dict[str, str], specs: Iterable[FieldSpec], file: str,
               field: str) -> None:
    if not pairs:
        return
    specs = list(specs)

    def setter(key: str, value: str, created: list[dict]) -> Any:
        def set_entry(current: Any) -> dict:
            if current is None:
                current = {}
            elif not isinstance(current, dict):
                raise FieldSpecError(f"expected a mapping, found {describe(current)}")
            if key not in current:
                created.append(current)
            current[key] = value
            return current
        return set_entry

    for resource in resources:
        for key in sorted(pairs):
            created: list[dict] = []
            apply_fieldspecs(resource, specs, setter(key, pairs[key], created), file, field)
            resource.sync_shared_scalars()
            if len(created) > 1:  # the new fields share one node in kustomize (see Resource.share_scalar)
                where = _paths_of(resource.obj, {id(mapping) for mapping in created})
                resource.share_scalar(pairs[key], [where[id(mapping)] + (key,) for mapping in created
                                                   if id(mapping) in where])


def _paths_of(node: Any, wanted: set[int], path: tuple = ()) -> dict[int, tuple]:
    """The paths (tuples of keys and indices) of the mappings whose id() is in `wanted`, inside `node`."""
    found: dict[int, tuple] = {}
    if id(node) in wanted:
        found[id(node)] = path
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for step, child in children:
        if isinstance(child, dict | list):
            found.update(_paths_of(child, wanted, (*path, step)))
    return found


def _string_map(raw: Any, file: str, field: str, what: str) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise RenderError(file, f"expected a mapping of {what} names to string values, found {describe(raw)}",
                          field)
    result = {}
    for key, value in raw.items():
        if not isinstance(key, str):
            raise RenderError(file, f"{what} name {key!r} must be a string: quote it", field)
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise RenderError(file, f"{what} {key!r} has {describe(value)}, expected a string: quote it "
                                    f"({key}: \"{_plain(value)}\")", f"{field}.{key}")
        result[key] = value
    return result


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, (int, float)) else "..."


def _flag(entry: dict, name: str, file: str, where: str) -> bool:
    value = entry.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise RenderError(file, f"expected true or false, found {describe(value)}", f"{where}.{name}")
    return value


def _merge(specs: list[FieldSpec], incoming: Iterable[FieldSpec], file: str, where: str) -> list[FieldSpec]:
    """kustomize's FsSlice.MergeAll: add each incoming spec unless an equivalent one is already there."""
    result = list(specs)
    for spec in incoming:
        existing = next((s for s in result if s.path == spec.path and _selected(s, spec)), None)
        if existing is None:
            result.append(spec)
        elif existing.create != spec.create:
            raise RenderError(file, f"field spec {spec.path!r} (kind {existing.kind or 'any'}) says create: "
                                    f"{str(existing.create).lower()}, but kustomize's default for it is "
                                    f"create: {str(spec.create).lower()}; remove it from fields or match "
                                    "the default", f"{where}.fields")
    return result


def _selected(spec: FieldSpec, selector: FieldSpec) -> bool:
    return all(not want or want == have for want, have in ((selector.group, spec.group),
                                                           (selector.version, spec.version),
                                                           (selector.kind, spec.kind)))
