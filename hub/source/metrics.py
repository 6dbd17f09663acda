"""The Git source's Prometheus metrics, on a registry the `SourceMetrics` object owns (never the global one):
fetches by result and their duration, the stale-source flag, the revision each tracked ref is on, and webhook
requests by result (refusals included)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class SourceMetrics:
    """Metrics of one hub's fleet repository (`SourceWatcher`) and its webhook endpoint (`webhook_routes`)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.fetches = Counter("fleetline_hub_source_fetches", "Fetches of the fleet repository, by result "
                               "(success or failure)", ["result"], registry=r)
        self.fetch_seconds = Histogram("fleetline_hub_source_fetch_seconds", "Duration of fetches of the fleet "
                                       "repository (successful or not)",
                                       buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300), registry=r)
        self.stale = Gauge("fleetline_hub_source_stale", "1 while the last fetch failed: the hub serves the last "
                           "good revision", registry=r)
        self.last_success_age = Gauge("fleetline_hub_source_last_success_age_seconds", "Seconds since the last "
                                      "successful fetch (-1 before the first)", registry=r)
        self.last_success_age.set(-1)
        self.revision = Gauge("fleetline_hub_source_revision_info", "The commit each tracked ref is on (value 1)",
                              ["name", "ref", "sha"], registry=r)
        self.ref_errors = Gauge("fleetline_hub_source_ref_unresolved", "1 while a tracked ref does not resolve "
                                "(its last good commit is kept)", ["name", "ref"], registry=r)
        self.webhooks = Counter("fleetline_hub_source_webhooks", "Webhook requests by result: accepted, ping, "
                                "ignored, missing_signature, bad_signature, bad_payload, too_large, error",
                                ["result"], registry=r)
