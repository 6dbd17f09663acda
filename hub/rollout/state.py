"""The rollout state machine: one application moving to one revision, step after step, across clusters.

Pure and serializable: no I/O, no clock of its own (every call takes `now`, and reports carry their time),
nothing global. The pipeline creates a `RolloutState` per (application, revision), feeds it what the
clusters report (`observe`), asks what to do (`decide`: which clusters run the new revision, which go back)
and stores it between calls (`to_json`/`from_json`).

The rules, for each step in order (clusters in the order given):
- at most `concurrency` clusters of the step are released and not yet done ("in flight");
- a cluster is done once it reports the new revision Synced and Healthy after its release;
- a released cluster is a failure when it reports Degraded at the new revision (done or not), or when it
  is not done `deadline_seconds` after its release; a failed cluster frees its slot;
- more than `max_failures` failures in the step halt the rollout; with `on_failure: rollback` the step's
  released clusters go back to the previous revision (earlier steps stay on the new one);
- the step completes once every cluster is done or failed and every done one has been Healthy at the new
  revision for `min_healthy_seconds` (a done cluster that stops being Healthy holds the step until it is
  Healthy again, and its soak starts over);
- a halted rollout releases nothing more until `resume` (which forgets the step's failures and restarts its
  deadlines) or until the pipeline starts a new RolloutState for a newer revision.
Only the step in progress is judged: a cluster of a completed step that degrades later does not halt the
rollout (its health is visible elsewhere).
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.fleet.model import Rollout
from hub.rollout import text
from hub.rollout.records import DEGRADED, ClusterProgress, ClusterReport, Decision, Step

STATE_VERSION = 1
PROGRESSING, SOAKING, HALTED, SUCCEEDED = "Progressing", "Soaking", "Halted", "Succeeded"
HALT, ROLLBACK = "halt", "rollback"


@dataclass
class RolloutState:
    """One application's rollout of `revision` (from `previous_revision`); see the module docstring."""

    application: str
    revision: str
    previous_revision: str
    steps: list[Step]
    on_failure: str
    started_at: float
    clusters: dict[str, ClusterProgress]
    step: int = 0
    halted_reason: str = ""

    @classmethod
    def start(cls, application: str, revision: str, previous_revision: str, steps: list[list[str]],
              strategy: Rollout | None, now: float) -> RolloutState:
        """A rollout of `revision` over `steps` (cluster names per step, as `Fleet.rollout_plan` gives them:
        in line with `strategy.steps`, then the implicit step), with the settings of `strategy` (None: the
        default, every cluster at once). `previous_revision` is where `rollback` returns clusters ("" when
        there is none: a failed step is then only halted). ValueError for a cluster in two steps, or more
        steps than the strategy has (plus the implicit one)."""
        strategy = strategy if strategy is not None else Rollout()
        if strategy.on_failure not in (HALT, ROLLBACK):
            raise ValueError(f"on_failure must be {HALT!r} or {ROLLBACK!r}, not {strategy.on_failure!r}")
        if len(steps) > len(strategy.steps) + 1:
            raise ValueError(f"{len(steps)} steps of clusters for a strategy of {len(strategy.steps)} steps; expected "
                             "at most one more (the implicit step), as Fleet.rollout_plan gives them")
        resolved: list[Step] = []
        progress: dict[str, ClusterProgress] = {}
        for index, names in enumerate(steps):
            settings = strategy.steps[index] if index < len(strategy.steps) else strategy.implicit_step()
            for name in names:
                if name in progress:
                    raise ValueError(f"cluster {name!r} is in step {progress[name].step} and step {index}; a "
                                     "cluster belongs to one step")
                progress[name] = ClusterProgress(step=index)
            resolved.append(Step(name=settings.name, clusters=tuple(names),
                                 concurrency=settings.concurrency(len(names)),
                                 min_healthy_seconds=settings.min_healthy_time_seconds,
                                 deadline_seconds=settings.progress_deadline_seconds,
                                 max_failures=settings.max_failures))
        return cls(application=application, revision=revision, previous_revision=previous_revision,
                   steps=resolved, on_failure=strategy.on_failure, started_at=now, clusters=progress)

    @property
    def halted(self) -> bool:
        return bool(self.halted_reason)

    def observe(self, cluster: str, report: ClusterReport) -> None:
        """Take in what `cluster` reports. Reports of clusters outside the rollout, and reports older than the
        last one taken, are ignored."""
        progress = self.clusters.get(cluster)
        if progress is None or (progress.report is not None and report.at < progress.report.at):
            return
        progress.report = report
        if not report.runs(self.revision):
            progress.healthy_since = None
        elif progress.healthy_since is None:
            progress.healthy_since = report.at
        if progress.step == self.step and progress.released_at is not None and not progress.rolled_back \
                and not progress.failure:
            self._judge(progress, report.at)

    def decide(self, now: float) -> Decision:
        """Advance the rollout to `now` (deadlines, releases, completed steps, halting) and say what it asks
        for. Calling it again at the same `now` changes nothing."""
        while not self.halted and self.step < len(self.steps):
            step = self.steps[self.step]
            members = [self.clusters[name] for name in step.clusters]
            for progress in members:
                if progress.in_flight:
                    self._judge(progress, now)
            failed = [name for name in step.clusters if self.clusters[name].failure]
            if len(failed) > step.max_failures:
                self._halt(step, failed)
                break
            self._release(step, now)
            soak_end = self._soak_end(step)
            if soak_end is None or soak_end > now:
                break
            self.step += 1
        return self._decision(now)

    def resume(self, now: float) -> None:
        """Resume a halted rollout: the current step's failures are forgotten, its rolled-back clusters are
        released again (as concurrency allows) and its clusters in flight get a fresh deadline from `now`.
        Does nothing when the rollout is not halted."""
        if not self.halted:
            return
        self.halted_reason = ""
        for name in self.steps[self.step].clusters:
            progress = self.clusters[name]
            if progress.rolled_back:
                progress.rolled_back, progress.released_at, progress.done_at = False, None, None
            elif progress.failure:
                progress.done_at = None
            progress.failure = ""
            if progress.in_flight:
                progress.released_at = now

    def _judge(self, progress: ClusterProgress, now: float) -> None:
        """Mark a released cluster of the current step done or failed, from its latest report and `now`."""
        step = self.steps[progress.step]
        report = progress.report
        if progress.released_at is None:
            return
        if report is not None and report.at >= progress.released_at and report.revision == self.revision \
                and report.health == DEGRADED:
            progress.failure = f"Degraded at {text.revision(self.revision)}"
            return
        if progress.done_at is not None:
            return
        deadline = progress.released_at + step.deadline_seconds
        if progress.healthy_since is not None and progress.healthy_since < deadline:
            progress.done_at = max(progress.healthy_since, progress.released_at)
        elif now >= deadline:
            progress.failure = (f"not Synced and Healthy at {text.revision(self.revision)} within "
                                f"{text.duration(step.deadline_seconds)} of its release")

    def _release(self, step: Step, now: float) -> None:
        """Release the step's next clusters, in order, while fewer than `concurrency` are in flight."""
        in_flight = sum(self.clusters[name].in_flight for name in step.clusters)
        for name in step.clusters:
            if in_flight >= step.concurrency:
                return
            progress = self.clusters[name]
            if progress.released_at is None:
                progress.released_at = now
                self._judge(progress, now)
                in_flight += progress.in_flight

    def _soak_end(self, step: Step) -> float | None:
        """When the step completes if nothing changes: None while a cluster is unreleased, in flight, or done
        but not Healthy now; else the time its last cluster to turn Healthy has soaked for the step's
        `min_healthy_seconds` (-inf when every cluster failed, within `max_failures`)."""
        members = [self.clusters[name] for name in step.clusters]
        if any(progress.released_at is None or progress.in_flight for progress in members):
            return None
        healthy_since = [progress.healthy_since for progress in members if not progress.failure]
        if any(since is None for since in healthy_since):
            return None
        return max((since for since in healthy_since if since is not None), default=float("-inf")) \
            + step.min_healthy_seconds

    def _halt(self, step: Step, failed: list[str]) -> None:
        reasons = "; ".join(f"{name} {self.clusters[name].failure}" for name in failed)
        reason = (f'step "{step.name}": {len(failed)} failed cluster(s), more than maxFailures {step.max_failures}: '
                  f"{reasons}")
        if self.on_failure == ROLLBACK:
            released = [name for name in step.clusters if self.clusters[name].released_at is not None]
            if not self.previous_revision:
                reason += "; no previous revision to roll back to, so the step's clusters are left as they are"
            else:
                for name in released:
                    self.clusters[name].rolled_back = True
                reason += f"; rolled back {text.clusters(released)} to {text.revision(self.previous_revision)}"
        self.halted_reason = reason

    def _decision(self, now: float) -> Decision:
        clusters = self.clusters.items()
        decision = Decision(
            release={name for name, p in clusters if p.released_at is not None and not p.rolled_back},
            rollback={name for name, p in clusters if p.rolled_back},
            phase=PROGRESSING, step=self.step, waiting_on="", halted_reason=self.halted_reason,
            done={name for name, p in clusters if p.done_at is not None and not p.failure and not p.rolled_back},
            failed={name: p.failure for name, p in clusters if p.failure})
        if self.step >= len(self.steps):
            decision.phase = SUCCEEDED
            return decision
        step = self.steps[self.step]
        decision.step_name = step.name
        if self.halted:
            decision.phase, decision.waiting_on = HALTED, "a resume, or a newer revision"
            return decision
        soak_end = self._soak_end(step)
        if soak_end is not None:
            soaking = [name for name in step.clusters if not self.clusters[name].failure]
            decision.phase = SOAKING
            decision.waiting_on = f"soaking {text.clusters(soaking)} for {text.duration(soak_end - now)} more"
            return decision
        waiting = [name for name in step.clusters if self._waits(self.clusters[name])]
        if waiting:
            decision.waiting_on = text.waiting_for(waiting[0], self.clusters[waiting[0]], self.revision)
        if len(waiting) > 1:
            decision.waiting_on += f", and {len(waiting) - 1} more cluster(s)"
        return decision

    def _waits(self, progress: ClusterProgress) -> bool:
        """Whether the current step waits on this cluster to be Synced and Healthy at the new revision."""
        done_but_unhealthy = progress.done_at is not None and not progress.failure and progress.healthy_since is None
        return progress.in_flight or done_but_unhealthy

    def to_json(self) -> dict:
        """The whole state as a JSON-ready dict (`from_json` reads it back)."""
        return {"version": STATE_VERSION, "application": self.application, "revision": self.revision,
                "previous_revision": self.previous_revision, "on_failure": self.on_failure,
                "started_at": self.started_at, "step": self.step, "halted_reason": self.halted_reason,
                "steps": [step.to_json() for step in self.steps],
                "clusters": {name: progress.to_json() for name, progress in self.clusters.items()}}

    @classmethod
    def from_json(cls, data: dict) -> RolloutState:
        """The state `to_json` wrote; ValueError naming what is wrong when `data` is not one."""
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            found = data.get("version") if isinstance(data, dict) else type(data).__name__
            raise ValueError(f"not a rollout state of version {STATE_VERSION} (found version {found!r})")
        try:
            state = cls(application=str(data["application"]), revision=str(data["revision"]),
                        previous_revision=str(data["previous_revision"]), on_failure=str(data["on_failure"]),
                        started_at=float(data["started_at"]), step=int(data["step"]),
                        halted_reason=str(data["halted_reason"]),
                        steps=[Step.from_json(step) for step in data["steps"]],
                        clusters={str(name): ClusterProgress.from_json(progress)
                                  for name, progress in data["clusters"].items()})
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"invalid rollout state: {type(exc).__name__}: {exc}") from exc
        listed = [name for step in state.steps for name in step.clusters]
        if sorted(listed) != sorted(state.clusters) or not 0 <= state.step <= len(state.steps):
            raise ValueError("invalid rollout state: the steps' clusters and the clusters' progress disagree")
        return state
