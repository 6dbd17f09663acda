"""Object identity shared by hub and agent: the tracking annotation, the app label, and canonical hashing.

Every object Fleetline applies carries `fleetline.io/tracking-id: <app>:<group>/<kind>:<namespace>/<name>`
and the label `fleetline.io/app: <app>`; the agent prunes only objects whose tracking id names its app.
Content hashes are SHA-256 over a canonical JSON encoding (sorted keys, no whitespace, UTF-8), so the hub
and the agent compute the same hash for the same desired state whatever order its maps were built in.
"""

from __future__ import annotations

import hashlib
import json

TRACKING_ANNOTATION = "fleetline.io/tracking-id"
APP_LABEL = "fleetline.io/app"


def group_of(api_version: str) -> str:
    """`apps/v1` -> "apps"; `v1` -> "" (the core group)."""
    return api_version.rpartition("/")[0]


def tracking_id(app: str, obj: dict) -> str:
    """`<app>:<group>/<kind>:<namespace>/<name>` for a manifest (namespace empty for cluster-scoped)."""
    meta = obj.get("metadata") or {}
    return (f"{app}:{group_of(str(obj.get('apiVersion', '')))}/{obj.get('kind', '')}:"
            f"{meta.get('namespace', '') or ''}/{meta.get('name', '')}")


def parse_tracking_id(value: str) -> tuple[str, str, str, str, str] | None:
    """(app, group, kind, namespace, name) from a tracking id, or None when it is not one."""
    app, sep, rest = value.partition(":")
    group_kind, sep2, namespace_name = rest.partition(":")
    if not (sep and sep2) or "/" not in group_kind or "/" not in namespace_name:
        return None
    group, _, kind = group_kind.partition("/")
    namespace, _, name = namespace_name.partition("/")
    return app, group, kind, namespace, name


def canonical_json(value: object) -> bytes:
    """The canonical encoding hashed everywhere: sorted keys, no whitespace, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def content_hash(value: object) -> str:
    """`sha256:<hex>` of the canonical encoding of `value`."""
    return "sha256:" + hashlib.sha256(canonical_json(value)).hexdigest()
