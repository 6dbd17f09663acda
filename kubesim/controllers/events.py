"""Recording core/v1 Events for what the controllers do, so `kubectl get events` and `describe` show it.

Repeated events (same object, reason and message) are aggregated into one Event whose `count` grows, as
client-go's event recorder does.
"""

from __future__ import annotations

import hashlib

from kubesim.api import ClusterAPI, WriteOptions
from kubesim.errors import ApiError


def record_event(api: ClusterAPI, obj: dict, event_type: str, reason: str, message: str, component: str) -> None:
    meta = obj["metadata"]
    namespace = meta.get("namespace") or "default"
    rt = api.type("", "Event")
    digest = hashlib.sha1(f"{meta.get('uid')}/{reason}/{message}".encode()).hexdigest()[:16]
    name = f"{meta['name']}.{digest}"
    now = api.clock.timestamp()
    existing = api.find(rt, namespace, name)
    opts = WriteOptions(manager=component)
    try:
        if existing is not None:
            updated = {**existing, "count": int(existing.get("count") or 1) + 1, "lastTimestamp": now}
            api.update(rt, namespace, name, updated, opts)
            return
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
    except ApiError:
        # An event is best effort, as in client-go: a terminating namespace or a race must not fail a controller.
        return
