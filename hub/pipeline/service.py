"""The hub's pipeline from commit to clusters: revisions in, desired states out, gated and rolled out.

`Pipeline.on_revision(environment, sha)` (the source watcher's callback) renders the environment's clusters at
that commit (`EnvironmentTrack`). A pair (cluster, application) that fails to render keeps what it runs and the
revision is recorded as bad for that application with every error; a fleet.yaml that cannot be read keeps the
whole environment where it is. An application whose rendered content changed on some clusters gets a rollout
(`hub.rollout.RolloutState`, steps from fleet.yaml, by default all clusters at once) of the new revision over
those clusters; unchanged pairs keep their bundle and revision, so a commit moves only what it touched.

`_apply()` (after every revision, status report, approval, and on a timer for soak times, deadlines and sync
windows) asks each rollout what it decides, puts released clusters' new bundles (and rolled-back clusters' old
ones) into their desired states unless a sync window blocks them, pushes the clusters that changed through the
session layer (a disconnected cluster gets it when it reconnects), and, for applications behind a manual gate,
sends a SyncRequest once the revision has its required distinct approvals (and no window blocks manual syncs).

Durable state lives in the hub's store (hub.store; the pipeline opens its own on `data_dir` when given none):
approvals (`hub.gates.ApprovalBook`, the one book), and each application's rollout, saved whenever its progress
changes (step, releases, clusters done or failed, soak start, halt; not on every status report) together with the
bundles its clusters would roll back to. What each cluster holds (`pushed`) is read back from the session
layer's persisted desired states. So a hub restart resumes where it was: a rollout of the revision the
environment renders again continues from its saved state (its soak times and deadlines on the wall clock, a
halted rollout still halted); a rollout of an older revision gives way to a new one, as it would have.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from fleetline.atomicfile import atomic_write
from fleetline.wire import fleet_pb2
from hub.fleet.model import Fleet
from hub.gates.approvals import ApprovalBook, ApprovalState
from hub.gates.windows import evaluate
from hub.pipeline import saved
from hub.pipeline.tracks import EnvironmentTrack, Rendering
from hub.plan.desired import Renderer
from hub.plan.impact import Pair
from hub.rollout import ClusterReport, Decision, RolloutState
from hub.sessions.service import SessionHub, kv
from hub.sessions.subscriptions import SubscriptionOverflow
from hub.store import AsyncStore, RolloutRecord, Store, StoreError

log = logging.getLogger(__name__)

PUSH_CONCURRENCY = 64  # desired-state pushes in flight at once (the session layer writes them on 32 threads)


@dataclass
class BadRevision:
    """A revision an application could not move to in an environment, with every error."""

    environment: str
    application: str
    revision: str
    errors: list[str]
    at: float

    def to_json(self) -> dict:
        return {"environment": self.environment, "application": self.application, "revision": self.revision,
                "errors": self.errors, "at": self.at}


@dataclass
class _Rollout:
    environment: str
    application: str
    state: RolloutState
    candidate: dict[str, fleet_pb2.ApplicationBundle]
    previous: dict[str, fleet_pb2.ApplicationBundle | None]
    decision: Decision | None = None
    saved_progress: saved.Progress = ()  # last saved to the store (`saved.progress`); () before the first save


@dataclass
class _Environment:
    name: str
    track: EnvironmentTrack
    revision: str = ""  # the last revision seen
    good_revision: str = ""  # the last revision that rendered (fleet.yaml readable)
    fleet: Fleet | None = None
    error: str = ""
    bad: dict[str, BadRevision] = field(default_factory=dict)  # application -> its bad revision


def same_content(a: fleet_pb2.ApplicationBundle | None, b: fleet_pb2.ApplicationBundle | None) -> bool:
    """Whether two bundles hold the same content. The revision does not count: every commit to the environment
    renders every application at the new revision, and a commit that leaves an application's content alone must
    not start its rollout again (skipping a soak, or re-releasing what a halted rollout rolled back)."""
    if a is None or b is None:
        return a is b
    return a.content_hash == b.content_hash


class Pipeline:
    """See the module docstring."""

    def __init__(self, sessions: SessionHub, repo_path: str | Path, data_dir: str | Path, *,
                 clock: Callable[[], float] = time.time, fsync: bool = True, tick: float = 1.0,
                 store: AsyncStore | None = None) -> None:
        self.sessions = sessions
        self.repo_path = str(repo_path)
        self.data_dir = Path(data_dir)
        self.fsync = fsync
        self.clock = clock
        self.tick = tick
        self.renderer = Renderer()
        self.store = store
        self._own_store = False
        self.approvals = ApprovalBook()  # the store's book from start() on
        self._saved: dict[tuple[str, str], tuple[RolloutRecord, dict[str, bytes]]] = {}  # read at start()
        self.environments: dict[str, _Environment] = {}
        self.pushed: dict[Pair, fleet_pb2.ApplicationBundle] = {}
        self.rollouts: dict[tuple[str, str], _Rollout] = {}
        self.held: dict[Pair, str] = {}  # released but blocked by a sync window: why
        self.reports: dict[Pair, ClusterReport] = {}
        self.requested: set[tuple[str, str, str]] = set()  # (cluster, application, revision) sync requests sent
        self._requested_file = self.data_dir / "pipeline" / "sync-requests.json"  # `requested`, across restarts
        self._known_clusters: set[str] = set()
        self._rollout_marks: dict[tuple[str, str], tuple[str, int, str]] = {}  # (phase, step, revision) last told
        self._reported = asyncio.Event()  # status reports arrived since the last apply()
        self._places: dict[str, tuple[str, str]] = {}  # cluster -> (environment, region), per good rendering
        self.listeners: list[Callable[[str, dict], None]] = []  # (kind, data): what the audit log and alerts hear
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []

    # ---- lifecycle ------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the store (unless given one), read its approvals and saved rollouts, and start following."""
        if self.store is None:
            self.store = await AsyncStore.open(self.data_dir, synchronous="FULL" if self.fsync else "NORMAL")
            self._own_store = True
        self.approvals = await ApprovalBook.open(self.store, legacy=self.data_dir / "pipeline" / "approvals.json")
        self.requested = _read_requests(self._requested_file)

        def saved_rollouts(store: Store) -> list[tuple[RolloutRecord, dict[str, bytes]]]:
            return [(record, store.rollout_bundles(record.environment, record.application))
                    for record in store.rollouts() if record.environment]

        self._saved = {(record.environment, record.application): (record, bundles)
                       for record, bundles in await self.store.call(saved_rollouts)}
        self._tasks = [asyncio.create_task(self._follow_status()), asyncio.create_task(self._apply_on_reports()),
                       asyncio.create_task(self._timer())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self.store is not None:
            with contextlib.suppress(StoreError):  # already closed by its owner: nothing is left queued
                await self.store.flush()  # the rollout saves queued so far
            if self._own_store:
                await self.store.close()
                self.store, self._own_store = None, False

    async def _timer(self) -> None:
        while True:
            await asyncio.sleep(self.tick)  # soak times, progress deadlines and sync windows move with time
            try:
                await self.apply()
            except Exception:  # the pipeline must outlive a bug in one evaluation
                log.exception("event=pipeline_apply_failed")

    async def _follow_status(self) -> None:
        """Every status report feeds the rollouts at once; one `apply()` per burst of reports follows (an
        `apply()` per report costs rounds over every cluster for every cluster at 1,000 clusters). A subscription
        that falls behind is taken again, and the reports it may have missed are read back from the sessions."""
        while True:
            subscription = self.sessions.subscribe_status()
            for cluster in list(self._known_clusters):
                report = self.sessions.status(cluster)
                if report is not None:
                    self.observe(cluster, report)
            self._reported.set()
            try:
                async for cluster, report in subscription:
                    self.observe(cluster, report)
                    self._reported.set()
            except SubscriptionOverflow:
                log.warning("event=pipeline_fell_behind stream=status action=resubscribed")

    async def _apply_on_reports(self) -> None:
        while True:
            await self._reported.wait()
            self._reported.clear()
            try:
                await self.apply()
            except Exception:  # the pipeline must outlive a bug in one evaluation
                log.exception("event=pipeline_apply_failed")

    def emit(self, kind: str, data: dict) -> None:
        """Tell the listeners (the audit recorder, notifications, the API's stream); a failing listener is logged
        and never stops the pipeline."""
        for listener in list(self.listeners):
            try:
                listener(kind, data)
            except Exception:
                log.exception("event=pipeline_listener_failed kind=%s", kind)

    # ---- inputs ---------------------------------------------------------------------------------------------

    async def on_revision(self, environment: str, revision: str) -> None:
        """A tracked ref moved (or was read at start): render the environment there and roll out what changed."""
        async with self._lock:
            env = self.environments.get(environment)
            if env is None:
                env = self.environments[environment] = _Environment(
                    environment, EnvironmentTrack(environment, self.repo_path, self.renderer))
            began = time.perf_counter()
            rendering = await asyncio.to_thread(env.track.render, revision)
            self.emit("rendered", {"environment": environment, "revision": revision,
                                   "seconds": time.perf_counter() - began, "ok": not rendering.error})
            env.revision = rendering.revision
            if rendering.error:
                env.error = rendering.error
                log.error(kv(event="revision_bad", environment=environment, revision=revision, error=rendering.error,
                             action="keeping the last good revision"))
                return
            env.error, env.fleet, env.good_revision = "", rendering.fleet, rendering.revision
            self._places.update({c.name: (c.environment, c.region) for c in rendering.fleet.clusters
                                 if c.environment == environment})
            self._record_errors(env, rendering)
            self._load_pushed(rendering)
            dropped = self._drop_unassigned(env, rendering)
            self._start_rollouts(env, rendering)
            for cluster in sorted(dropped):
                await self._push(cluster)
        await self.apply()

    def observe(self, cluster: str, report: fleet_pb2.StatusReport) -> None:
        """A cluster's status report: each application's revision, sync status and health feed its rollout."""
        now = self.clock()
        for app in report.applications:
            pair = Pair(cluster, app.name)
            seen = ClusterReport(app.revision, app.sync_status, app.health, now)
            self.reports[pair] = seen
            for rollout in self.rollouts.values():
                if rollout.application == app.name and cluster in rollout.candidate:
                    rollout.state.observe(cluster, seen)

    async def approve(self, environment: str, application: str, revision: str, approver: str,
                      region: str | None = None) -> ApprovalState:
        """Record an approval of `revision` of `application` in `environment` (for `region`'s clusters only when a
        region is given: an approver scoped to one region approves for it alone); syncs follow once enough."""
        env = self.environments.get(environment)
        if env is None or env.fleet is None:
            raise KeyError(f"no environment {environment!r} has been rendered")
        required = self._required_approvals(env)
        state = await self.approvals.approve(environment, application, revision, approver, datetime.now(UTC),
                                             required=required, region=region or "")
        log.info(kv(event="approved", environment=environment, region=region or "", app=application,
                    revision=revision, approver=approver, approvals=len(state.approvers), required=required))
        self.emit("approval", {"environment": environment, "region": region or "", "application": application,
                               "revision": revision, "approver": approver, "required": required,
                               "approvals": len(state.approvers)})
        await self.apply()
        return state

    def approvals_for(self, env: _Environment, cluster: str, application: str, revision: str) -> ApprovalState:
        """The approvals that count for `cluster`: the environment's and its region's."""
        required = self._required_approvals(env)
        return self.approvals.state_for(env.name, self._region_of(cluster), application, revision, required)

    async def resume(self, environment: str, application: str) -> None:
        """Resume a halted rollout (it forgets the failures of its current step)."""
        rollout = self.rollouts.get((environment, application))
        if rollout is None:
            raise KeyError(f"no rollout of {application} in environment {environment}")
        rollout.state.resume(self.clock())
        await self.apply()

    async def abort(self, environment: str, application: str, actor: str) -> str:
        """Stop a rollout where it is: nothing more is released (what was released stays); the phase it ends in."""
        rollout = self.rollouts.get((environment, application))
        if rollout is None:
            raise KeyError(f"no rollout of {application} in environment {environment}")
        decision = rollout.state.decide(self.clock())
        if decision.phase == "Succeeded":
            raise ValueError(f"the rollout of {application} in {environment} has already succeeded")
        rollout.state.halted_reason = f"aborted by {actor}"
        log.warning(kv(event="rollout_aborted", environment=environment, app=application, actor=actor))
        await self.apply()
        return "Halted"

    # ---- deciding -------------------------------------------------------------------------------------------

    def _record_errors(self, env: _Environment, rendering: Rendering) -> None:
        failed: dict[str, list[str]] = {}
        for pair, errors in rendering.errors.items():
            failed.setdefault(pair.app, []).extend(f"{pair.cluster}: {error}" for error in errors)
        for app in list(env.bad):
            if app not in failed:
                log.info(kv(event="revision_recovered", environment=env.name, app=app, revision=rendering.revision))
                del env.bad[app]
        for app, errors in failed.items():
            env.bad[app] = BadRevision(env.name, app, rendering.revision, errors, self.clock())
            log.error(kv(event="revision_bad", environment=env.name, app=app, revision=rendering.revision,
                         errors=len(errors), first=errors[0], action="the application stays on its last good "
                         "revision"))

    def _load_pushed(self, rendering: Rendering) -> None:
        """Learn what the environment's clusters hold from the session layer (once per cluster)."""
        assert rendering.fleet is not None
        for cluster in rendering.fleet.clusters:
            if cluster.environment != rendering.environment or cluster.name in self._known_clusters:
                continue
            self._known_clusters.add(cluster.name)
            state = self.sessions.desired_state(cluster.name)
            for entry in state.applications if state is not None else []:
                self.pushed.setdefault(Pair(cluster.name, entry.name), entry)

    def _drop_unassigned(self, env: _Environment, rendering: Rendering) -> set[str]:
        """Applications that no longer target a cluster of the environment (removed from fleet.yaml, or their
        targets changed) leave its desired state; the agent then stops managing them (their objects stay).
        Returns the clusters whose desired state changed."""
        assert rendering.fleet is not None
        clusters = {c.name for c in rendering.fleet.clusters if c.environment == env.name}
        assigned = set(rendering.bundles) | set(rendering.errors)
        gone = [pair for pair in self.pushed if pair.cluster in clusters and pair not in assigned]
        for pair in gone:
            del self.pushed[pair]
            self.held.pop(pair, None)
            log.info(kv(event="application_unassigned", cluster=pair.cluster, app=pair.app,
                        revision=rendering.revision))
        for key in [k for k, r in self.rollouts.items() if k[0] == env.name
                    and not any(Pair(c, r.application) in assigned for c in r.candidate)]:
            del self.rollouts[key]
            self._store_call("delete_rollout", key, lambda store, k=key: store.delete_rollout(*k))
        return {pair.cluster for pair in gone}

    def _start_rollouts(self, env: _Environment, rendering: Rendering) -> None:
        fleet = rendering.fleet
        assert fleet is not None
        by_app: dict[str, dict[str, fleet_pb2.ApplicationBundle]] = {}
        for pair, entry in rendering.bundles.items():
            by_app.setdefault(pair.app, {})[pair.cluster] = entry
        for app_name, bundles in sorted(by_app.items()):
            changed = {cluster: entry for cluster, entry in bundles.items()
                       if (held := self.pushed.get(Pair(cluster, app_name))) is None
                       or held.content_hash != entry.content_hash}
            if (env.name, app_name) not in self.rollouts and (env.name, app_name) in self._saved:
                restored = self._restore(env, app_name, bundles, set(changed), rendering.revision)
                if restored is not None:
                    self.rollouts[(env.name, app_name)] = restored
                    continue
            current = self.rollouts.get((env.name, app_name))
            if not changed:
                continue
            if current is not None and all(same_content(current.candidate.get(c), e) for c, e in changed.items()):
                continue  # the same content already rolling out
            application = fleet.application(app_name, next(iter(changed)))
            # only the clusters whose content changes; empty steps stay, in line with the strategy's steps
            steps = [[c for c in step if c in changed] for step in fleet.rollout_plan(application)]
            previous = {cluster: self.pushed.get(Pair(cluster, app_name)) for cluster in changed}
            previous_revision = next((p.revision for p in previous.values() if p is not None), "")
            state = RolloutState.start(app_name, rendering.revision, previous_revision, steps,
                                       application.rollout, self.clock())
            for cluster in changed:
                report = self.reports.get(Pair(cluster, app_name))
                if report is not None:
                    state.observe(cluster, report)
            self.rollouts[(env.name, app_name)] = _Rollout(env.name, app_name, state, dict(changed), previous)
            log.info(kv(event="rollout_started", environment=env.name, app=app_name, revision=rendering.revision,
                        clusters=len(changed), steps=sum(1 for step in steps if step)))

    def _restore(self, env: _Environment, app_name: str, bundles: dict[str, fleet_pb2.ApplicationBundle],
                 changed: set[str], revision: str) -> _Rollout | None:
        """The saved rollout of `app_name` in `env`, when it rolls out `revision` (the environment's revision
        now) and still fits the rendering (every cluster it covers rendered, every cluster not yet at the new
        content among them); None otherwise (a new rollout then starts as usual)."""
        record, saved_bundles = self._saved.pop((env.name, app_name))
        if record.revision != revision:
            log.info(kv(event="rollout_superseded_while_stopped", environment=env.name, app=app_name,
                        saved_revision=record.revision, revision=revision))
            return None
        try:
            state, previous = saved.restore(record, saved_bundles)
        except Exception as exc:  # a row that cannot be read must not stop the hub: start the rollout anew
            log.warning(kv(event="rollout_not_restored", environment=env.name, app=app_name, revision=revision,
                           error=str(exc), action="starting the rollout anew"))
            return None
        missing, outside = sorted(set(state.clusters) - set(bundles)), sorted(changed - set(state.clusters))
        if missing or outside:
            problem = (f"clusters no longer rendered: {', '.join(missing)}" if missing
                       else f"clusters to change outside the saved rollout: {', '.join(outside)}")
            log.warning(kv(event="rollout_not_restored", environment=env.name, app=app_name, revision=revision,
                           error=problem, action="starting the rollout anew"))
            return None
        candidate = {cluster: bundles[cluster] for cluster in state.clusters}
        for cluster in candidate:
            report = self.reports.get(Pair(cluster, app_name))
            if report is not None:
                state.observe(cluster, report)
        self._rollout_marks[(env.name, app_name)] = (record.phase, record.step, record.revision)
        log.info(kv(event="rollout_restored", environment=env.name, app=app_name, revision=revision,
                    phase=record.phase, step=record.step, halted=bool(state.halted_reason)))
        return _Rollout(env.name, app_name, state, candidate, previous, saved_progress=saved.progress(state))

    def _save_rollouts(self) -> None:
        """Queue a save of each rollout whose progress changed since its last save (in order, on the store's
        writer thread; the hot path does not wait for it). Its first save also keeps its rollback bundles."""
        for key, rollout in self.rollouts.items():
            progress = saved.progress(rollout.state)
            if progress == rollout.saved_progress:
                continue
            record = saved.record(rollout.environment, rollout.state, rollout.decision)
            previous = saved.encode_previous(rollout.previous) if not rollout.saved_progress else None
            rollout.saved_progress = progress
            self._store_call("save_rollout", key, lambda store, r=record, p=previous: store.save_rollout(r, p))

    def _store_call(self, what: str, key: tuple[str, str], function: Callable[[Store], object]) -> None:
        """Queue `function(store)` on the store's writer thread; a failure is logged (the pipeline goes on)."""
        if self.store is None:
            return
        try:
            future = self.store.call(function)
        except StoreError as exc:  # closed: the hub is stopping
            log.error(kv(event="rollout_store_failed", call=what, environment=key[0], app=key[1], error=str(exc)))
            return

        def done(finished: asyncio.Future) -> None:
            if not finished.cancelled() and finished.exception() is not None:
                log.error(kv(event="rollout_store_failed", call=what, environment=key[0], app=key[1],
                             error=str(finished.exception())))
        future.add_done_callback(done)

    async def apply(self) -> None:
        """Push what the rollouts, windows and gates allow now."""
        async with self._lock:
            now = self.clock()
            moment = datetime.fromtimestamp(now, UTC)
            changed_clusters: set[str] = set()
            for rollout in self.rollouts.values():
                env = self.environments[rollout.environment]
                decision = rollout.state.decide(now)
                rollout.decision = decision
                mark = (decision.phase, decision.step, rollout.state.revision)
                if self._rollout_marks.get((rollout.environment, rollout.application)) != mark:
                    self._rollout_marks[(rollout.environment, rollout.application)] = mark
                    self.emit("rollout", self._rollout_json(rollout))
                for cluster in decision.release:
                    if self._release(env, rollout, cluster, moment):
                        changed_clusters.add(cluster)
                for cluster in decision.rollback:
                    pair = Pair(cluster, rollout.application)
                    before = rollout.previous.get(cluster)
                    if before is not None and not same_content(self.pushed.get(pair), before):
                        self.pushed[pair] = before
                        changed_clusters.add(cluster)
                        log.warning(kv(event="rollout_rolled_back", environment=env.name, app=rollout.application,
                                       cluster=cluster, revision=before.revision, reason=decision.halted_reason))
            # concurrently (bounded): each push hashes the state and writes it durably before it is sent; one
            # at a time, a release to 1,000 clusters took seconds before the last cluster heard of it
            limit = asyncio.Semaphore(PUSH_CONCURRENCY)

            async def push(cluster: str) -> None:
                async with limit:
                    await self._push(cluster)

            await asyncio.gather(*(push(cluster) for cluster in sorted(changed_clusters)))
            self._save_rollouts()
            await self._request_syncs(moment)

    def _release(self, env: _Environment, rollout: _Rollout, cluster: str, moment: datetime) -> bool:
        pair = Pair(cluster, rollout.application)
        target = rollout.candidate[cluster]
        if same_content(self.pushed.get(pair), target):
            self.held.pop(pair, None)
            return False
        fleet = env.fleet
        if fleet is not None:
            windows = fleet.sync_windows_for(fleet.application(rollout.application, cluster), cluster)
            verdict = evaluate(windows, moment)
            if not verdict.allowed and fleet.automated_sync(fleet.application(rollout.application, cluster),
                                                            cluster):
                if self.held.get(pair) != verdict.reason:
                    log.info(kv(event="release_held", cluster=cluster, app=rollout.application,
                                revision=target.revision, reason=verdict.reason))
                self.held[pair] = verdict.reason
                return False
        self.held.pop(pair, None)
        self.pushed[pair] = target
        return True

    async def _push(self, cluster: str) -> None:
        entries = sorted((entry for pair, entry in self.pushed.items() if pair.cluster == cluster),
                         key=lambda entry: entry.name)
        env = self._environment_of(cluster)
        state = fleet_pb2.DesiredState(revision=env.good_revision if env is not None else "", applications=entries)
        stored = await self.sessions.push(cluster, state)
        log.info(kv(event="cluster_pushed", cluster=cluster, generation=stored.generation,
                    applications=len(entries)))
        self.emit("pushed", {"cluster": cluster, "region": self._region_of(cluster),
                             "environment": env.name if env else "",
                             "revision": stored.revision, "generation": stored.generation,
                             "content_hash": stored.content_hash,
                             "applications": [{"name": e.name, "revision": e.revision,
                                               "content_hash": e.content_hash} for e in entries]})

    def _required_approvals(self, env: _Environment) -> int:
        if env.fleet is None:
            return 1
        return max(1, env.fleet.environments[env.name].approvals.required)

    async def _request_syncs(self, moment: datetime) -> None:
        """Behind a manual gate: a SyncRequest for each cluster holding an approved revision not yet requested.
        What was requested is kept on disk, so that a restarted hub does not send the requests again (each would
        be a full sync, hooks included, of a revision the cluster already runs)."""
        sent = len(self.requested)
        await self._send_sync_requests(moment)
        if len(self.requested) != sent:
            current = {(pair.cluster, pair.app, entry.revision) for pair, entry in self.pushed.items()}
            self.requested &= current  # requests for revisions no cluster holds any more are history
            data = json.dumps(sorted(self.requested)).encode()
            await asyncio.to_thread(atomic_write, self._requested_file, data, 0o644, self.fsync)

    async def _send_sync_requests(self, moment: datetime) -> None:
        for pair, entry in list(self.pushed.items()):  # every tick: no sort, the cheap test first
            if not entry.manual or (pair.cluster, pair.app, entry.revision) in self.requested:
                continue
            env = self._environment_of(pair.cluster)
            if env is None or env.fleet is None:
                continue
            state = self.approvals_for(env, pair.cluster, pair.app, entry.revision)
            if not state.satisfied:
                continue
            application = env.fleet.application(pair.app, pair.cluster)
            verdict = evaluate(env.fleet.sync_windows_for(application, pair.cluster), moment, manual=True)
            if not verdict.allowed:
                self.held[pair] = verdict.reason
                continue
            self.held.pop(pair, None)
            self.requested.add((pair.cluster, pair.app, entry.revision))
            await self.sessions.request_sync(pair.cluster, pair.app, entry.revision, ", ".join(state.approvers),
                                             prune=entry.sync_policy.automated.prune)

    def _environment_of(self, cluster: str) -> _Environment | None:
        place = self._places.get(cluster)
        return self.environments.get(place[0]) if place is not None else None

    def _region_of(self, cluster: str) -> str:
        place = self._places.get(cluster)
        return place[1] if place is not None else ""

    def place(self, cluster: str) -> tuple[str, str]:
        """The cluster's (region, environment) by the last good rendering of fleet.yaml ("" when unknown)."""
        environment, region = self._places.get(cluster, ("", ""))
        return region, environment

    # ---- what the rest of the hub shows ---------------------------------------------------------------------

    def describe(self) -> dict:
        """The pipeline's state as JSON: environments (revision, bad applications), rollouts, held releases,
        pending approvals."""
        pending = []
        for pair, entry in sorted(self.pushed.items()):
            env = self._environment_of(pair.cluster)
            if entry.manual and env is not None and (pair.cluster, pair.app, entry.revision) not in self.requested:
                state = self.approvals_for(env, pair.cluster, pair.app, entry.revision)
                pending.append({"environment": env.name, "region": self._region_of(pair.cluster),
                                "cluster": pair.cluster,
                                "application": pair.app,
                                "revision": entry.revision, "approvers": state.approvers,
                                "required": state.required, "held": self.held.get(pair, "")})
        return {
            "environments": {name: {"revision": env.revision, "good_revision": env.good_revision,
                                    "error": env.error, "bad": [bad.to_json() for bad in env.bad.values()]}
                             for name, env in sorted(self.environments.items())},
            "rollouts": [self._rollout_json(r) for _, r in sorted(self.rollouts.items())],
            "held": [{"cluster": p.cluster, "application": p.app, "reason": why}
                     for p, why in sorted(self.held.items())],
            "pending_approvals": pending,
        }

    def _rollout_json(self, rollout: _Rollout) -> dict:
        decision = rollout.decision
        return {"environment": rollout.environment, "application": rollout.application,
                "revision": rollout.state.revision, "previous_revision": rollout.state.previous_revision,
                "phase": decision.phase if decision else "", "step": decision.step if decision else 0,
                "waiting_on": decision.waiting_on if decision else "",
                "halted_reason": decision.halted_reason if decision else "",
                "released": sorted(decision.release) if decision else [],
                "rolled_back": sorted(decision.rollback) if decision else [],
                "steps": [list(step.clusters) for step in rollout.state.steps]}


def _read_requests(path: Path) -> set[tuple[str, str, str]]:
    """The sync requests a previous run of the hub sent (see `Pipeline._request_syncs`); empty when there is no
    file, or one that cannot be read (logged: the requests are then sent again, which syncs what already runs)."""
    try:
        return {(str(c), str(a), str(r)) for c, a, r in json.loads(path.read_bytes())}
    except FileNotFoundError:
        return set()
    except (OSError, ValueError, TypeError) as exc:
        log.warning(kv(event="sync_requests_unreadable", file=path, error=str(exc),
                       action="approved revisions will be requested again"))
        return set()
