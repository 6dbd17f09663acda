"""The API's own Prometheus metrics (requests by route and status code, latency, refusals by reason), on a
registry this object owns; `/metrics` renders it after the registries given to build_app."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class ApiMetrics:
    """`fleetline_api_requests_total{method,route,code}`, `fleetline_api_request_seconds{route}` and
    `fleetline_api_refused_total{reason}` (401/403 by reason)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.requests = Counter("fleetline_api_requests", "API requests answered, by route template and status",
                                ["method", "route", "code"], registry=r)
        self.latency = Histogram("fleetline_api_request_seconds", "Time to answer an API request (event streams "
                                 "are counted, not timed)", ["route"],
                                 buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
                                 registry=r)
        self.refused = Counter("fleetline_api_refused", "API calls refused with 401 or 403, by reason", ["reason"],
                               registry=r)
