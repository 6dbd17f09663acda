"""kustomize's field specs: which field of which kinds a built-in transformer touches, and how to reach it.

A field spec is a slash-separated path (`spec/template/spec/containers[]/image`) plus an optional group,
version and kind the object must have (empty matches everything) and a `create` flag. `update_field` walks
the path the way kustomize's fieldspec filter does:

- a path element names a mapping key; a trailing `[]` marks it as a list (the marker is a hint only:
  lists met anywhere on the path are traversed element by element with the same remaining path);
- `\\/` escapes a slash inside a key (`metadata/annotations/example.com\\/name`); a leading `/` is ignored;
- a missing key ends the walk quietly, unless `create` is set: then the missing maps on the way are created
  and `fn(None)` gives the leaf's value (elements marked `[]` are never created);
- a key present with a null value counts as missing when `create` is set; a null marked `[]` becomes an
  empty list (kustomize does the same: `initContainers: null` is printed `initContainers: []` after an
  images transform); a null leaf without `create` is left alone;
- a scalar where the path must go on is an error (`FieldSpecError`), as it is in kustomize.

The default tables of kustomize's built-in transformers live in `hub.render.fieldspec_tables`;
`parse_fieldspecs` reads field specs written by users (the `fields` of a `labels` entry).
This module touches only the JSON values it is given; it knows nothing of files or kustomizations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from hub.render.errors import RenderError
from hub.render.errors import describe_value as describe
from hub.render.resource import Resource, split_api_version


class FieldSpecError(ValueError):
    """A value of the wrong type met on a field-spec path (a scalar where a map or list must be)."""


@dataclass(frozen=True)
class FieldSpec:
    """One kustomize field spec: a path, the group/version/kind it is limited to, and whether to create it."""

    path: str
    group: str = ""
    version: str = ""
    kind: str = ""
    create: bool = False

    def applies_to(self, resource: Resource | dict) -> bool:
        """Whether the object's group, version and kind match (empty parts of the spec match anything)."""
        obj = resource.obj if isinstance(resource, Resource) else resource
        kind = obj.get("kind") if isinstance(obj.get("kind"), str) else ""
        if self.kind and self.kind != kind:
            return False
        api_version = obj.get("apiVersion") if isinstance(obj.get("apiVersion"), str) else ""
        group, version = split_api_version(api_version)
        if self.group and self.group != group:
            return False
        return not (self.version and self.version != version)


def split_path(path: str) -> list[str]:
    """kustomize's path splitting: on `/`, with `\\/` kept inside an element and one leading `/` ignored."""
    pieces = path.split("/")
    if len(pieces) > 1 and pieces[0] == "":
        pieces = pieces[1:]
    parts = [pieces[0]]
    for piece in pieces[1:]:
        if parts[-1].endswith("\\"):
            parts[-1] = parts[-1][:-1] + "/" + piece
        else:
            parts.append(piece)
    return parts


def update_field(obj: Any, path: str, fn: Callable[[Any], Any], create: bool = False) -> None:
    """Call `fn(value)` for every node at the field-spec `path` inside `obj` and store what it returns.

    `fn(None)` is called where the leaf is missing (or null) and `create` is set. Raises FieldSpecError when
    the path runs into a scalar; errors raised by `fn` pass through."""
    _walk(obj, split_path(path), 0, fn, create, path)


def apply_fieldspecs(resource: Resource, specs: Iterable[FieldSpec], fn: Callable[[Any], Any], file: str = "",
                     field: str = "") -> None:
    """`update_field` on `resource` for each spec that applies to it, in order.

    A FieldSpecError becomes a RenderError for `file` (the kustomization) at `field` naming the object, its
    origin and the path."""
    for spec in specs:
        if spec.applies_to(resource):
            try:
                update_field(resource.obj, spec.path, fn, spec.create)
            except FieldSpecError as err:
                raise RenderError(file, f"cannot set {spec.path!r} of {describe_resource(resource)}: {err}",
                                  field) from err


def describe_resource(resource: Resource) -> str:
    """`Deployment/web in namespace prod (from apps/web/deploy.yaml)`, for messages."""
    where = f" in namespace {resource.namespace}" if resource.namespace else ""
    return f"{resource.kind or 'object'}/{resource.name or '<no name>'}{where} (from {resource.origin})"


def _walk(node: Any, parts: list[str], depth: int, fn: Callable[[Any], Any], create: bool, path: str) -> None:
    if node is None:
        return
    if isinstance(node, list):
        for element in node:
            _walk(element, parts, depth, fn, create, path)
        return
    if not isinstance(node, dict):
        reached = "/".join(parts[:depth]) or "the object"
        raise FieldSpecError(f"expected a mapping or a list at {reached!r}, found {describe(node)}")
    part = parts[depth]
    key = part[:-2] if part.endswith("[]") else part
    is_list = key != part
    if not key:
        raise FieldSpecError(f"field spec path {path!r} has an empty field name")
    last = depth == len(parts) - 1
    creating = create and not is_list
    value = node.get(key)
    if value is None:
        if key in node and is_list:
            node[key] = []  # kustomize turns a null it expected to be a list into an empty list
            return
        if not creating:
            return
        if last:
            node[key] = fn(None)
            return
        value = node[key] = {}
    if last:
        node[key] = fn(value)
    else:
        _walk(value, parts, depth + 1, fn, create, path)


def parse_fieldspecs(raw: Any, file: str, field: str) -> list[FieldSpec]:
    """Field specs written in a kustomization (a list of `{path, group, version, kind, create}`)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise RenderError(file, f"expected a list of field specs ({{path, kind, create}}), found {describe(raw)}",
                          field)
    specs = []
    for index, entry in enumerate(raw):
        where = f"{field}[{index}]"
        if not isinstance(entry, dict):
            raise RenderError(file, f"expected a field spec mapping with a path, found {describe(entry)}", where)
        unknown = sorted(set(entry) - {"path", "group", "version", "kind", "create"})
        if unknown:
            raise RenderError(file, f"unknown field {unknown[0]!r}: a field spec has path, group, version, kind "
                                    "and create", f"{where}.{unknown[0]}")
        values: dict[str, Any] = {}
        for name in ("path", "group", "version", "kind"):
            value = entry.get(name, "")
            if value is None:
                value = ""
            if not isinstance(value, str):
                raise RenderError(file, f"expected a string, found {describe(value)}", f"{where}.{name}")
            values[name] = value
        if not values["path"]:
            raise RenderError(file, "a field spec needs a path, e.g. spec/template/metadata/labels",
                              f"{where}.path")
        create = entry.get("create", False)
        if create is None:
            create = False
        if not isinstance(create, bool):
            raise RenderError(file, f"expected true or false, found {describe(create)}", f"{where}.create")
        specs.append(FieldSpec(values["path"], values["group"], values["version"], values["kind"], create))
    return specs
