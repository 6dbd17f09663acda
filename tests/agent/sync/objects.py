"""Manifest builders shared by the sync planning tests."""

from __future__ import annotations

WAVE = "fleetline.io/sync-wave"
ARGO_WAVE = "argocd.argoproj.io/sync-wave"
HOOK = "fleetline.io/hook"
ARGO_HOOK = "argocd.argoproj.io/hook"
OPTIONS = "fleetline.io/sync-options"
ARGO_OPTIONS = "argocd.argoproj.io/sync-options"


def obj(kind: str, name: str, annotations: dict[str, str] | None = None, *, namespace: str | None = "ml",
        api: str = "v1") -> dict:
    """A minimal manifest."""
    manifest: dict = {"apiVersion": api, "kind": kind, "metadata": {"name": name}}
    if namespace:
        manifest["metadata"]["namespace"] = namespace
    if annotations:
        manifest["metadata"]["annotations"] = dict(annotations)
    return manifest


def job(name: str, annotations: dict[str, str] | None = None) -> dict:
    return obj("Job", name, annotations, api="batch/v1")


def names(tasks: list) -> list[str]:
    """`Kind/name` of each task, in order."""
    return [f"{t.kind}/{t.name}" for t in tasks]
