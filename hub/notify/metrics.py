"""The notifier's Prometheus metrics, on a registry the `NotifyMetrics` object owns (never the global one)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

RESULTS = ("sent", "rejected", "expired", "dropped", "duplicate")


class NotifyMetrics:
    """`fleetline_notifications_total{trigger,sink,result}` (result: sent, rejected, expired, dropped,
    duplicate), `fleetline_notifications_queue_depth{sink}` (waiting or in flight) and
    `fleetline_notification_retries_total{sink}` (failed attempts that will be retried)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.notifications = Counter(
            "fleetline_notifications", "Notifications by trigger, sink and result: sent, rejected (the sink "
            "answered 4xx), expired (retried until the maximum age), dropped (queue overflow), duplicate (already "
            "sent once for its key)", ["trigger", "sink", "result"], registry=r)
        self.queue_depth = Gauge("fleetline_notifications_queue_depth",
                                 "Notifications waiting for a sink or being sent to it", ["sink"], registry=r)
        self.retries = Counter("fleetline_notification_retries", "Failed delivery attempts that will be retried",
                               ["sink"], registry=r)

    def count(self, trigger: str, sink: str, result: str) -> None:
        self.notifications.labels(trigger, sink, result).inc()

    def value(self, trigger: str, sink: str, result: str) -> float:
        """The current count (for tests and tools)."""
        return self.registry.get_sample_value("fleetline_notifications_total",
                                              {"trigger": trigger, "sink": sink, "result": result}) or 0.0
