"""What of a rollout the hub's store keeps, and reading it back: the pipeline's side of `RolloutRecord`.

A rollout is saved whenever its `progress` changes (revision, step, halt, and each cluster's release, done,
healthy-since, failure and rollback: not the clusters' latest status reports, which change with every report and
come back from the agents after a restart), with the bundles its clusters would roll back to (serialized
ApplicationBundles, saved once when the rollout starts: they never change).
No I/O here: the pipeline queues the store calls.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fleetline.wire import fleet_pb2
from hub.rollout import Decision, RolloutState
from hub.store import RolloutRecord
from hub.store.timefmt import rfc3339

Progress = tuple[object, ...]


def progress(state: RolloutState) -> Progress:
    """What must survive a restart of `state`, to compare with the last save: cheap enough for every apply (no
    JSON, no deep copies) at a thousand clusters."""
    return (state.revision, state.step, state.halted_reason,
            tuple((name, p.released_at, p.done_at, p.healthy_since, p.failure, p.rolled_back)
                  for name, p in state.clusters.items()))


def record(environment: str, state: RolloutState, decision: Decision | None) -> RolloutRecord:
    """The store's record of `state` (with what `decision` says of it: phase, done, failed)."""
    return RolloutRecord(
        application=state.application, revision=state.revision, state=state.to_json(), environment=environment,
        previous_revision=state.previous_revision, phase=decision.phase if decision else "",
        step=decision.step if decision else state.step, done=tuple(sorted(decision.done)) if decision else (),
        failed=dict(decision.failed) if decision else {}, halted_reason=state.halted_reason,
        started_at=rfc3339(datetime.fromtimestamp(state.started_at, UTC)))


def encode_previous(previous: dict[str, fleet_pb2.ApplicationBundle | None]) -> dict[str, bytes]:
    """The rollback bundles as the store keeps them (clusters that had none are left out)."""
    return {cluster: bundle.SerializeToString() for cluster, bundle in previous.items() if bundle is not None}


def restore(saved: RolloutRecord, bundles: dict[str, bytes]) -> tuple[RolloutState,
                                                                      dict[str, fleet_pb2.ApplicationBundle | None]]:
    """The state and rollback bundles of a saved rollout; ValueError (or a protobuf DecodeError) when the saved
    row cannot be read."""
    state = RolloutState.from_json(saved.state)
    previous: dict[str, fleet_pb2.ApplicationBundle | None] = {cluster: None for cluster in state.clusters}
    for cluster, raw in bundles.items():
        if cluster in previous:
            previous[cluster] = fleet_pb2.ApplicationBundle.FromString(raw)
    return state, previous
