"""The semantics of the Kubernetes API for one simulated cluster, independent of HTTP.

`ClusterAPI` is what kube-apiserver's registry does: create, read, update, patch (four types), server-side
apply, delete with finalizers and propagation, the `status` and `scale` subresources, defaulting, validation,
generation, managedFields, admission (mutators registered by controllers) and CRD registration. The HTTP
layer (`server.py`) and the controllers both call it; every failure is an `ApiError`.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from fleetline.jsoncopy import clone
from fleetline.patch import (
    PatchError,
    PatchTestFailed,
    apply_json_patch,
    apply_merge_patch,
    apply_strategic_merge_patch,
)
from fleetline.schema import schema_for
from kubesim import errors
from kubesim.clock import Clock
from kubesim.crd import crd_status, crd_types
from kubesim.defaults import apply_defaults
from kubesim.errors import ApiError
from kubesim.managed_fields import (
    ApplyConflict,
    FieldPathError,
    managed_fields_readable,
    server_side_apply,
    track_update,
)
from kubesim.resources import Registry, ResourceType
from kubesim.selectors import field_matcher, label_matcher, selector_to_string
from kubesim.store import Store
from kubesim.validation import INT32_MAX, unknown_fields, validate, validate_update
from kubesim.validation import invalid as invalid_cause

MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"
PATCH_TYPES = (JSON_PATCH, MERGE, STRATEGIC, APPLY)

# Kinds whose status a create keeps (kube-apiserver's strategies reset status on create for the others).
_CREATE_KEEPS_STATUS = {"Node", "Namespace", "PersistentVolumeClaim", "CustomResourceDefinition"}
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
_UNTRACKED_META = ("name", "namespace", "uid", "creationTimestamp", "deletionTimestamp",
                   "deletionGracePeriodSeconds")

Mutator = Callable[[ResourceType, dict, "dict | None"], None]
"""Admission: called with (type, new object, old object or None) before validation; may change the object."""


@dataclass
class WriteOptions:
    manager: str = ""
    dry_run: bool = False
    field_validation: str = "Warn"  # Strict, Warn, Ignore
    warnings: list[str] = field(default_factory=list)


@dataclass
class ListResult:
    items: list[dict]
    resource_version: str
    continue_token: str = ""
    remaining: int | None = None


def _meta(obj: dict) -> dict:
    return obj.setdefault("metadata", {})


def _name(obj: dict) -> str:
    name = _meta(obj).get("name")
    return name if isinstance(name, str) else ""


def _without(obj: dict, *keys: str) -> dict:
    return {k: v for k, v in obj.items() if k not in keys}


def _spec_part(obj: dict, with_status: bool) -> dict:
    """Everything generation counts: all but metadata (and status when the kind has a status subresource)."""
    return _without(obj, "metadata", "status") if not with_status else _without(obj, "metadata")


class ClusterAPI:
    def __init__(self, name: str = "kubesim", *, clock: Clock | None = None, store: Store | None = None) -> None:
        self.name = name
        self.clock = clock or Clock()
        self.store = store or Store()
        self.registry = Registry()
        self.mutators: list[Mutator] = []
        # Controllers' event aggregation cache (kubesim.controllers.events.EventSeries); client-go keeps one per
        # process, kubesim one per cluster. Created by the first event recorded.
        self.event_series: object = None
        self.root_ca_pem = ""  # the cluster CA, published in every namespace's kube-root-ca.crt (when TLS is on)
        for ns in SYSTEM_NAMESPACES:
            self.create(self.type("", "Namespace"), "", {"metadata": {"name": ns}}, WriteOptions("kube-apiserver"))

    # -- lookups -------------------------------------------------------------------------------------------------
    def type(self, group: str, kind: str) -> ResourceType:
        rt = self.registry.by_kind(group, kind)
        if rt is None:
            raise errors.no_such_resource()
        return rt

    def _key(self, rt: ResourceType) -> tuple[str, str]:
        return rt.group, rt.plural

    def _stamp(self, rt: ResourceType, obj: dict) -> dict:
        """A stored object as served at `rt`'s version: kind and apiVersion set (versions share storage)."""
        if obj.get("apiVersion") == rt.api_version and obj.get("kind") == rt.kind:
            return obj
        return {"apiVersion": rt.api_version, "kind": rt.kind, **_without(obj, "apiVersion", "kind")}

    def get(self, rt: ResourceType, namespace: str, name: str) -> dict:
        obj = self.store.get(self._key(rt), namespace if rt.namespaced else "", name)
        if obj is None:
            raise errors.not_found(rt, name)
        return self._stamp(rt, obj)

    def find(self, rt: ResourceType, namespace: str, name: str) -> dict | None:
        obj = self.store.get(self._key(rt), namespace if rt.namespaced else "", name)
        return None if obj is None else self._stamp(rt, obj)

    def list(self, rt: ResourceType, namespace: str | None = None, *, label_selector: str | None = None,
             field_selector: str | None = None, limit: int = 0, continue_token: str = "") -> ListResult:
        try:
            matchers = [m for m in (label_matcher(label_selector), field_matcher(field_selector, rt.kind)) if m]
        except ValueError as exc:
            raise errors.bad_request(str(exc)) from exc
        items = self.store.list(self._key(rt), namespace if rt.namespaced else None)
        if matchers:
            items = [o for o in items if all(m(o) for m in matchers)]
        if continue_token:
            namespace_after, _, name_after = _decode_continue(continue_token).partition("/")
            items = [o for o in items if (o["metadata"].get("namespace") or "", o["metadata"]["name"]) >
                     (namespace_after, name_after)]
        result = ListResult(items, str(self.store.revision))
        if limit and len(items) > limit:
            result.remaining = len(items) - limit
            result.items = items[:limit]
            result.continue_token = _encode_continue(_storage_key(items[limit - 1]), result.resource_version)
        result.items = [self._stamp(rt, o) for o in result.items]
        return result

    # -- create ----------------------------------------------------------------------------------------------------
    def create(self, rt: ResourceType, namespace: str, body: dict, opts: WriteOptions) -> dict:
        obj = clone(body)
        self._check_body_identity(rt, obj, namespace)
        meta = _meta(obj)
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + "".join(secrets.choice("bcdfghjklmnpqrstvwxz2456789")
                                                          for _ in range(5))
        if rt.namespaced:
            meta["namespace"] = namespace
            self._check_namespace_open(namespace)
        else:
            meta.pop("namespace", None)
        name = meta.get("name") or ""
        if name and self.store.get(self._key(rt), namespace if rt.namespaced else "", name) is not None:
            raise errors.already_exists(rt, name)
        if rt.has_status and rt.kind not in _CREATE_KEEPS_STATUS:
            obj.pop("status", None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = self.clock.timestamp()
        for key in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "selfLink"):
            meta.pop(key, None)
        if rt.generation:
            meta["generation"] = 1
        obj = self._admit(rt, obj, None, opts)
        if not meta.get("managedFields") or not managed_fields_readable(obj):
            meta["managedFields"] = track_update(None, obj, manager=opts.manager, api_version=rt.api_version,
                                                 node=schema_for(rt.group, rt.kind), subresource=None,
                                                 now=self.clock.timestamp())
        return self._commit(rt, None, obj, opts)

    # -- update / patch --------------------------------------------------------------------------------------------
    def update(self, rt: ResourceType, namespace: str, name: str, body: dict, opts: WriteOptions,
               subresource: str | None = None) -> dict:
        old = self.get(rt, namespace, name)
        new = clone(body)
        if subresource == "scale":  # the body is an autoscaling/v1 Scale, not the parent kind
            if new.get("kind") not in (None, "Scale") or new.get("apiVersion") not in (None, "autoscaling/v1"):
                raise errors.bad_request(f"the body of a scale update must be an autoscaling/v1 Scale, found "
                                         f"{new.get('apiVersion')} {new.get('kind')}")
            self._check_precondition(rt, self._scale_of(rt, old), new)
            return self._write_scale(rt, old, new, opts)
        self._check_body_identity(rt, new, namespace, name)
        self._check_precondition(rt, old, new)
        return self._update_from(rt, old, new, opts, subresource, explicit_fields="managedFields" in _meta(new))

    def patch(self, rt: ResourceType, namespace: str, name: str, patch_type: str, patch: object,
              opts: WriteOptions, *, subresource: str | None = None, force: bool = False) -> tuple[dict, bool]:
        """Apply a patch; returns (object, created). Only server-side apply may create."""
        if patch_type == STRATEGIC and not rt.builtin:
            raise errors.unsupported_media_type(patch_type, (JSON_PATCH, MERGE, APPLY))
        if patch_type not in PATCH_TYPES:
            raise errors.unsupported_media_type(patch_type, PATCH_TYPES)
        old = self.find(rt, namespace, name)
        if patch_type == APPLY:
            return self._apply(rt, namespace, name, old, patch, opts, subresource, force)
        if old is None:
            raise errors.not_found(rt, name)
        base = self._scale_of(rt, old) if subresource == "scale" else old
        node = schema_for("autoscaling", "Scale") if subresource == "scale" else schema_for(rt.group, rt.kind)
        try:
            if patch_type == JSON_PATCH:
                if not isinstance(patch, list):
                    raise errors.bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
                new = apply_json_patch(base, patch)
            elif not isinstance(patch, dict):
                raise errors.bad_request("json: cannot unmarshal non-object into Go value of type "
                                         "map[string]interface {}")
            elif patch_type == MERGE:
                new = apply_merge_patch(base, patch)
            else:
                new = apply_strategic_merge_patch(base, patch, node)
        except PatchTestFailed as exc:
            raise ApiError(422, "Invalid", f"the server rejected our request due to an error in our request: "
                           f"{exc}") from exc
        except PatchError as exc:
            raise errors.bad_request(str(exc)) from exc
        if not isinstance(new, dict):
            raise errors.bad_request("the patch did not produce an object")
        self._check_body_identity(rt, new, namespace, name, patching=True)
        self._check_precondition(rt, base, new)
        if subresource == "scale":
            return self._write_scale(rt, old, new, opts), False
        explicit = _meta(new).get("managedFields") != _meta(old).get("managedFields")
        return self._update_from(rt, old, new, opts, subresource, explicit_fields=explicit), False

    def _apply(self, rt: ResourceType, namespace: str, name: str, old: dict | None, body: object,
               opts: WriteOptions, subresource: str | None, force: bool) -> tuple[dict, bool]:
        if not opts.manager:
            raise errors.invalid_options("fieldManager", "Required value: is required for apply patch")
        if not isinstance(body, dict):
            raise errors.bad_request("error decoding YAML: the apply patch must be an object")
        if body.get("apiVersion") != rt.api_version or body.get("kind") != rt.kind:
            raise errors.bad_request(f"the API version in the data ({body.get('apiVersion')}) does not match the "
                                     f"expected API version ({rt.api_version})" if body.get("apiVersion") !=
                                     rt.api_version else f"the kind in the data ({body.get('kind')}) does not "
                                     f"match the expected kind ({rt.kind})")
        self._check_body_identity(rt, clone(body), namespace, name, patching=True)
        if subresource == "scale":
            if old is None:
                raise errors.not_found(rt, name)
            base, node = self._scale_of(rt, old), schema_for("autoscaling", "Scale")
        else:
            base, node = old, schema_for(rt.group, rt.kind)
        if base is not None:
            self._check_precondition(rt, base, body)
        try:
            new = server_side_apply(base, body, manager=opts.manager, api_version=rt.api_version, force=force,
                                    node=node, subresource=subresource, now=self.clock.timestamp())
        except ApplyConflict as exc:
            raise errors.apply_conflicts(exc.conflicts) from exc
        except FieldPathError as exc:
            raise errors.invalid(rt, name, [errors.Cause("FieldValueInvalid", str(exc), "")]) from exc
        if old is None:
            created = self.create(rt, namespace, {**new, "metadata": {**_meta(new), "name": name}},
                                  WriteOptions(opts.manager, opts.dry_run, opts.field_validation, opts.warnings))
            return created, True
        if subresource == "scale":
            return self._write_scale(rt, old, new, opts), False
        return self._update_from(rt, old, new, opts, subresource, explicit_fields=True), False

    def _update_from(self, rt: ResourceType, old: dict, new: dict, opts: WriteOptions, subresource: str | None,
                     explicit_fields: bool) -> dict:
        """The common tail of PUT and PATCH: subresource rules, immutables, admission, tracking, commit."""
        meta, old_meta = _meta(new), old["metadata"]
        new["apiVersion"], new["kind"] = rt.api_version, rt.kind
        if subresource == "status":
            status = new.get("status")
            new = {**_without(old, "status"), "metadata": {**old_meta, "managedFields": meta.get("managedFields",
                   old_meta.get("managedFields"))}}
            if status is not None:
                new["status"] = status
            meta = new["metadata"]
        elif rt.has_status:
            new.pop("status", None)
            if "status" in old:
                new["status"] = old["status"]
        for key in _UNTRACKED_META:
            if key in old_meta:
                meta[key] = old_meta[key]
            else:
                meta.pop(key, None)
        if old_meta.get("deletionTimestamp"):
            added = set(meta.get("finalizers") or []) - set(old_meta.get("finalizers") or [])
            if added:
                raise errors.forbidden(f"no new finalizers can be added if the object is being deleted, found new "
                                       f"finalizers {sorted(added)}")
        new = self._admit(rt, new, old, opts)
        meta = _meta(new)
        if rt.generation:  # after defaulting: `cpu: 0.5` and the stored `500m` are the same spec
            counts_status = not rt.has_status
            changed = _spec_part(new, counts_status) != _spec_part(old, counts_status)
            meta["generation"] = old_meta.get("generation", 1) + (1 if changed else 0)
        if not explicit_fields or not managed_fields_readable(new):  # undecodable ones are ignored, as in kube
            meta["managedFields"] = track_update(old, new, manager=opts.manager, api_version=rt.api_version,
                                                 node=schema_for(rt.group, rt.kind), subresource=subresource,
                                                 now=self.clock.timestamp())
        return self._commit(rt, old, new, opts)

    # -- scale subresource -------------------------------------------------------------------------------------------
    def _scale_paths(self, rt: ResourceType) -> tuple[str, str]:
        return (rt.scale_spec_path, rt.scale_status_path) if not rt.builtin else (".spec.replicas",
                                                                                    ".status.replicas")

    def _scale_of(self, rt: ResourceType, obj: dict) -> dict:
        if not rt.has_scale:
            raise errors.no_such_resource()
        spec_path, status_path = self._scale_paths(rt)
        meta = obj["metadata"]
        if rt.builtin:
            selector_text = selector_to_string(_get_path(obj, "spec.selector"))
        else:  # a custom resource's fields may hold anything: what is not of the Scale's type counts as unset
            selector_text = _get_path(obj, rt.scale_selector_path) if rt.scale_selector_path else ""
        return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion",
                                                  "creationTimestamp") if k in meta},
                "spec": {"replicas": _count(_get_path(obj, spec_path))},
                "status": {"replicas": _count(_get_path(obj, status_path)),
                           "selector": selector_text if isinstance(selector_text, str) else ""}}

    def get_scale(self, rt: ResourceType, namespace: str, name: str) -> dict:
        return self._scale_of(rt, self.get(rt, namespace, name))

    def _write_scale(self, rt: ResourceType, old: dict, scale: dict, opts: WriteOptions) -> dict:
        spec = scale.get("spec")
        replicas = spec.get("replicas") if isinstance(spec, dict) else None
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            raise errors.invalid(rt, old["metadata"]["name"], [errors.Cause(
                "FieldValueInvalid", f"Invalid value: {replicas!r}: must be greater than or equal to 0",
                "spec.replicas")])
        if replicas > INT32_MAX:
            raise errors.invalid(rt, old["metadata"]["name"], [invalid_cause(
                "spec.replicas", replicas, f"must be less than or equal to {INT32_MAX}")])
        new = clone(old)
        path = self._scale_paths(rt)[0]
        if not _set_path(new, path, replicas):
            raise errors.invalid(rt, old["metadata"]["name"], [invalid_cause(
                path.strip("."), replicas, "cannot be set: the path crosses a value that is not an object")])
        # The parent records the writer with subresource "scale" (an apply to /scale is recorded as an Update).
        return self._scale_of(rt, self._update_from(rt, old, new, opts, "scale", explicit_fields=False))

    # -- delete ------------------------------------------------------------------------------------------------------
    def delete(self, rt: ResourceType, namespace: str, name: str, *, propagation: str | None = None,
               preconditions: dict | None = None, dry_run: bool = False) -> dict:
        """Returns the object (still present, or deleted custom resource/Pod) or a Success Status."""
        old = self.get(rt, namespace, name)
        meta = old["metadata"]
        pre = preconditions or {}
        if pre.get("uid") and pre["uid"] != meta.get("uid"):
            raise errors.conflict(rt, name, f"Precondition failed: UID in precondition: {pre['uid']}, UID in "
                                  f"object meta: {meta.get('uid')}")
        if pre.get("resourceVersion") and pre["resourceVersion"] != meta.get("resourceVersion"):
            raise errors.conflict(rt, name, f"Precondition failed: ResourceVersion in precondition: "
                                  f"{pre['resourceVersion']}, ResourceVersion in object meta: "
                                  f"{meta.get('resourceVersion')}")
        if meta.get("deletionTimestamp"):
            return old
        finalizers = list(meta.get("finalizers") or [])
        if propagation == "Foreground" and "foregroundDeletion" not in finalizers:
            finalizers.append("foregroundDeletion")
        elif propagation == "Orphan" and "orphan" not in finalizers:
            finalizers.append("orphan")
        if rt.kind == "Namespace" or finalizers:
            new = clone(old)
            nmeta = new["metadata"]
            nmeta["deletionTimestamp"] = self.clock.timestamp()
            nmeta["deletionGracePeriodSeconds"] = 0
            if finalizers:
                nmeta["finalizers"] = finalizers
            if rt.kind == "Namespace":
                new.setdefault("status", {})["phase"] = "Terminating"
            if dry_run:
                return new
            return self._commit(rt, old, new, WriteOptions(dry_run=False))
        if dry_run:
            return old
        final = self._remove(rt, old)
        if not rt.builtin or rt.kind == "Pod":
            return final
        details = {"name": name, **({"group": rt.group} if rt.group else {}), "kind": rt.plural,
                   "uid": meta.get("uid")}
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}

    def _remove(self, rt: ResourceType, obj: dict) -> dict:
        revision = self.store.next_revision()
        final = clone(obj)
        final["metadata"]["resourceVersion"] = str(revision)
        self.store.remove(self._key(rt), final, revision)
        if rt.kind == "CustomResourceDefinition":
            self._unregister_crd(obj)
        return final

    def update_namespace_finalizers(self, name: str, body: dict) -> dict:
        """PUT /api/v1/namespaces/NAME/finalize: set spec.finalizers; an emptied terminating namespace goes."""
        rt = self.type("", "Namespace")
        old = self.get(rt, "", name)
        new = clone(old)
        spec = body.get("spec") or {}
        if not isinstance(spec, dict):
            raise errors.invalid(rt, name, [invalid_cause("spec", spec, "must be an object")])
        finalizers = spec.get("finalizers") or []
        if not isinstance(finalizers, list) or not all(isinstance(f, str) for f in finalizers):
            raise errors.invalid(rt, name, [invalid_cause("spec.finalizers", finalizers, "must be a list of strings")])
        finalizers = list(finalizers)
        new.setdefault("spec", {})["finalizers"] = finalizers
        if old["metadata"].get("deletionTimestamp") and not finalizers:
            return self._remove(rt, new)
        return self._commit(rt, old, new, WriteOptions())

    def namespace_is_empty(self, namespace: str) -> bool:
        return not any(self.store.list((rt.group, rt.plural), namespace)
                       for rt in self.registry.all() if rt.namespaced)

    def finalize_namespace(self, name: str) -> None:
        """The namespace controller's last step: the namespace is empty, remove it."""
        rt = self.type("", "Namespace")
        obj = self.find(rt, "", name)
        if obj is not None:
            self._remove(rt, obj)

    # -- the shared write path ---------------------------------------------------------------------------------------
    def _admit(self, rt: ResourceType, obj: dict, old: dict | None, opts: WriteOptions) -> dict:
        """Defaulting, mutating admission, field validation and validation, as kube-apiserver orders them."""
        if rt.builtin:
            unknown = unknown_fields(rt, obj, drop_nulls=True)
            if unknown and opts.field_validation == "Strict":
                listed = ", ".join(f"unknown field {errors.go_quote(p)}" for p in unknown)
                raise errors.bad_request(f"strict decoding error: {listed}")
            if unknown and opts.field_validation == "Warn":
                opts.warnings.extend(f"unknown field {errors.go_quote(p)}" for p in unknown)
            if unknown:
                _prune(obj, unknown)
        try:
            apply_defaults(rt, obj)
            for mutate in self.mutators:
                mutate(rt, obj, old)
            if rt.kind == "CustomResourceDefinition":
                obj["status"] = crd_status(obj, (old or {}).get("status"), self.clock.timestamp())
        except Exception:
            # kube-apiserver decodes into typed structs before admission, so defaulting and admission never see
            # a wrong type: when they trip over one, the object is invalid and validation says where.
            causes = validate(rt, obj)
            if causes:
                raise errors.invalid(rt, _name(obj), causes) from None
            raise
        causes = validate(rt, obj)
        if old is not None and not causes:
            causes = validate_update(rt, obj, old)
        if causes:
            raise errors.invalid(rt, _name(obj), causes)
        return obj

    def _commit(self, rt: ResourceType, old: dict | None, new: dict, opts: WriteOptions) -> dict:
        new["apiVersion"], new["kind"] = rt.api_version, rt.kind
        meta = new["metadata"]
        if old is not None:
            if _same_but_bookkeeping(old, new):
                return old  # a no-op write: same resourceVersion, no event
            if meta.get("deletionTimestamp") and not meta.get("finalizers") and rt.kind != "Namespace":
                if opts.dry_run:
                    return new
                return self._remove(rt, {**new, "metadata": {**meta, "resourceVersion": old["metadata"].get(
                    "resourceVersion")}})
        if opts.dry_run:
            if old is None:
                meta.pop("resourceVersion", None)  # a dry-run create has no resourceVersion yet
            return new
        revision = self.store.next_revision()
        meta["resourceVersion"] = str(revision)
        self.store.put(self._key(rt), new, revision)
        if rt.kind == "CustomResourceDefinition":
            self._register_crd(new)
        return new

    # -- identity, namespaces, preconditions -------------------------------------------------------------------------
    def _check_body_identity(self, rt: ResourceType, obj: dict, namespace: str, name: str | None = None,
                             patching: bool = False) -> None:
        meta = obj.get("metadata")
        if meta is not None and not isinstance(meta, dict):
            raise errors.bad_request("metadata must be an object")
        if meta is None:  # `"metadata": null` decodes like no metadata at all
            meta = obj["metadata"] = {}
        for key in ("name", "generateName", "namespace", "resourceVersion"):  # used before validation runs
            value = meta.get(key)
            if value is not None and not isinstance(value, str):
                raise errors.invalid(rt, name or "", [invalid_cause(f"metadata.{key}", value, "must be a string")])
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if not patching and kind and kind != rt.kind:
            raise errors.bad_request(f"the kind in the data ({kind}) does not match the expected kind ({rt.kind})"
                                     if kind != "Scale" else "Scale objects belong to the scale subresource")
        if not patching and api_version and api_version != rt.api_version and kind != "Scale":
            raise errors.bad_request(f"the API version in the data ({api_version}) does not match the expected "
                                     f"API version ({rt.api_version})")
        body_ns = meta.get("namespace")
        if rt.namespaced and body_ns and body_ns != namespace:
            raise errors.bad_request("the namespace of the provided object does not match the namespace sent on "
                                     "the request")
        if name is not None and meta.get("name") and meta["name"] != name:
            raise errors.bad_request(f"the name of the object ({meta['name']}) does not match the name on the URL "
                                     f"({name})")
        if name is not None and not meta.get("name"):
            meta["name"] = name

    def _check_namespace_open(self, namespace: str) -> None:
        ns = self.store.get(("", "namespaces"), "", namespace)
        if ns is None:
            raise errors.namespace_not_found(namespace)
        if ns["metadata"].get("deletionTimestamp"):
            raise errors.forbidden(f"unable to create new content in namespace {namespace} because it is being "
                                   f"terminated", {"name": namespace, "kind": "namespaces"})

    def _check_precondition(self, rt: ResourceType, old: dict, new: dict) -> None:
        meta = new.get("metadata")
        wanted = meta.get("resourceVersion") if isinstance(meta, dict) else None
        if wanted and wanted != old["metadata"].get("resourceVersion"):
            raise errors.conflict(rt, old["metadata"]["name"])

    # -- CRDs --------------------------------------------------------------------------------------------------------
    def _register_crd(self, crd: dict) -> None:
        self.registry.set_custom(crd["metadata"]["name"], crd_types(crd))

    def _unregister_crd(self, crd: dict) -> None:
        name = crd["metadata"]["name"]
        types = self.registry.custom_types(name)
        for rt in types[:1]:
            for obj in self.store.list(self._key(rt)):
                self._remove(rt, obj)
            self.store.drop_resource(self._key(rt))
        self.registry.set_custom(name, [])


