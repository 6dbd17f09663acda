"""The fleet definition as frozen dataclasses: clusters, environments, applications and their policies.

Everything here is immutable and hashable, built only by `hub.fleet.load` (which validates) and
`hub.fleet.argocd` (Argo CD Application documents). Field names follow fleet.yaml in snake_case; the
sync-policy records follow Argo CD's names (`automated.prune`, `retry.backoff.maxDuration`, ...) so that a
user of Argo CD recognises them. Durations keep the text the user wrote beside their value in seconds.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from hub.fleet import targeting

V = TypeVar("V")


class FrozenMap(Mapping[str, V], Generic[V]):
    """A read-only, hashable mapping that keeps insertion order (labels, path overrides, environments)."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, V] | None = None) -> None:
        self._items: dict[str, V] = dict(items or {})

    def __getitem__(self, key: str) -> V:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(tuple(self._items.items()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self._items) == dict(other)

    def __repr__(self) -> str:
        return f"FrozenMap({self._items!r})"


@dataclass(frozen=True)
class Origin:
    """Where an application was defined: a file and, inside it, the field path or document."""

    file: str
    field: str

    def __str__(self) -> str:
        return f"{self.file} {self.field}" if self.field else self.file


@dataclass(frozen=True)
class Cluster:
    """One spoke cluster: its name (a DNS-1123 label), region, environment and free-form labels."""

    name: str
    region: str
    environment: str
    labels: FrozenMap[str] = field(default_factory=FrozenMap)


@dataclass(frozen=True)
class SyncWindow:
    """An Argo CD sync window: `kind` allow/deny, a 5-field cron `schedule`, a Go `duration`.

    `applications`, `clusters` and `namespaces` are glob lists; see `matches` for how they combine."""

    kind: str
    schedule: str
    duration: str
    duration_seconds: float
    time_zone: str = "UTC"
    manual_sync: bool = False
    applications: tuple[str, ...] = ()
    clusters: tuple[str, ...] = ()
    namespaces: tuple[str, ...] = ()
    and_operator: bool = False
    sync_overrun: bool = False
    description: str = ""

    def matches(self, application: str, cluster: str, namespace: str) -> bool:
        """Whether this window governs `application` on `cluster` deploying into `namespace`.

        A window with no globs at all governs every application of its environment; otherwise the
        non-empty glob lists are OR-ed (AND-ed with `andOperator: true`), as in Argo CD."""
        return targeting.window_matches(self, application, cluster, namespace)


@dataclass(frozen=True)
class Approvals:
    """How many distinct approvals a change needs before it is synced to the environment."""

    required: int = 0


@dataclass(frozen=True)
class Signatures:
    """Signed-commit verification for an environment: with `required`, only commits signed (GPG) by one of
    `trusted_keys` are deployed there. Keys are upper-case hex without `0x`: 40-character fingerprints or
    16-character long key ids."""

    required: bool = False
    trusted_keys: tuple[str, ...] = ()

    def trusts(self, key: str) -> bool:
        """Whether the signing key `key` (a fingerprint or long key id; case, `0x` and spaces ignored) is
        trusted. A 16-character key id matches a trusted fingerprint ending with it, and the other way round."""
        wanted = "".join(key.split()).upper().removeprefix("0X")
        if len(wanted) not in (16, 40):
            return False
        return any(trusted == wanted or trusted.endswith(wanted) or wanted.endswith(trusted)
                   for trusted in self.trusted_keys)


@dataclass(frozen=True)
class Environment:
    """A deployment environment: the Git ref it tracks and its sync policy (manual in production)."""

    name: str
    ref: str = "HEAD"
    production: bool = False
    sync: str = "automated"
    approvals: Approvals = field(default_factory=Approvals)
    sync_windows: tuple[SyncWindow, ...] = ()
    signatures: Signatures = field(default_factory=Signatures)


@dataclass(frozen=True)
class HelmSource:
    """A Helm chart inside the repository as the application's source (rendered by `hub.render.helm`).

    `chart` and `value_files` are path templates; value files are relative to the chart directory, as in
    Argo CD. `values_json` holds the inline values as canonical JSON so the record stays hashable."""

    chart: str
    value_files: tuple[str, ...] = ()  # the loaders set release_name to the application's name when unset
    values_json: str = "{}"
    release_name: str = ""

    @property
    def values(self) -> dict:
        """A fresh copy of the inline values."""
        return json.loads(self.values_json)


@dataclass(frozen=True)
class Source:
    """Where an application's manifests come from: a kustomize `path` template, or a `helm` chart."""

    path: str = ""
    path_overrides: FrozenMap[str] = field(default_factory=FrozenMap)
    helm: HelmSource | None = None


@dataclass(frozen=True)
class Destination:
    """The namespace namespaced objects without one are deployed into ("" leaves them as they are)."""

    namespace: str = ""


@dataclass(frozen=True)
class SelectorRequirement:
    """One `matchExpressions` entry: key, operator (In, NotIn, Exists, DoesNotExist) and values."""

    key: str
    operator: str
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClusterSelector:
    """A Kubernetes label selector over cluster labels; every part must match."""

    match_labels: FrozenMap[str] = field(default_factory=FrozenMap)
    match_expressions: tuple[SelectorRequirement, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        return targeting.selector_matches(self, labels)


@dataclass(frozen=True)
class Targets:
    """Which clusters an application runs on.

    `None` criteria are unconstrained. A cluster is targeted when it is listed in `clusters`, or when it
    matches every criterion given (regions, environments, cluster_selector). With no criterion and no
    cluster list, every cluster is targeted."""

    regions: tuple[str, ...] | None = None
    environments: tuple[str, ...] | None = None
    cluster_selector: ClusterSelector | None = None
    clusters: tuple[str, ...] = ()

    def matches(self, cluster: Cluster) -> bool:
        return targeting.targets_match(self, cluster)


@dataclass(frozen=True)
class RolloutStep:
    """One step of a rollout: the clusters it selects (`selector`, read like `targets`) and how they are
    released: at most `max_concurrency` at a time (an int, a "NN%" string of the step's size, or None for
    the whole step), each done once Synced and Healthy at the new revision; the step completes when all are
    done and have stayed Healthy for `min_healthy_time`. A cluster not done `progress_deadline` after its
    release, or Degraded, is a failure; more than `max_failures` failures halt the rollout."""

    name: str
    selector: Targets = field(default_factory=Targets)
    max_concurrency: int | str | None = None
    min_healthy_time: str = "0s"
    min_healthy_time_seconds: float = 0.0
    progress_deadline: str = "10m"
    progress_deadline_seconds: float = 600.0
    max_failures: int = 0

    def selects(self, cluster: Cluster) -> bool:
        return self.selector.matches(cluster)

    def concurrency(self, size: int) -> int:
        """How many clusters of a step of `size` clusters may be in flight at once (at least 1): a percentage
        is rounded up, as Kubernetes rounds maxSurge."""
        return targeting.concurrency(self.max_concurrency, size)


@dataclass(frozen=True)
class Rollout:
    """An application's rollout strategy: ordered `steps`, and what a failed step does (`on_failure`: "halt"
    leaves its clusters as they are, "rollback" returns them to the previous revision). Targeted clusters no
    step selects form a final implicit step with the default settings; with no steps at all, that step holds
    every targeted cluster, released at once."""

    steps: tuple[RolloutStep, ...] = ()
    on_failure: str = "halt"

    def implicit_step(self) -> RolloutStep:
        """The settings of the final implicit step (the clusters no declared step selects)."""
        return RolloutStep(name=IMPLICIT_STEP_NAMES[bool(self.steps)])


# The name of the implicit final step: "(all)" when no step is declared, "(rest)" after declared steps.
IMPLICIT_STEP_NAMES = ("(all)", "(rest)")


@dataclass(frozen=True)
class Automated:
    """Argo CD's `syncPolicy.automated`: sync on every new revision, optionally pruning and self-healing."""

    prune: bool = False
    self_heal: bool = False
    allow_empty: bool = False
    enabled: bool = True


@dataclass(frozen=True)
class Backoff:
    """Argo CD's `retry.backoff`: wait `duration * factor**n`, capped at `maxDuration` (defaults 5s, 2, 3m)."""

    duration: str = "5s"
    factor: int = 2
    max_duration: str = "3m"
    duration_seconds: float = 5.0
    max_duration_seconds: float = 180.0


@dataclass(frozen=True)
class Retry:
    """Argo CD's `syncPolicy.retry`: `limit` retries of a failed sync (-1: unlimited; 0: none)."""

    limit: int = 0
    backoff: Backoff = field(default_factory=Backoff)
    refresh: bool = False


@dataclass(frozen=True)
class ManagedNamespaceMetadata:
    """Labels and annotations put on the namespace that `CreateNamespace=true` creates."""

    labels: FrozenMap[str] = field(default_factory=FrozenMap)
    annotations: FrozenMap[str] = field(default_factory=FrozenMap)


# Argo CD retries an automated sync that has no retry block this way (appcontroller.go, RetryStrategy{Limit: 5}).
AUTOMATED_DEFAULT_RETRY = Retry(limit=5)


@dataclass(frozen=True)
class SyncPolicy:
    """Argo CD's `syncPolicy`: `automated` (None: sync only on request), `syncOptions`, `retry`."""

    automated: Automated | None = None
    sync_options: tuple[str, ...] = ()
    retry: Retry | None = None
    managed_namespace_metadata: ManagedNamespaceMetadata | None = None

    def option(self, name: str) -> str | None:
        """The value of sync option `name` (`CreateNamespace` -> "true"), or None when not set."""
        for entry in self.sync_options:
            key, _, value = entry.partition("=")
            if key == name:
                return value
        return None

    def effective_retry(self) -> Retry | None:
        """The retry strategy in force: the declared one, else Argo CD's implicit limit of 5 for automated
        syncs, else none."""
        if self.retry is not None:
            return self.retry
        return AUTOMATED_DEFAULT_RETRY if self.automated is not None and self.automated.enabled else None


@dataclass(frozen=True)
class IgnoreDifference:
    """Argo CD's `ignoreDifferences` entry: which objects, and which of their fields drift may ignore."""

    kind: str
    group: str = ""
    name: str = ""
    namespace: str = ""
    json_pointers: tuple[str, ...] = ()
    jq_path_expressions: tuple[str, ...] = ()
    managed_fields_managers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Policies:
    """Per-application opt-outs of the hub's policies on rendered output (all off by default)."""

    allow_plain_secrets: bool = False
    allow_mutable_image_tags: bool = False
    allow_unbounded_gpu: bool = False


@dataclass(frozen=True)
class Application:
    """One application: what to render (source), where (destination, targets) and how to sync it."""

    name: str
    source: Source
    origin: Origin
    destination: Destination = field(default_factory=Destination)
    targets: Targets = field(default_factory=Targets)
    sync_policy: SyncPolicy = field(default_factory=SyncPolicy)
    ignore_differences: tuple[IgnoreDifference, ...] = ()
    policies: Policies = field(default_factory=Policies)
    rollout: Rollout = field(default_factory=Rollout)

    def targets_cluster(self, cluster: Cluster) -> bool:
        return self.targets.matches(cluster)

    def source_path_for(self, cluster: Cluster) -> str:
        """The repository path to render for `cluster`: its path override, else the source template (the
        kustomize `path`, or the Helm chart) filled with the cluster's name, region, environment and labels."""
        override = self.source.path_overrides.get(cluster.name)
        if override is not None:
            return targeting.normalise_path(override)
        template = self.source.helm.chart if self.source.helm is not None else self.source.path
        return targeting.normalise_path(targeting.fill_template(template, cluster))

    def value_files_for(self, cluster: Cluster) -> tuple[str, ...]:
        """The repository paths of the Helm value files for `cluster` (relative ones resolved against the
        chart directory); empty for kustomize sources."""
        if self.source.helm is None:
            return ()
        chart = self.source_path_for(cluster)
        return tuple(targeting.normalise_path(targeting.fill_template(template, cluster), chart)
                     for template in self.source.helm.value_files)


@dataclass(frozen=True)
class Fleet:
    """The whole fleet definition of one repository revision."""

    name: str
    clusters: tuple[Cluster, ...]
    environments: FrozenMap[Environment]
    applications: tuple[Application, ...]
    repo_url: str = ""
    application_files: tuple[str, ...] = ()
    file: str = "fleet.yaml"

    @functools.cached_property
    def _clusters_by_name(self) -> dict[str, Cluster]:
        return {cluster.name: cluster for cluster in self.clusters}

    def cluster(self, name: str) -> Cluster:
        """The cluster called `name`; KeyError (with a did-you-mean) when there is none."""
        found = self._clusters_by_name.get(name)
        if found is not None:
            return found
        raise KeyError(f"no cluster {name!r} in {self.file}{_did_you_mean(name, [c.name for c in self.clusters])}")

    def environment_for(self, cluster: str | Cluster) -> Environment:
        """The environment record of `cluster` (a name or a Cluster)."""
        found = self._cluster(cluster)
        return self.environments[found.environment]

    def applications_for(self, cluster: str | Cluster) -> list[Application]:
        """The applications that run on `cluster`, in definition order (fleet.yaml, then application files)."""
        found = self._cluster(cluster)
        return [app for app in self.applications if app.targets_cluster(found)]

    def application(self, name: str, cluster: str | Cluster) -> Application:
        """The application called `name` on `cluster`; KeyError when it does not run there."""
        found = self._cluster(cluster)
        apps = self.applications_for(found)
        for app in apps:
            if app.name == name:
                return app
        raise KeyError(f"no application {name!r} targets cluster {found.name!r}"
                       f"{_did_you_mean(name, [a.name for a in apps])}")

    def assignments(self) -> list[tuple[Cluster, Application]]:
        """Every (cluster, application) pair the fleet runs, cluster by cluster in definition order."""
        return [(cluster, app) for cluster in self.clusters for app in self.applications
                if app.targets_cluster(cluster)]

    def automated_sync(self, application: Application, cluster: str | Cluster) -> bool:
        """Whether `application` syncs by itself on `cluster`: its syncPolicy is automated (and enabled) and
        the cluster's environment does not require manual sync."""
        automated = application.sync_policy.automated
        return automated is not None and automated.enabled and self.environment_for(cluster).sync == "automated"

    def sync_windows_for(self, application: Application, cluster: str | Cluster) -> list[SyncWindow]:
        """The sync windows of the cluster's environment that govern `application` there."""
        found = self._cluster(cluster)
        return [window for window in self.environment_for(found).sync_windows
                if window.matches(application.name, found.name, application.destination.namespace)]

    def rollout_steps(self, application: Application) -> list[tuple[RolloutStep, list[str]]]:
        """Each step of `application`'s rollout with the names of the clusters it releases, in order: the
        declared steps (a step that selects no targeted cluster keeps an empty list, and is skipped by the
        rollout), then the implicit step of the targeted clusters no step selects (present when it holds a
        cluster, or when no step is declared). A cluster belongs to the first step that selects it; inside a
        step, clusters listed by name come first in their listed order, then the others in fleet order."""
        remaining = [cluster for cluster in self.clusters if application.targets_cluster(cluster)]
        steps: list[tuple[RolloutStep, list[str]]] = []
        for step in application.rollout.steps:
            chosen = [cluster.name for cluster in targeting.rollout_step_clusters(step.selector, remaining)]
            steps.append((step, chosen))
            taken = set(chosen)
            remaining = [cluster for cluster in remaining if cluster.name not in taken]
        if remaining or not application.rollout.steps:
            steps.append((application.rollout.implicit_step(), [cluster.name for cluster in remaining]))
        return steps

    def rollout_plan(self, application: Application) -> list[list[str]]:
        """The cluster names of each step of `application`'s rollout, in order (see `rollout_steps`); the
        lists line up with `application.rollout.steps`, plus the implicit step when there is one."""
        return [clusters for _, clusters in self.rollout_steps(application)]

    def _cluster(self, cluster: str | Cluster) -> Cluster:
        return self.cluster(cluster) if isinstance(cluster, str) else cluster


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
