"""The order in which a build's objects are printed: kustomize's `sortOptions`, by default its "legacy" order.

The legacy order (kustomize's SortOrderTransformer) ranks kinds by a fixed list, Namespace first and
webhook configurations last, every other kind in between; objects of different group/version/kind with
the same rank sort by `group_version_kind` (`~G` for the core group), and objects of the same
group/version/kind by `namespace|name` (`~X` for no namespace). `sortOptions: {order: fifo}` keeps the
build order; `legacySortOptions` replaces the two kind lists.
"""

from __future__ import annotations

import functools

from hub.render.errors import RenderError
from hub.render.resource import ResId, Resource

DEFAULT_ORDER_FIRST = (
    "Namespace", "ResourceQuota", "StorageClass", "CustomResourceDefinition", "ServiceAccount",
    "PodSecurityPolicy", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding", "ConfigMap", "Secret",
    "Endpoints", "Service", "LimitRange", "PriorityClass", "PersistentVolume", "PersistentVolumeClaim",
    "Deployment", "StatefulSet", "CronJob", "PodDisruptionBudget",
)
DEFAULT_ORDER_LAST = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")


def sort_resources(resources: list[Resource], sort_options: dict | None, file: str = "") -> list[Resource]:
    """`resources` in the output order `sort_options` (a kustomization's `sortOptions` value, None when
    absent) asks for; `file` names the kustomization in errors."""
    if sort_options is None:
        return legacy_sorted(resources, DEFAULT_ORDER_FIRST, DEFAULT_ORDER_LAST)
    order = sort_options.get("order") or ""
    legacy_options = sort_options.get("legacySortOptions")
    if order not in ("fifo", "legacy"):
        raise RenderError(file, f"must be one of [fifo, legacy], found {order!r}", "sortOptions.order")
    if order == "fifo":
        if legacy_options is not None:
            raise RenderError(file, "is set but the selected sort order is 'fifo', not 'legacy': remove it or "
                                    "set sortOptions.order: legacy", "sortOptions.legacySortOptions")
        return list(resources)
    if legacy_options is None:
        return legacy_sorted(resources, DEFAULT_ORDER_FIRST, DEFAULT_ORDER_LAST)
    return legacy_sorted(resources, legacy_options.get("orderFirst") or (), legacy_options.get("orderLast") or ())


def legacy_sorted(resources: list[Resource], order_first: tuple[str, ...] | list[str],
                  order_last: tuple[str, ...] | list[str]) -> list[Resource]:
    """kustomize's legacy sort with the given first and last kind lists."""
    ranks: dict[str, int] = {}
    for index, kind in enumerate(order_first):
        ranks[kind] = index - len(order_first)
    for index, kind in enumerate(order_last):
        ranks[kind] = index + 1
    keyed = [(resource.cur_id(), resource) for resource in resources]

    def compare(left: tuple[ResId, Resource], right: tuple[ResId, Resource]) -> int:
        return _compare_ids(left[0], right[0], ranks)

    keyed.sort(key=functools.cmp_to_key(compare))
    return [resource for _, resource in keyed]


def _compare_ids(a: ResId, b: ResId, ranks: dict[str, int]) -> int:
    if (a.group, a.version, a.kind) != (b.group, b.version, b.kind):
        rank_a, rank_b = ranks.get(a.kind, 0), ranks.get(b.kind, 0)
        if rank_a != rank_b:
            return -1 if rank_a < rank_b else 1
        text_a, text_b = _gvk_text(a), _gvk_text(b)
        if a.kind == "Namespace" and b.kind == "Namespace" and (a.group == "" or b.group == ""):
            text_a, text_b = text_b, text_a  # kustomize's quirk: a core Namespace sorts before other groups' ones
        return _cmp(text_a, text_b)
    return _cmp(_id_text(a), _id_text(b))


def _gvk_text(rid: ResId) -> str:
    return f"{rid.group or '~G'}_{rid.version or '~V'}_{rid.kind or '~K'}"


def _id_text(rid: ResId) -> str:
    """The tie-breaker string of two objects of the same group/version/kind (`kind.version.group|ns|name`
    in kustomize; the common prefix does not change the comparison)."""
    return f"{rid.namespace or '~X'}|{rid.name or '~N'}"


def _cmp(a: str, b: str) -> int:
    """Go compares strings bytewise; for UTF-8 that is code point order, which Python uses."""
    return (a > b) - (a < b)