def _same_but_bookkeeping(old: dict, new: dict) -> bool:
    """Equal apart from managedFields timestamps and resourceVersion: kube-apiserver skips such writes."""
    def strip(obj: dict) -> dict:
        meta = dict(obj.get("metadata") or {})
        meta.pop("resourceVersion", None)
        meta["managedFields"] = [_without(e, "time") for e in meta.get("managedFields") or []]
        return {**obj, "metadata": meta}
    return strip(old) == strip(new)


def _get_path(obj: dict, path: str) -> object:
    value: object = obj
    for part in path.strip(".").split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _set_path(obj: dict, path: str, value: object) -> bool:
    """Set `value` at a dotted path, creating missing maps; False when the path crosses a non-object."""
    parts = path.strip(".").split(".")
    for part in parts[:-1]:
        obj = obj.setdefault(part, {})
        if not isinstance(obj, dict):
            return False
    obj[parts[-1]] = value
    return True


def _prune(obj: dict, paths: list[str]) -> None:
    """Drop unknown fields (`spec.template.spec.containers[0].foo`) as decoding into Go types does."""
    for path in paths:
        parts = re.findall(r"[^.\[\]]+|\[\d+\]", path)
        target: object = obj
        for part in parts[:-1]:
            if part.startswith("["):
                index = int(part[1:-1])
                target = target[index] if isinstance(target, list) and index < len(target) else None
            else:
                target = target.get(part) if isinstance(target, dict) else None
        if isinstance(target, dict) and parts:
            target.pop(parts[-1], None)


def _storage_key(obj: dict) -> str:
    meta = obj["metadata"]
    return f"{meta.get('namespace') or ''}/{meta['name']}"


def _encode_continue(last_key: str, revision: str) -> str:
    """Like kube-apiserver's token: base64 JSON naming the version and where the next page starts."""
    data = {"v": "meta.k8s.io/v1", "rv": int(revision), "start": last_key + "\u0000"}
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()


def _decode_continue(token: str) -> str:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        start = data["start"]
        if data.get("v") != "meta.k8s.io/v1" or not isinstance(start, str):
            raise ValueError(token)
    except (ValueError, KeyError, TypeError) as exc:
        raise errors.bad_request("continue key is not valid: incorrect encoded start resourceVersion "
                                 "(version meta.k8s.io/v1)") from exc
    return start.rstrip("\u0000")
