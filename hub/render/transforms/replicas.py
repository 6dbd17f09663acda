"""`replicas`: kustomize v5.5's ReplicaCountTransformer, one pass per entry, in order.

An entry `{name, count}` sets `spec.replicas` (created when missing) of every Deployment, StatefulSet,
ReplicaSet and ReplicationController, of any group, that has or had that name (kustomize matches the
current name and the names before namePrefix/nameSuffix and namespace changes). A missing count is 0, as in
kustomize. An entry that matches no object is an error, as in kustomize.
"""

from __future__ import annotations

from typing import Any

from hub.render.errors import RenderError
from hub.render.fieldspec_tables import REPLICAS
from hub.render.fieldspecs import FieldSpecError, apply_fieldspecs, describe
from hub.render.resource import Resource

_ENTRY_FIELDS = ("name", "count")


def set_replicas(resources: list[Resource], replicas: list, file: str, field: str = "replicas") -> None:
    """Apply a kustomization's `replicas` entries, in order, to the named workloads (in place)."""
    if replicas is None:
        return
    if not isinstance(replicas, list):
        raise RenderError(file, f"expected a list of {{name, count}} entries, found {describe(replicas)}", field)
    for index, entry in enumerate(replicas):
        where = f"{field}[{index}]"
        name, count = _parse_entry(entry, file, where)

        def set_count(current: Any, count: int = count) -> int:
            if isinstance(current, (dict, list)):
                raise FieldSpecError(f"expected a number, found {describe(current)}")
            return count

        found = False
        for spec in REPLICAS:
            for resource in resources:
                if spec.applies_to(resource) and any(rid.name == name for rid in resource.all_ids()):
                    found = True
                    apply_fieldspecs(resource, [spec], set_count, file, where)
        if not found:
            kinds = ", ".join(spec.kind for spec in REPLICAS)
            raise RenderError(file, f"no object named {name!r} to set replicas on: replicas apply to {kinds} "
                                    "objects, matched by name (before or after namePrefix/nameSuffix)",
                              f"{where}.name")


def _parse_entry(entry: Any, file: str, where: str) -> tuple[str, int]:
    if not isinstance(entry, dict):
        raise RenderError(file, f"expected a mapping with name and count, found {describe(entry)}", where)
    unknown = sorted(set(entry) - set(_ENTRY_FIELDS))
    if unknown:
        raise RenderError(file, f"unknown field {unknown[0]!r}: a replicas entry has name and count",
                          f"{where}.{unknown[0]}")
    name = entry.get("name")
    if name is None:
        name = ""
    if not isinstance(name, str):
        raise RenderError(file, f"expected the name of a workload (a string), found {describe(name)}",
                          f"{where}.name")
    count = entry.get("count")
    if count is None:
        count = 0
    if isinstance(count, float) and count.is_integer():
        count = int(count)
    if isinstance(count, bool) or not isinstance(count, int):
        raise RenderError(file, f"expected a whole number of replicas, found {describe(count)}",
                          f"{where}.count")
    if not -2**63 <= count < 2**63:
        raise RenderError(file, f"replica count {count} is out of range", f"{where}.count")
    return name, count
