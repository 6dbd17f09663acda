"""An application's health from its resources' (Argo CD's `setApplicationHealth`, reference §A1.5).

The application is the worst of its resources' health in Argo CD's order, with Argo CD's exceptions:
resources without health (None: a ConfigMap, an opted-out object) are skipped; a Missing resource (in the
desired state, not in the cluster) does not count, because OutOfSync already says it is missing, except
that an application whose resources are all missing is Missing; no resources at all is Healthy.

The message names up to three resources that have the application's status, then "and N more": with a
mapping from resource names to health, `Deployment ml/inference: 2/3 replicas available; ...`; with a
plain iterable, their messages alone. Hooks are the caller's to leave out (Argo CD skips them here).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from agent.health.status import Health, HealthStatus, is_worse

MAX_CAUSES_SHOWN = 3


def application_health(healths: Mapping[str, Health | None] | Iterable[Health | None]) -> Health:
    """The application's health from its resources' health, keyed by resource name or not."""
    if isinstance(healths, Mapping):
        entries = [(str(name), health) for name, health in healths.items()]
    else:
        entries = [("", health) for health in healths]
    for name, health in entries:
        if health is not None and not isinstance(health, Health):
            where = f" for {name}" if name else ""
            raise ValueError(f"application_health: got {type(health).__name__}{where}, expected a Health or None")
    if entries and all(health is not None and health.status == HealthStatus.MISSING for _, health in entries):
        return Health(HealthStatus.MISSING, _missing_message(entries))
    status = HealthStatus.HEALTHY
    for _, health in entries:
        if health is None or health.status == HealthStatus.MISSING:
            continue
        if is_worse(status, health.status):
            status = health.status
    if status == HealthStatus.HEALTHY:
        return Health(status)
    causes = [(name, health) for name, health in entries if health is not None and health.status == status]
    return Health(status, _causes_message(causes))


def _cause(name: str, health: Health) -> str:
    if name and health.message:
        return f"{name}: {health.message}"
    return name or health.message


def _causes_message(causes: list[tuple[str, Health]]) -> str:
    shown = [text for text in (_cause(name, health) for name, health in causes[:MAX_CAUSES_SHOWN]) if text]
    if len(causes) > MAX_CAUSES_SHOWN:
        shown.append(f"and {len(causes) - MAX_CAUSES_SHOWN} more")
    return " | ".join(shown)


def _missing_message(entries: list[tuple[str, Health | None]]) -> str:
    names = [name for name, _ in entries if name]
    listed = ", ".join(names[:MAX_CAUSES_SHOWN]) + (f" and {len(names) - MAX_CAUSES_SHOWN} more"
                                                   if len(names) > MAX_CAUSES_SHOWN else "")
    count = f"all {len(entries)} resources are" if len(entries) > 1 else "its resource is"
    return f"{count} missing" + (f": {listed}" if listed else "")
