"""Policies every rendered application must pass before the hub sends it anywhere.

Three rules, each with a per-application opt-out in fleet.yaml (`applications[].policies`):
- `plain-secret` (error; opt-out `allowPlainSecrets`): a `v1 Secret` carrying `data` or `stringData` means a
  secret value sits in Git. SealedSecret and ExternalSecret objects are other kinds and pass; a SOPS-encrypted
  Secret (it carries SOPS's `sops` metadata block) passes.
- `mutable-image-tag` (error in environments marked `production`; opt-out `allowMutableImageTags`): a
  container image without a tag or digest, or tagged `latest`, can change under a running fleet.
- `gpu-limits` (warning; opt-out `allowUnboundedGpu`): a container requesting a GPU (`nvidia.com/gpu`,
  `amd.com/gpu`, `gpu.intel.com/...`) whose limits do not match; Kubernetes rejects such a pod at admission.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from hub.fleet.model import Policies

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class PolicyFinding:
    """One object breaking one policy."""

    policy: str  # "plain-secret", "mutable-image-tag" or "gpu-limits"
    severity: str  # ERROR refuses the application's render, WARNING is reported with it
    object: str  # Kind/namespace/name
    message: str  # what is wrong and how to fix it (including the opt-out)

    def __str__(self) -> str:
        return f"{self.severity}: {self.object}: {self.message}"


def _describe(obj: dict) -> str:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    namespace = meta.get("namespace")
    name = meta.get("name", "?")
    return f"{obj.get('kind', '?')}/{namespace + '/' if namespace else ''}{name}"


def pod_spec_of(obj: dict) -> dict | None:
    """The pod spec inside a Pod, a workload template, or a CronJob's job template (None for other kinds)."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return None
    if obj.get("kind") == "Pod":
        return spec
    if obj.get("kind") == "CronJob":
        job = spec.get("jobTemplate")
        spec = job.get("spec") if isinstance(job, dict) else None
        if not isinstance(spec, dict):
            return None
    template = spec.get("template")
    inner = template.get("spec") if isinstance(template, dict) else None
    return inner if isinstance(inner, dict) else None


def containers_of(obj: dict) -> Iterator[dict]:
    """Every container, init container and ephemeral container of the object's pod spec."""
    pod = pod_spec_of(obj)
    if pod is None:
        return
    for field in ("initContainers", "containers", "ephemeralContainers"):
        items = pod.get(field)
        if isinstance(items, list):
            yield from (c for c in items if isinstance(c, dict))


def mutable_tag(image: str) -> str | None:
    """Why `image` can change under us ("no tag", "the tag latest"), or None when pinned by tag or digest."""
    if "@" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return "no tag"
    return "the tag latest" if last.rsplit(":", 1)[1] == "latest" else None


def _is_gpu(resource: str) -> bool:
    return resource in ("nvidia.com/gpu", "amd.com/gpu") or resource.startswith("gpu.intel.com/")


def _plain_secret(obj: dict) -> PolicyFinding | None:
    if obj.get("kind") != "Secret" or obj.get("apiVersion") != "v1" or "sops" in obj:
        return None
    fields = [f for f in ("data", "stringData") if obj.get(f)]
    if not fields:
        return None
    return PolicyFinding(
        "plain-secret", ERROR, _describe(obj),
        f"a plain Secret with {' and '.join(fields)} in Git exposes its values to everyone who can read the "
        "repository; commit a SealedSecret or an ExternalSecret (or a SOPS-encrypted file) instead, or set "
        "policies.allowPlainSecrets: true on the application")


def _image_findings(obj: dict) -> Iterator[PolicyFinding]:
    for container in containers_of(obj):
        image = container.get("image")
        if not isinstance(image, str):
            continue
        reason = mutable_tag(image)
        if reason:
            yield PolicyFinding(
                "mutable-image-tag", ERROR, _describe(obj),
                f"container {container.get('name', '?')!r} uses image {image!r} with {reason}, which is refused "
                "in a production environment; pin a version tag or a digest (kustomize `images: newTag`), or "
                "set policies.allowMutableImageTags: true on the application")


def _gpu_findings(obj: dict) -> Iterator[PolicyFinding]:
    for container in containers_of(obj):
        resources = container.get("resources") if isinstance(container.get("resources"), dict) else {}
        requests = resources.get("requests") if isinstance(resources.get("requests"), dict) else {}
        limits = resources.get("limits") if isinstance(resources.get("limits"), dict) else {}
        for resource in sorted(set(requests) | set(limits)):
            if not _is_gpu(resource) or resource not in requests:
                continue
            if str(limits.get(resource)) != str(requests[resource]):
                found = f"limit {limits[resource]}" if resource in limits else "no limit"
                yield PolicyFinding(
                    "gpu-limits", WARNING, _describe(obj),
                    f"container {container.get('name', '?')!r} requests {requests[resource]} {resource} with "
                    f"{found}; extended resources need limits equal to requests (Kubernetes rejects the pod "
                    f"otherwise): set resources.limits.{resource}: {requests[resource]}, or set "
                    "policies.allowUnboundedGpu: true on the application")


def check(objects: list[dict], production: bool, opt_outs: Policies) -> list[PolicyFinding]:
    """Every policy finding for one application's rendered objects, in object order."""
    findings: list[PolicyFinding] = []
    for obj in objects:
        if not opt_outs.allow_plain_secrets:
            finding = _plain_secret(obj)
            if finding:
                findings.append(finding)
        if production and not opt_outs.allow_mutable_image_tags:
            findings.extend(_image_findings(obj))
        if not opt_outs.allow_unbounded_gpu:
            findings.extend(_gpu_findings(obj))
    return findings
