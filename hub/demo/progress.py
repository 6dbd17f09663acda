"""What the fleet looks like through the hub's API, in the demo's terms: which (cluster, application) pairs are
Synced and Healthy at which revision, and a one-line summary of what is still on its way."""

from __future__ import annotations

from dataclasses import dataclass

from hub.fleet.model import Fleet


@dataclass(frozen=True)
class AppState:
    """One application on one cluster as its agent last reported it."""

    sync_status: str
    health: str
    revision: str
    message: str

    def ready_at(self, revision: str | None) -> bool:
        """Synced and Healthy (at `revision`, when given)."""
        return (self.sync_status == "Synced" and self.health == "Healthy"
                and (revision is None or self.revision == revision))


@dataclass(frozen=True)
class FleetView:
    """A reading of `GET /api/v1/fleet`."""

    apps: dict[tuple[str, str], AppState]
    connected: frozenset[str]

    @classmethod
    def from_api(cls, body: dict) -> FleetView:
        apps: dict[tuple[str, str], AppState] = {}
        connected = set()
        for region in body.get("regions", []):
            for cluster in region.get("clusters", []):
                if cluster.get("connected"):
                    connected.add(cluster["name"])
                for app in cluster.get("applications") or []:
                    apps[(cluster["name"], app["name"])] = AppState(
                        app.get("sync_status") or "", app.get("health") or "", app.get("revision") or "",
                        app.get("message") or "")
        return cls(apps, frozenset(connected))

    def ready(self, pair: tuple[str, str], revision: str | None = None) -> bool:
        state = self.apps.get(pair)
        return state is not None and pair[0] in self.connected and state.ready_at(revision)


def expected_pairs(fleet: Fleet) -> list[tuple[str, str]]:
    """Every (cluster, application) the fleet runs, in fleet.yaml's order of clusters and applications."""
    return [(cluster.name, app.name) for cluster in fleet.clusters for app in fleet.applications_for(cluster.name)]


def summary(view: FleetView, pairs: list[tuple[str, str]], revisions: dict[tuple[str, str], str]) -> str:
    """`9/15 Synced and Healthy · staging-1 4/4 · us-west-2 2/4 (inference-server OutOfSync Progressing) ...`"""
    done = [pair for pair in pairs if view.ready(pair, revisions.get(pair))]
    parts = [f"{len(done)}/{len(pairs)} Synced and Healthy"]
    clusters = list(dict.fromkeys(cluster for cluster, _ in pairs))
    for cluster in clusters:
        mine = [pair for pair in pairs if pair[0] == cluster]
        ready = sum(1 for pair in mine if pair in done)
        text = f"{cluster} {ready}/{len(mine)}"
        if cluster not in view.connected:
            text += " (agent not connected)"
        elif ready < len(mine):
            first = next(pair for pair in mine if pair not in done)
            state = view.apps.get(first)
            text += f" ({first[1]} {_state_words(state, revisions.get(first))})"
        parts.append(text)
    return " · ".join(parts)


def _state_words(state: AppState | None, revision: str | None) -> str:
    if state is None:
        return "not released yet"
    words = f"{state.sync_status or 'Unknown'} {state.health or 'Unknown'}"
    if revision and state.revision != revision and state.sync_status == "Synced":
        words += f" at {state.revision[:7]}"
    if state.message.startswith("OutOfSync: waiting for a sync request"):
        words += ", waiting for approval"
    return words
