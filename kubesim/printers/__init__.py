"""Column definitions and cells for the built-in kinds, as kube-apiserver prints them for `kubectl get`.

A port of the behaviour of kube-apiserver's printers (kubernetes pkg/printers/internalversion, 1.32) onto
plain JSON objects. kube-apiserver always generates the wide cells (`priority: 1` columns) and lets kubectl
hide them, so every printer here returns all cells.

kube-apiserver prints objects after its defaulting; kubesim may store objects without some defaults, so
where a field would have been defaulted (`replicas` 1, Service `type` ClusterIP, port `protocol` TCP,
Secret `type` Opaque, CronJob `suspend` false, HPA `minReplicas` 1, Namespace phase Active) the printer
assumes the default. Quantities (`10Gi`, `500m`) are printed as stored, not re-canonicalised.
"""

from __future__ import annotations

from kubesim.printers import cluster, workloads
from kubesim.printers.base import (
    AGE_COL,
    CREATED_DOC,
    NAME_COL,
    NAME_DOC,
    Printer,
    col,
    format_label_selector,
    format_labels,
    human_duration,
    parse_time,
    selector_string,
    since,
)

PRINTERS: dict[tuple[str, str], Printer] = {**workloads.PRINTERS, **cluster.PRINTERS}

__all__ = [
    "AGE_COL", "CREATED_DOC", "NAME_COL", "NAME_DOC", "PRINTERS", "Printer", "col", "format_label_selector",
    "format_labels", "human_duration", "parse_time", "selector_string", "since",
]
