"""What every built-in printer shares: column definitions, ages (HumanDuration), labels and selectors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

NAME_DOC = (
    "Name must be unique within a namespace. Is required when creating resources, although some "
    "resources may allow a client to request the generation of an appropriate name automatically. Name "
    "is primarily intended for creation idempotence and configuration definition. Cannot be updated. "
    "More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
)
CREATED_DOC = (
    "CreationTimestamp is a timestamp representing the server time when this object was created. It is "
    "not guaranteed to be set in happens-before order across separate operations. Clients may not set "
    "this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. "
    "Null for lists. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)
_CONTAINERS_DOC = "Names of each container in the template."
_IMAGES_DOC = "Images referenced by each container in the template."
_SELECTOR_DOC = "A label query over pods that are managed by this object."


def col(name: str, type_: str = "string", description: str = "", priority: int = 0,
        format_: str = "") -> dict:
    """One `TableColumnDefinition` (all five fields are always present on the wire)."""
    return {"name": name, "type": type_, "format": format_, "description": description, "priority": priority}


NAME_COL = col("Name", "string", NAME_DOC, format_="name")
AGE_COL = col("Age", "string", CREATED_DOC)


# --- time -------------------------------------------------------------------------------------------------

def human_duration(d: timedelta) -> str:
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration: ~2-3 significant figures, e.g. `5m30s`, `2d3h`."""
    micros = (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds
    seconds = abs(micros) // 1_000_000 * (1 if micros >= 0 else -1)  # Go truncates towards zero
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        s = seconds % 60
        return f"{minutes}m" if s == 0 else f"{minutes}m{s}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = seconds // 3600
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if dy == 0 else f"{hours // 24 // 365}y{dy}d"
    return f"{hours // 24 // 365}y"


def parse_time(value: object) -> datetime | None:
    """An RFC 3339 `metav1.Time` or `MicroTime` as an aware datetime; None when unset or invalid."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def since(value: object, now: datetime) -> str:
    """translateTimestampSince: the age of a timestamp, `<unknown>` when it is unset."""
    ts = parse_time(value)
    if ts is None:
        return "<unknown>"
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return human_duration(now - ts)


def age_of(obj: dict, now: datetime) -> str:
    return since(obj.get("metadata", {}).get("creationTimestamp"), now)


# --- shared formatting ------------------------------------------------------------------------------------

def get_path(obj: object, *path: str, default=None):
    for key in path:
        if not isinstance(obj, dict) or key not in obj or obj[key] is None:
            return default
        obj = obj[key]
    return obj


def name_of(obj: dict) -> str:
    return get_path(obj, "metadata", "name", default="")


def format_labels(labels: dict | None) -> str:
    """labels.FormatLabels: `k=v,k2=v2` sorted by key, `<none>` when empty."""
    if not labels:
        return "<none>"
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


def selector_string(selector: dict | None) -> str:
    """metav1.LabelSelectorAsSelector(...).String(); raises ValueError for an unknown operator."""
    if not selector:
        return ""
    reqs: list[tuple[str, str]] = []
    for key, value in (selector.get("matchLabels") or {}).items():
        reqs.append((key, f"{key}={value}"))
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key", ""), expr.get("operator", ""), sorted(expr.get("values") or [])
        if op == "In":
            reqs.append((key, f"{key} in ({','.join(values)})"))
        elif op == "NotIn":
            reqs.append((key, f"{key} notin ({','.join(values)})"))
        elif op == "Exists":
            reqs.append((key, key))
        elif op == "DoesNotExist":
            reqs.append((key, f"!{key}"))
        else:
            raise ValueError(f"{op!r} is not a valid label selector operator")
    return ",".join(text for _, text in sorted(reqs, key=lambda r: r[0]))


def format_label_selector(selector: dict | None) -> str:
    """metav1.FormatLabelSelector: like selector_string but `<none>` when empty and `<error>` when invalid."""
    try:
        return selector_string(selector) or "<none>"
    except ValueError:
        return "<error>"


def containers_of(template_spec: dict | None) -> tuple[str, str]:
    containers = (template_spec or {}).get("containers") or []
    return ",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers)


def template_cells(obj: dict, *path: str) -> list:
    names, images = containers_of(get_path(obj, *path, "template", "spec"))
    return [names, images]


def list_with_more(items: list[str], limit: int, total: int, sep: str = ",") -> str:
    text = sep.join(items[:limit])
    return f"{text} + {total - limit} more..." if total > limit else text


def cond_true(conditions: list | None, type_: str) -> bool:
    """The first condition of this type has status True (hasJobCondition)."""
    for cond in conditions or []:
        if cond.get("type") == type_:
            return cond.get("status") == "True"
    return False


@dataclass(frozen=True)
class Printer:
    columns: tuple[dict, ...]
    cells: Callable[[dict, datetime], list]
    conditions: Callable[[dict], list] | None = None


def wide(name: str, description: str) -> dict:
    return col(name, description=description, priority=1)


WIDE_TEMPLATE = (wide("Containers", _CONTAINERS_DOC), wide("Images", _IMAGES_DOC))
WIDE_SELECTOR = wide("Selector", _SELECTOR_DOC)
