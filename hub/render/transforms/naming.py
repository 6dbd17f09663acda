"""`namePrefix` and `nameSuffix`: kustomize v5.5's PrefixTransformer and SuffixTransformer.

The prefix (then the suffix) is added to `metadata.name` of every object except CustomResourceDefinitions,
Namespaces (of any group) and APIServices of `apiregistration.k8s.io` (kustomize's fixed skip list, judged on
the object's original id). Cluster-scoped objects are renamed too. Each non-empty affix is recorded in
`Resource.prefixes` / `Resource.suffixes` (the name-reference fixer uses them) and each rename in
`Resource.previous_ids`. Objects without a name keep having none.
"""

from __future__ import annotations

from typing import Any

from hub.render.errors import RenderError
from hub.render.fieldspecs import describe, describe_resource
from hub.render.resource import Resource


def add_name_affixes(resources: list[Resource], prefix: str, suffix: str, file: str = "", field: str = "") -> None:
    """Apply a kustomization's `namePrefix` and `nameSuffix` to every resource (in place).

    `field` is only used for messages; by default errors name `namePrefix` or `nameSuffix`."""
    for affix, name in ((prefix, "namePrefix"), (suffix, "nameSuffix")):
        if affix is not None and not isinstance(affix, str):
            raise RenderError(file, f"expected a string, found {describe(affix)}", field or name)
    if prefix:
        for resource in resources:
            if not _skipped(resource):
                resource.prefixes.append(prefix)
                _rename(resource, lambda current: prefix + current, file, field or "namePrefix")
    if suffix:
        for resource in resources:
            if not _skipped(resource):
                resource.suffixes.append(suffix)
                _rename(resource, lambda current: current + suffix, file, field or "nameSuffix")


def _skipped(resource: Resource) -> bool:
    rid = resource.orig_id()
    return rid.kind in ("CustomResourceDefinition", "Namespace") or \
        (rid.kind == "APIService" and rid.group == "apiregistration.k8s.io")


def _rename(resource: Resource, change: Any, file: str, field: str) -> None:
    meta = resource.obj.get("metadata")
    if not isinstance(meta, dict) or meta.get("name") is None:
        return
    current = meta["name"]
    if isinstance(current, (dict, list)):
        raise RenderError(file, f"cannot rename {describe_resource(resource)}: metadata.name is "
                                f"{describe(current)}, expected a string", field)
    resource.rename(name=change(_scalar_text(current)))


def _scalar_text(value: Any) -> str:
    """A scalar as kustomize reads it from YAML text (names are normally strings already)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
