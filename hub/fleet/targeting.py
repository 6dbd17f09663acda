"""Which clusters an application targets, and the source path template filled for one cluster.

Pure functions over the records of `hub.fleet.model` (imported only for type checking, so that the model's
methods can call in here): label-selector matching (matchLabels, matchExpressions with In, NotIn, Exists,
DoesNotExist), target matching (explicit cluster names, or regions AND environments AND selector), the
clusters of a rollout step and its concurrency, sync window globs, and path templates with
`{name}`/`{cluster}`, `{region}`, `{environment}`, `{labels.KEY}`.
"""

from __future__ import annotations

import fnmatch
import math
import posixpath
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hub.fleet.model import Cluster, ClusterSelector, SyncWindow, Targets

PLACEHOLDERS = ("name", "cluster", "region", "environment", "labels.KEY")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


class TemplateError(ValueError):
    """A path template that cannot be parsed, or filled for a cluster (missing label)."""


def template_placeholders(template: str) -> list[str]:
    """The placeholders of `template` in order (`region`, `labels.gpu`); TemplateError for unbalanced braces,
    empty or unknown placeholders."""
    found = []
    for match in _PLACEHOLDER.finditer(template):
        name = match.group(1)
        is_label = name.startswith("labels.") and len(name) > len("labels.")
        if name in ("name", "cluster", "region", "environment") or is_label:
            found.append(name)
        else:
            raise TemplateError(f"unknown placeholder {{{name}}}; expected one of "
                                + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS))
    rest = _PLACEHOLDER.sub("", template)
    if "{" in rest or "}" in rest:
        raise TemplateError("unbalanced '{' or '}'; placeholders are written {region}, {labels.KEY}, ...")
    return found


def fill_template(template: str, cluster: Cluster) -> str:
    """`template` with every placeholder replaced by the cluster's value; TemplateError naming the label when
    the cluster lacks one that `{labels.KEY}` asks for."""
    template_placeholders(template)  # validates

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in ("name", "cluster"):
            return cluster.name
        if name == "region":
            return cluster.region
        if name == "environment":
            return cluster.environment
        key = name[len("labels."):]
        if key not in cluster.labels:
            raise TemplateError(f"cluster {cluster.name!r} has no label {key!r} (used by {{{name}}})")
        return cluster.labels[key]

    return _PLACEHOLDER.sub(value, template)


def normalise_path(path: str, base: str = "") -> str:
    """`path` (relative to the repository path `base`) as a normalised repository path ("" for the root);
    TemplateError when it is absolute or climbs out of the repository."""
    if path.startswith("/"):
        raise TemplateError(f"path {path!r} is absolute; write it relative to the repository root")
    joined = posixpath.normpath(posixpath.join(base, path))
    if joined == ".." or joined.startswith("../"):
        raise TemplateError(f"path {path!r} leaves the repository; keep paths inside the repository")
    return "" if joined == "." else joined


def selector_matches(selector: ClusterSelector, labels: Mapping[str, str]) -> bool:
    """Kubernetes label-selector semantics: every matchLabels pair and every expression must hold."""
    for key, value in selector.match_labels.items():
        if labels.get(key) != value:
            return False
    for requirement in selector.match_expressions:
        present = requirement.key in labels
        if requirement.operator == "In":
            ok = present and labels[requirement.key] in requirement.values
        elif requirement.operator == "NotIn":
            ok = not present or labels[requirement.key] not in requirement.values
        elif requirement.operator == "Exists":
            ok = present
        else:  # DoesNotExist; the loader admits no other operator
            ok = not present
        if not ok:
            return False
    return True


def targets_match(targets: Targets, cluster: Cluster) -> bool:
    """Whether `targets` selects `cluster` (see `hub.fleet.model.Targets`)."""
    if cluster.name in targets.clusters:
        return True
    criteria = (targets.regions, targets.environments, targets.cluster_selector)
    if all(criterion is None for criterion in criteria):
        return not targets.clusters  # no criterion: every cluster, unless an explicit list narrows it
    if targets.regions is not None and cluster.region not in targets.regions:
        return False
    if targets.environments is not None and cluster.environment not in targets.environments:
        return False
    return targets.cluster_selector is None or selector_matches(targets.cluster_selector, cluster.labels)


def rollout_step_clusters(selector: Targets, candidates: list[Cluster]) -> list[Cluster]:
    """The clusters of `candidates` a rollout step's `selector` selects: those it lists by name first, in the
    listed order, then the others it matches, in the order of `candidates`."""
    by_name = {cluster.name: cluster for cluster in candidates}
    listed = [by_name[name] for name in dict.fromkeys(selector.clusters) if name in by_name]
    listed_names = {cluster.name for cluster in listed}
    return listed + [cluster for cluster in candidates
                     if cluster.name not in listed_names and targets_match(selector, cluster)]


def concurrency(max_concurrency: int | str | None, size: int) -> int:
    """How many of a step's `size` clusters may be released and not yet done at once: all of them for None,
    the number for an int, the percentage of `size` rounded up for "NN%"; never less than 1."""
    if max_concurrency is None:
        limit = size
    elif isinstance(max_concurrency, str):
        limit = math.ceil(size * int(max_concurrency.rstrip("%")) / 100)
    else:
        limit = max_concurrency
    return max(1, limit)


def window_matches(window: SyncWindow, application: str, cluster: str, namespace: str) -> bool:
    """Whether a sync window governs (application, cluster, namespace): no globs means every application of
    the environment; otherwise the non-empty glob lists are OR-ed, or AND-ed with `andOperator`."""
    checks = [any(fnmatch.fnmatchcase(subject, glob) for glob in globs)
              for globs, subject in ((window.applications, application), (window.clusters, cluster),
                                     (window.namespaces, namespace)) if globs]
    if not checks:
        return True
    return all(checks) if window.and_operator else any(checks)
