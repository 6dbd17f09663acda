"""The records of a rollout: what the hub knows of a cluster (`ClusterReport`), a step with its settings
resolved (`Step`), the progress of one cluster in the rollout (`ClusterProgress`) and what the rollout asks
for now (`Decision`). Each converts to and from plain JSON-ready dicts; nothing here decides anything.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

SYNCED = "Synced"
HEALTHY = "Healthy"
DEGRADED = "Degraded"


@dataclass(frozen=True)
class ClusterReport:
    """What the hub knows of one cluster for this application: the revision it runs, its sync status
    (Synced, OutOfSync, Unknown), its health (Healthy, Progressing, Degraded, Suspended, Missing, Unknown)
    and when it was reported (seconds, on the rollout's clock)."""

    revision: str
    sync_status: str
    health: str
    at: float

    def runs(self, revision: str) -> bool:
        """Whether the cluster is Synced and Healthy at `revision`."""
        return self.revision == revision and self.sync_status == SYNCED and self.health == HEALTHY

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> ClusterReport:
        return cls(revision=str(data["revision"]), sync_status=str(data["sync_status"]), health=str(data["health"]),
                   at=float(data["at"]))


@dataclass(frozen=True)
class Step:
    """One step of a running rollout: its clusters in release order and its settings, resolved to numbers
    (`concurrency` clusters in flight at once, `min_healthy_seconds` of soak, `deadline_seconds` from release
    to Synced and Healthy, `max_failures` tolerated)."""

    name: str
    clusters: tuple[str, ...]
    concurrency: int
    min_healthy_seconds: float = 0.0
    deadline_seconds: float = 600.0
    max_failures: int = 0

    def to_json(self) -> dict:
        return {**asdict(self), "clusters": list(self.clusters)}

    @classmethod
    def from_json(cls, data: dict) -> Step:
        return cls(name=str(data["name"]), clusters=tuple(str(name) for name in data["clusters"]),
                   concurrency=int(data["concurrency"]), min_healthy_seconds=float(data["min_healthy_seconds"]),
                   deadline_seconds=float(data["deadline_seconds"]), max_failures=int(data["max_failures"]))


@dataclass
class ClusterProgress:
    """Where one cluster is in the rollout. `released_at`: when it was told to run the new revision (None:
    not yet); `done_at`: when it was first Synced and Healthy at it after release; `healthy_since`: since when
    its latest reports say Synced and Healthy at the new revision (None: they do not); `failure`: why it
    failed in its step ("" if it did not); `rolled_back`: sent back to the previous revision."""

    step: int
    report: ClusterReport | None = None
    released_at: float | None = None
    done_at: float | None = None
    healthy_since: float | None = None
    failure: str = ""
    rolled_back: bool = False

    @property
    def in_flight(self) -> bool:
        """Released, and neither done, failed nor rolled back: it holds one of its step's concurrency slots."""
        return self.released_at is not None and self.done_at is None and not self.failure and not self.rolled_back

    def to_json(self) -> dict:
        return {**asdict(self), "report": self.report.to_json() if self.report is not None else None}

    @classmethod
    def from_json(cls, data: dict) -> ClusterProgress:
        def number(key: str) -> float | None:
            return None if data[key] is None else float(data[key])
        report = data["report"]
        return cls(step=int(data["step"]), report=ClusterReport.from_json(report) if report is not None else None,
                   released_at=number("released_at"), done_at=number("done_at"),
                   healthy_since=number("healthy_since"), failure=str(data["failure"]),
                   rolled_back=bool(data["rolled_back"]))


@dataclass
class Decision:
    """What a rollout asks for now.

    `release`: every cluster that should run the new revision now (cumulative: all released so far, less the
    rolled back); `rollback`: clusters to put back on the previous revision; clusters in neither keep what
    they run. `phase`: Progressing, Soaking, Halted or Succeeded. `step`: the index of the step in progress,
    which is also the number of steps complete (the number of steps once Succeeded); `step_name` its name.
    `waiting_on`: what the rollout waits for, in words; `halted_reason`: why it halted. `done`: clusters
    Synced and Healthy at the new revision since their release; `failed`: cluster -> why, in the current
    step."""

    release: set[str]
    rollback: set[str]
    phase: str
    step: int
    waiting_on: str
    halted_reason: str = ""
    step_name: str = ""
    done: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict:
        """A JSON-ready dict (sets as sorted lists), for the hub's interfaces."""
        return {"release": sorted(self.release), "rollback": sorted(self.rollback), "phase": self.phase,
                "step": self.step, "step_name": self.step_name, "waiting_on": self.waiting_on,
                "halted_reason": self.halted_reason, "done": sorted(self.done), "failed": dict(self.failed)}
