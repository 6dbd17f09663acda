"""API discovery documents (legacy and aggregated v2) and the minimal OpenAPI v3 kubectl needs, from a Registry.

Both are computed at request time, so a CRD's kinds appear on the next discovery request.
See shared/reference/k8s-api-sim.md §3 and §4.
"""

from __future__ import annotations

import hashlib
import json

from kubesim.resources import VERBS, Registry, ResourceType

AGGREGATED_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
AGGREGATED_V2BETA1_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"


def wants_aggregated(accept: str) -> str | None:
    """The aggregated version ("v2" or "v2beta1") the Accept header asks for first, if any."""
    for part in accept.split(","):
        params = dict(p.strip().split("=", 1) for p in part.split(";")[1:] if "=" in p)
        if (params.get("as") == "APIGroupDiscoveryList" and params.get("g") == "apidiscovery.k8s.io"
                and params.get("v") in ("v2", "v2beta1")):
            return params["v"]
    return None


def _verbs(rt: ResourceType) -> list[str]:
    return list(VERBS)


def api_versions(server_address: str) -> dict:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def _group_entry(group: str, versions: list[str]) -> dict:
    entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": entries, "preferredVersion": dict(entries[0])}


def api_group_list(registry: Registry) -> dict:
    groups = [_group_entry(g, vs) for g, vs in registry.group_versions().items() if g]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(registry: Registry, group: str) -> dict | None:
    versions = registry.group_versions().get(group)
    if not versions or not group:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group_entry(group, versions)}


def _types_of(registry: Registry, group: str, version: str) -> list[ResourceType]:
    return sorted((rt for rt in registry.all() if rt.group == group and rt.version == version),
                  key=lambda r: r.plural)


def api_resource_list(registry: Registry, group: str, version: str) -> dict | None:
    types = _types_of(registry, group, version)
    if not types:
        return None
    resources: list[dict] = []
    for rt in types:
        entry = {"name": rt.plural, "singularName": rt.singular, "namespaced": rt.namespaced, "kind": rt.kind,
                 "verbs": _verbs(rt)}
        if rt.short_names:
            entry["shortNames"] = list(rt.short_names)
        if rt.categories:
            entry["categories"] = list(rt.categories)
        resources.append(entry)
        if rt.has_status:
            resources.append({"name": f"{rt.plural}/status", "singularName": "", "namespaced": rt.namespaced,
                              "kind": rt.kind, "verbs": ["get", "patch", "update"]})
        if rt.has_scale:
            resources.append({"name": f"{rt.plural}/scale", "singularName": "", "namespaced": rt.namespaced,
                              "group": "autoscaling", "version": "v1", "kind": "Scale",
                              "verbs": ["get", "patch", "update"]})
        if rt.kind == "Namespace":
            resources.append({"name": "namespaces/finalize", "singularName": "", "namespaced": False,
                              "kind": "Namespace", "verbs": ["update"]})
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}


def _aggregated_resource(rt: ResourceType) -> dict:
    entry = {"resource": rt.plural, "singularResource": rt.singular,
             "scope": "Namespaced" if rt.namespaced else "Cluster",
             "responseKind": {"group": "", "version": "", "kind": rt.kind}, "verbs": _verbs(rt)}
    if rt.short_names:
        entry["shortNames"] = list(rt.short_names)
    if rt.categories:
        entry["categories"] = list(rt.categories)
    subresources = []
    if rt.has_scale:
        subresources.append({"subresource": "scale", "responseKind": {"group": "autoscaling", "version": "v1",
                                                                       "kind": "Scale"},
                             "verbs": ["get", "patch", "update"]})
    if rt.has_status:
        subresources.append({"subresource": "status", "responseKind": {"group": "", "version": "", "kind": rt.kind},
                             "verbs": ["get", "patch", "update"]})
    if subresources:
        entry["subresources"] = subresources
    return entry


def aggregated(registry: Registry, core: bool, version: str = "v2") -> dict:
    """`/api` (core=True) or `/apis` as an APIGroupDiscoveryList."""
    items = []
    for group, versions in registry.group_versions().items():
        if bool(group) == core:
            continue
        items.append({"metadata": {"name": group, "creationTimestamp": None},
                      "versions": [{"version": v, "freshness": "Current",
                                    "resources": [_aggregated_resource(rt) for rt in _types_of(registry, group, v)]}
                                   for v in versions]})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": f"apidiscovery.k8s.io/{version}", "metadata": {},
            "items": items}


# -- OpenAPI v3 --------------------------------------------------------------------------------------------------------
_PATCH_SCHEMA = {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"}


def openapi_document(registry: Registry, group: str, version: str) -> dict | None:
    """One group-version's document: a PATCH operation per kind carrying x-kubernetes-group-version-kind and the
    fieldValidation parameter, which is what kubectl's validation looks for. No schemas, so that kubectl computes
    strategic merge patches from its compiled-in types."""
    types = _types_of(registry, group, version)
    if not types:
        return None
    paths = {}
    prefix = f"/apis/{group}/{version}" if group else "/api/v1"
    for rt in types:
        path = f"{prefix}/namespaces/{{namespace}}/{rt.plural}/{{name}}" if rt.namespaced else \
            f"{prefix}/{rt.plural}/{{name}}"
        content = {"application/json-patch+json": {"schema": _PATCH_SCHEMA},
                   "application/merge-patch+json": {"schema": _PATCH_SCHEMA},
                   "application/apply-patch+yaml": {"schema": _PATCH_SCHEMA}}
        paths[path] = {"patch": {
            "operationId": f"patch{rt.kind}", "x-kubernetes-action": "patch",
            "x-kubernetes-group-version-kind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
            "parameters": [{"name": p, "in": "query", "schema": {"type": t}} for p, t in
                           (("fieldValidation", "string"), ("fieldManager", "string"), ("force", "boolean"),
                            ("dryRun", "string"))],
            "requestBody": {"required": True, "content": content},
            "responses": {"200": {"description": "OK"}}}}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.32.4"}, "paths": paths,
            "components": {"schemas": {"io.k8s.apimachinery.pkg.apis.meta.v1.Patch": {"type": "object"}}}}


def openapi_index(registry: Registry) -> dict:
    paths = {}
    for group, versions in registry.group_versions().items():
        for version in versions:
            key = f"apis/{group}/{version}" if group else "api/v1"
            doc = openapi_document(registry, group, version)
            digest = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:32].upper()
            paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={digest}"}
    return {"paths": paths}
