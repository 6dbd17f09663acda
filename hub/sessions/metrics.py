"""The session layer's Prometheus metrics, on a registry the `HubMetrics` object owns (never the global one)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class HubMetrics:
    """Connected agents, messages in/out by type, push-to-ack latency, reconnects, refusals by reason."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.connected = Gauge("fleetline_hub_connected_agents", "Agents with a live session", registry=r)
        self.messages_in = Counter("fleetline_hub_messages_received", "Messages received from agents, by type",
                                   ["type"], registry=r)
        self.messages_out = Counter("fleetline_hub_messages_sent", "Messages sent to agents, by type",
                                    ["type"], registry=r)
        self.push_to_ack = Histogram(
            "fleetline_hub_push_to_ack_seconds", "From push() to the agent's DesiredStateAck of that generation",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300), registry=r)
        self.reconnects = Counter("fleetline_hub_reconnects", "Sessions opened by a cluster that had one before "
                                  "(since this hub started, or holding desired state from before)", registry=r)
        self.refused = Counter("fleetline_hub_refused_connections", "Connections refused, by reason",
                               ["reason"], registry=r)
        self.sessions_closed = Counter("fleetline_hub_sessions_closed", "Sessions ended, by reason",
                                       ["reason"], registry=r)
        self.duplicate_events = Counter("fleetline_hub_duplicate_events",
                                        "Events received again (sequence already held) and dropped", registry=r)
        self.pushes = Counter("fleetline_hub_desired_state_pushes", "push() calls that changed a cluster's "
                              "desired state", registry=r)

    def messages_in_by_kind(self) -> Callable[[str], Counter]:
        """`messages_in.labels(kind)` with the children cached: `labels()` takes a lock on every call, and the
        hub counts every message it reads."""
        children: dict[str, Counter] = {}

        def child(kind: str) -> Counter:
            counter = children.get(kind)
            if counter is None:
                counter = children[kind] = self.messages_in.labels(kind)
            return counter

        return child
