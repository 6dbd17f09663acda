"""Reading cluster selections: an application's `targets` and a rollout step's selection (both: `clusters`,
`regions`, `environments`, `clusterSelector` with matchLabels and matchExpressions).

Only parses and validates (names of clusters, regions and environments must exist, with did-you-mean);
which clusters a selection picks is `hub.fleet.targeting`'s.
"""

from __future__ import annotations

from hub.fleet.model import Cluster, ClusterSelector, Environment, FrozenMap, SelectorRequirement, Targets
from hub.fleet.reader import Reader, child, did_you_mean, label_key_problem, label_value_problem

SELECTION_FIELDS = ("regions", "environments", "clusterSelector", "clusters")
_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def read_targets(reader: Reader, raw: object, field: str, clusters: list[Cluster],
                 environments: dict[str, Environment], complete: bool) -> Targets:
    """An application's `targets` (every cluster when absent or empty)."""
    spec = reader.fields(raw, field, SELECTION_FIELDS, "a mapping {regions, environments, clusterSelector, clusters}")
    if not spec:
        return Targets()
    return read_selection(reader, spec, field, clusters, environments, complete, verb="targets")


def read_selection(reader: Reader, spec: dict, field: str, clusters: list[Cluster],
                   environments: dict[str, Environment], complete: bool, *, verb: str = "selects") -> Targets:
    """The selection fields of the mapping `spec` (whose keys the caller has checked) at `field`. Unknown
    cluster names and regions are reported only when the cluster list was read `complete`ly; `verb` says
    what an empty list would do ("targets", "selects")."""
    regions_known = sorted({cluster.region for cluster in clusters})
    names_known = [cluster.name for cluster in clusters]
    lists = {}
    for key, known, what in (("regions", regions_known, "the region of any cluster"),
                             ("environments", list(environments), "an environment declared in spec.environments"),
                             ("clusters", names_known, "a cluster in spec.clusters")):
        values = reader.string_list(spec.get(key), child(field, key), f"a list of {key}")
        if spec.get(key) == []:
            reader.error(child(field, key), f"expected a non-empty list of {key}, found an empty list (which "
                                            f"{verb} no cluster); remove the field to leave {key} unconstrained")
        for index, value in enumerate(values or ()):
            if value not in known and (complete or key == "environments"):
                reader.error(child(field, key) + f"[{index}]", f'"{value}" is not {what}'
                                                               f"{did_you_mean(value, known)}; known: "
                                                               f"{', '.join(known) or 'none'}")
        lists[key] = values
    selector = None
    if spec.get("clusterSelector") is not None:
        selector = read_selector(reader, spec["clusterSelector"], child(field, "clusterSelector"))
    return Targets(regions=lists["regions"], environments=lists["environments"], cluster_selector=selector,
                   clusters=lists["clusters"] or ())


def read_selector(reader: Reader, raw: object, field: str) -> ClusterSelector:
    """A Kubernetes label selector over cluster labels."""
    spec = reader.fields(raw, field, ("matchLabels", "matchExpressions"), "a label selector {matchLabels, "
                                                                          "matchExpressions}")
    if spec is None:
        return ClusterSelector()
    match_labels = reader.string_map(spec.get("matchLabels"), child(field, "matchLabels"),
                                     key_check=label_key_problem, value_check=label_value_problem)
    requirements = []
    for path, entry in reader.items(spec.get("matchExpressions"), child(field, "matchExpressions"),
                                    "a list of {key, operator, values}"):
        expression = reader.fields(entry, path, ("key", "operator", "values"), "a mapping {key, operator, values}")
        if expression is None:
            continue
        key = reader.string(expression.get("key"), child(path, "key"), "a label key", required=True,
                            check=label_key_problem)
        operator = reader.string(expression.get("operator"), child(path, "operator"),
                                 "one of " + ", ".join(_OPERATORS), required=True,
                                 check=lambda text: None if text in _OPERATORS else "unknown operator")
        values = reader.string_list(expression.get("values"), child(path, "values"), "a list of label values",
                                    check=label_value_problem) or ()
        if operator in ("In", "NotIn") and not values:
            reader.error(child(path, "values"), f"operator {operator} needs a non-empty list of values")
        elif operator in ("Exists", "DoesNotExist") and values:
            reader.error(child(path, "values"), f"operator {operator} takes no values; remove them")
        if key and operator:
            requirements.append(SelectorRequirement(key=key, operator=operator, values=values))
    return ClusterSelector(match_labels=FrozenMap(match_labels), match_expressions=tuple(requirements))
