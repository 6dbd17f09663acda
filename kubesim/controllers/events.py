"""Recording core/v1 Events for what the controllers do, so `kubectl get events` and `describe` show it.

Events are named like client-go names them, `<object>.<hex nanoseconds>`, so that a namespace's Events list
in the order they happened (kubectl describe keeps that order for events of the same second). Repeated
events (same object, component, reason and message) are aggregated into one Event whose `count` grows, as
client-go's recorder does with its cache; kubesim keeps that cache per cluster in `EventSeries`.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field

from kubesim.api import ClusterAPI, WriteOptions
from kubesim.errors import ApiError

SeriesKey = tuple[str, str, str, str]  # (object uid, component, reason, message)


@dataclass
class EventSeries:
    """Which Event holds each repeated event, for the last `size` distinct ones (an LRU, like client-go's)."""

    size: int = 4096
    names: OrderedDict[SeriesKey, tuple[str, str]] = field(default_factory=OrderedDict)  # -> (namespace, name)
    last_suffix: int = 0

    def next_name(self, object_name: str) -> str:
        self.last_suffix = max(time.time_ns(), self.last_suffix + 1)
        return f"{object_name}.{self.last_suffix:x}"

    def remember(self, key: SeriesKey, where: tuple[str, str]) -> None:
        self.names[key] = where
        self.names.move_to_end(key)
        while len(self.names) > self.size:
            self.names.popitem(last=False)


def record_event(api: ClusterAPI, obj: dict, event_type: str, reason: str, message: str, component: str) -> None:
    meta = obj["metadata"]
    namespace = meta.get("namespace") or "default"
    rt = api.type("", "Event")
    if not isinstance(api.event_series, EventSeries):
        api.event_series = EventSeries()  # the first event recorded in this cluster
    series = api.event_series
    key = (str(meta.get("uid")), component, reason, message)
    now = api.clock.timestamp()
    opts = WriteOptions(manager=component)
    known = series.names.get(key)
    existing = api.find(rt, *known) if known else None
    try:
        if existing is not None:
            updated = {**existing, "count": int(existing.get("count") or 1) + 1, "lastTimestamp": now}
            api.update(rt, namespace, existing["metadata"]["name"], updated, opts)
            series.remember(key, (namespace, existing["metadata"]["name"]))
            return
        name = series.next_name(meta["name"])
        api.create(rt, namespace, {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "name": meta["name"],
                               "namespace": meta.get("namespace"), "uid": meta.get("uid"),
                               "resourceVersion": meta.get("resourceVersion")},
            "reason": reason, "message": message, "type": event_type,
            "source": {"component": component}, "reportingComponent": component,
            "firstTimestamp": now, "lastTimestamp": now, "count": 1,
        }, opts)
        series.remember(key, (namespace, name))
    except ApiError:
        # An event is best effort, as in client-go: a terminating namespace or a race must not fail a controller.
        return
