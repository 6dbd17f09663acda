"""Reading an application's `rollout` in fleet.yaml: ordered steps that each select clusters (like
`targets`), with `maxConcurrency`, `minHealthyTime`, `progressDeadline` and `maxFailures`, and `onFailure`.

Only parses and validates, into `hub.fleet.model.Rollout`. Besides each field's syntax it checks that a
cluster a step lists by name is targeted by the application and not already taken by an earlier step (a
cluster runs in the first step that selects it, so that listing would have no effect). Which clusters each
step releases is `Fleet.rollout_steps`; running a rollout is `hub.rollout`'s.
"""

from __future__ import annotations

import re

from hub.fleet.model import Cluster, Environment, Rollout, RolloutStep
from hub.fleet.reader import GO_DURATION_EXPECTED, Reader, child, describe, did_you_mean
from hub.fleet.selection import SELECTION_FIELDS, read_selection
from hub.fleet.targeting import rollout_step_clusters

ON_FAILURE = ("halt", "rollback")
_STEP_FIELDS = ("name",) + SELECTION_FIELDS + ("maxConcurrency", "minHealthyTime", "progressDeadline",
                                               "maxFailures")
_PERCENT = re.compile(r"^(\d{1,3})%$")
_CONCURRENCY_EXPECTED = 'a number of clusters (1 or more) or a percentage of the step such as "25%"'


def read_rollout(reader: Reader, raw: object, field: str, app: str, targeted: list[Cluster],
                 clusters: list[Cluster], environments: dict[str, Environment], complete: bool) -> Rollout:
    """The `rollout` of application `app` (which targets `targeted`); the default (every targeted cluster
    at once, halt on failure) when absent."""
    spec = reader.fields(raw, field, ("steps", "onFailure"), "a mapping {steps, onFailure}")
    if not spec:
        return Rollout()
    on_failure = reader.string(spec.get("onFailure"), child(field, "onFailure"), '"halt" or "rollback"',
                               default="halt", check=_on_failure_problem)
    steps: list[RolloutStep] = []
    names: dict[str, str] = {}
    taken: dict[str, tuple[str, str]] = {}  # cluster -> (step name, step field) of the step that releases it
    remaining = list(targeted)
    entries = reader.items(spec.get("steps"), child(field, "steps"), "a list of steps {name, clusters, regions, ...}")
    for number, (path, entry) in enumerate(entries, start=1):
        step = _read_step(reader, entry, path, number, clusters, environments, complete)
        if step is None:
            continue
        if step.name in names:
            reader.error(child(path, "name"), f'step "{step.name}" is already defined at {names[step.name]}; step '
                                              "names must be unique in a rollout")
        names.setdefault(step.name, path)
        if complete:
            _check_listed(reader, step, path, app, clusters, targeted, taken)
        chosen = {cluster.name for cluster in rollout_step_clusters(step.selector, remaining)}
        taken.update((name, (step.name, path)) for name in chosen)
        remaining = [cluster for cluster in remaining if cluster.name not in chosen]
        steps.append(step)
    return Rollout(steps=tuple(steps), on_failure=on_failure)


def _read_step(reader: Reader, raw: object, field: str, number: int, clusters: list[Cluster],
               environments: dict[str, Environment], complete: bool) -> RolloutStep | None:
    """One step (None when it is not a mapping). A field with an error takes its default, so that the checks
    across steps still run and report their errors too."""
    spec = reader.fields(raw, field, _STEP_FIELDS, "a step {name, clusters, regions, environments, clusterSelector, "
                                                   "maxConcurrency, minHealthyTime, progressDeadline, maxFailures}")
    if spec is None:
        return None
    name = reader.name(spec.get("name"), child(field, "name"), "the step's name", required=False) or f"step-{number}"
    selector = read_selection(reader, spec, field, clusters, environments, complete)
    concurrency = _read_concurrency(reader, spec.get("maxConcurrency"), child(field, "maxConcurrency"))
    soak, soak_seconds = reader.duration(spec.get("minHealthyTime"), child(field, "minHealthyTime"), "0s")
    deadline_field = child(field, "progressDeadline")
    deadline, deadline_seconds = reader.duration(spec.get("progressDeadline"), deadline_field, "10m")
    if deadline_seconds == 0:
        reader.error(deadline_field, f"expected {GO_DURATION_EXPECTED}, found {describe(spec['progressDeadline'])}: "
                                     "a cluster needs some time to sync; give it more than 0")
    max_failures = reader.integer(spec.get("maxFailures"), child(field, "maxFailures"), 0, minimum=0,
                                  expected="a number of failed clusters the step tolerates (0 or more)")
    return RolloutStep(name=name, selector=selector, max_concurrency=concurrency, min_healthy_time=soak,
                       min_healthy_time_seconds=soak_seconds or 0.0, progress_deadline=deadline,
                       progress_deadline_seconds=deadline_seconds or 600.0, max_failures=max_failures)


def _read_concurrency(reader: Reader, raw: object, field: str) -> int | str | None:
    if raw is None:
        return None
    if isinstance(raw, int) and not isinstance(raw, bool):
        if raw >= 1:
            return raw
        reader.error(field, f"expected {_CONCURRENCY_EXPECTED}, found {describe(raw)} (the minimum is 1)")
        return None
    match = _PERCENT.match(raw) if isinstance(raw, str) else None
    if match is None:
        hint = " (write a whole number of clusters without quotes)" if isinstance(raw, str) and raw.isdigit() else ""
        reader.error(field, f"expected {_CONCURRENCY_EXPECTED}, found {describe(raw)}{hint}")
        return None
    if not 1 <= int(match.group(1)) <= 100:
        reader.error(field, f"expected {_CONCURRENCY_EXPECTED}, found {describe(raw)}: a percentage is between 1% "
                            "and 100%")
        return None
    return f"{int(match.group(1))}%"


def _check_listed(reader: Reader, step: RolloutStep, field: str, app: str, clusters: list[Cluster],
                  targeted: list[Cluster], taken: dict[str, tuple[str, str]]) -> None:
    """Every existing cluster `step` lists by name (unknown names are reported already) is targeted by `app`
    and not released by an earlier step."""
    known = {cluster.name for cluster in clusters}
    targeted_names = {cluster.name for cluster in targeted}
    for index, name in enumerate(step.selector.clusters):
        where = f"{child(field, 'clusters')}[{index}]"
        if name not in known:
            continue
        if name not in targeted_names:
            reader.error(where, f'cluster "{name}" is not targeted by application "{app}"; add it to the '
                                "application's targets or remove it from the step")
        elif name in taken:
            earlier, earlier_field = taken[name]
            reader.error(where, f'cluster "{name}" is already released by step "{earlier}" ({earlier_field}); a '
                                "cluster runs in the first step that selects it: remove it here, or narrow the "
                                "earlier step")


def _on_failure_problem(text: str) -> str | None:
    return None if text in ON_FAILURE else f"unknown failure action{did_you_mean(text, ON_FAILURE)}"


__all__ = ["ON_FAILURE", "read_rollout"]
