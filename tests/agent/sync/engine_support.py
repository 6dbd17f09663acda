"""Helpers for the engine tests (`test_engine.py`): manifests stamped as the hub sends them, a `SyncSpec` builder,
the live objects a caller would pass, and readable views of a `SyncResult`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from agent.cluster import ClusterAccess, ObjectRef
from agent.diff import IgnoreRule
from agent.sync.engine import SyncResult, SyncSpec
from tests.agent.reconcile.conftest import stamped

APP = "shop"
NS = "ml"
WAVE = "fleetline.io/sync-wave"
HOOK = "fleetline.io/hook"
HOOK_DELETE_POLICY = "fleetline.io/hook-delete-policy"
OPTIONS = "fleetline.io/sync-options"
ARGO_OPTIONS = "argocd.argoproj.io/sync-options"


def with_annotations(obj: dict, annotations: dict[str, str]) -> dict:
    meta = {**obj["metadata"], "annotations": {**(obj["metadata"].get("annotations") or {}), **annotations}}
    return {**obj, "metadata": meta}


def in_wave(obj: dict, wave: int) -> dict:
    return with_annotations(obj, {WAVE: str(wave)})


def cm(name: str, data: dict | None = None, *, ns: str = NS, annotations: dict | None = None) -> dict:
    meta: dict = {"name": name, "namespace": ns, "annotations": dict(annotations or {})}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data or {"k": "v"}}


def hook_job(name: str, hook: str, *, fail: bool = False, delete_policy: str | None = None,
             annotations: dict | None = None, image: str = "busybox:1.36") -> dict:
    """A Job hook that succeeds (kubesim runs it ~2 simulated seconds) or, with `fail`, fails: an image tag
    ending in `-crash` exits 1 and `restartPolicy: Never` with `backoffLimit: 0` fails the Job."""
    notes = {HOOK: hook, **(annotations or {})}
    if delete_policy:
        notes[HOOK_DELETE_POLICY] = delete_policy
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": NS, "annotations": notes},
            "spec": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never", "containers": [
                {"name": "main", "image": f"{image}-crash" if fail else image}]}}}}


def spec(desired: Iterable[dict], live: Iterable[dict] = (), *, options: Iterable[str] = (),
         rules: Iterable[IgnoreRule] = (), prune: bool = True, namespace: str = NS) -> SyncSpec:
    """A sync of application APP: `desired` stamped with its tracking id and label, as the hub sends them."""
    return SyncSpec(application=APP, namespace=namespace, revision="r1", desired=[stamped(APP, o) for o in desired],
                    live=list(live), sync_options=list(options), rules=list(rules), prune=prune)


def ref(obj: dict) -> ObjectRef:
    return ObjectRef.of(obj)


async def live_of(access: ClusterAccess, objects: Iterable[dict]) -> list[dict]:
    """The live versions of `objects` that exist: what the reconciler's inventory hands the engine."""
    found = [await access.get(ref(o)) for o in objects]
    return [o for o in found if o is not None]


def steps(result: SyncResult) -> list[str]:
    """`action Kind/name` of every resource result, in the order the engine ran them."""
    return [f"{r.action} {r.kind}/{r.name}" for r in result.resources]


def outcome(result: SyncResult, name: str, action: str | None = None) -> Any:
    """The one resource result for `name` (and `action`)."""
    found = [r for r in result.resources if r.name == name and (action is None or r.action == action)]
    assert len(found) == 1, f"expected one result for {name} {action or ''}, got {steps(result)}"
    return found[0]


async def eventually(predicate: Callable[[], Awaitable[Any]], timeout: float = 10.0, message: str = "condition",
                     interval: float = 0.02) -> Any:
    """Await `predicate()` until it returns something truthy; fail with `message` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        await asyncio.sleep(interval)
