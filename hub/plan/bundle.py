"""A cluster's rendered applications as the wire's DesiredState: the hand-off from planning to sessions.

Only applications that rendered go in (a failed application is left out here; keeping it on its last good
revision is the pipeline's job). Manifests travel as canonical JSON, sync policies and ignoreDifferences with
Argo CD's meaning, `manual` set when the application waits for a SyncRequest (its environment syncs
manually, or it has no `syncPolicy.automated`).
"""

from __future__ import annotations

from fleetline.identity import canonical_json
from fleetline.wire import fleet_pb2
from hub.fleet.model import Application, Fleet, SyncPolicy
from hub.plan.desired import AppDesiredState


def sync_policy_message(policy: SyncPolicy) -> fleet_pb2.SyncPolicy:
    message = fleet_pb2.SyncPolicy(sync_options=list(policy.sync_options))
    if policy.automated is not None and policy.automated.enabled:
        message.automated.CopyFrom(fleet_pb2.Automated(prune=policy.automated.prune,
                                                       self_heal=policy.automated.self_heal,
                                                       allow_empty=policy.automated.allow_empty))
    retry = policy.effective_retry()
    if retry is not None:
        message.retry.CopyFrom(fleet_pb2.Retry(limit=retry.limit, backoff=fleet_pb2.Backoff(
            duration=retry.backoff.duration, factor=retry.backoff.factor,
            max_duration=retry.backoff.max_duration)))
    return message


def bundle(fleet: Fleet, app: Application, state: AppDesiredState) -> fleet_pb2.ApplicationBundle:
    """One rendered application as an ApplicationBundle."""
    return fleet_pb2.ApplicationBundle(
        name=app.name, namespace=app.destination.namespace, content_hash=state.content_hash,
        manifests_json=[canonical_json(obj).decode("utf-8") for obj in state.objects],
        sync_policy=sync_policy_message(app.sync_policy),
        ignore_differences=[fleet_pb2.IgnoreDifference(
            group=d.group, kind=d.kind, name=d.name, namespace=d.namespace, json_pointers=list(d.json_pointers),
            jq_path_expressions=list(d.jq_path_expressions),
            managed_fields_managers=list(d.managed_fields_managers)) for d in app.ignore_differences],
        manual=not fleet.automated_sync(app, state.cluster))


def cluster_desired_state(fleet: Fleet, cluster: str, revision: str,
                          states: list[AppDesiredState]) -> fleet_pb2.DesiredState:
    """The DesiredState for `cluster` from its rendered applications (generation and hash are the session
    layer's to set). Applications are ordered by name; failed ones are left out."""
    message = fleet_pb2.DesiredState(cluster=cluster, revision=revision)
    for state in sorted(states, key=lambda s: s.app):
        if state.cluster != cluster:
            raise ValueError(f"application {state.app} was rendered for {state.cluster}, not {cluster}")
        if state.ok:
            app = fleet.application(state.app, cluster)
            entry = message.applications.add()
            entry.CopyFrom(bundle(fleet, app, state))
            entry.revision = revision
    return message
