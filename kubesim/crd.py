"""CustomResourceDefinitions: the resource types a CRD serves, and the status kube-apiserver gives it.

A CRD is served at once in kubesim: its types enter the registry when it is stored, with the conditions
NamesAccepted and Established True, so `kubectl wait --for condition=established` returns immediately.
"""

from __future__ import annotations

from kubesim.resources import ResourceType


def crd_types(crd: dict) -> list[ResourceType]:
    """One ResourceType per served version of the CRD."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    out = []
    for version in spec.get("versions") or []:
        if not version.get("served", True):
            continue
        subresources = version.get("subresources") or {}
        scale = subresources.get("scale") or {}
        out.append(ResourceType(
            group=spec.get("group", ""),
            version=version.get("name", "v1"),
            kind=names.get("kind", ""),
            plural=names.get("plural", ""),
            namespaced=spec.get("scope", "Namespaced") == "Namespaced",
            short_names=tuple(names.get("shortNames") or ()),
            categories=tuple(names.get("categories") or ()),
            has_status="status" in subresources,
            has_scale="scale" in subresources,
            generation=True,
            builtin=False,
            scale_spec_path=scale.get("specReplicasPath", ".spec.replicas"),
            scale_status_path=scale.get("statusReplicasPath", ".status.replicas"),
            scale_selector_path=scale.get("labelSelectorPath", ""),
            printer_columns=tuple(version.get("additionalPrinterColumns") or ()),
            crd_name=(crd.get("metadata") or {}).get("name", ""),
        ))
    return out


def crd_status(crd: dict, old_status: dict | None, now: str) -> dict:
    """acceptedNames, storedVersions and the NamesAccepted/Established conditions."""
    spec = crd.get("spec") or {}
    names = dict(spec.get("names") or {})
    if names.get("kind") and not names.get("listKind"):
        names["listKind"] = names["kind"] + "List"
    if names.get("kind") and not names.get("singular"):
        names["singular"] = names["kind"].lower()
    stored = list((old_status or {}).get("storedVersions") or [])
    for version in spec.get("versions") or []:
        if version.get("storage") and version.get("name") not in stored:
            stored.append(version.get("name"))
    previous = {c.get("type"): c for c in (old_status or {}).get("conditions") or []}

    def condition(kind: str, reason: str, message: str) -> dict:
        since = previous.get(kind, {}).get("lastTransitionTime") or now
        return {"type": kind, "status": "True", "lastTransitionTime": since, "reason": reason, "message": message}

    return {
        "acceptedNames": names,
        "storedVersions": stored,
        "conditions": [
            condition("NamesAccepted", "NoConflicts", "no conflicts found"),
            condition("Established", "InitialNamesAccepted", "the initial names have been accepted"),
        ],
    }
