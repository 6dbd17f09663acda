"""The `namespace` field of a kustomization: kustomize v5.5's NamespaceTransformer with its default settings.

For every object: `metadata.namespace` is set (replacing any value) on namespaced objects only; a `v1`
Namespace object is renamed to the namespace; an APIService's `spec.service.namespace` (created when
missing) and a CRD's conversion webhook service namespace are set; and in RoleBindings and
ClusterRoleBindings, subjects named `default` get the namespace (kustomize's `setRoleBindingSubjects:
defaultOnly`, whatever the subject's kind). Renames are recorded in `Resource.previous_ids`. Two objects
ending with the same id is an error, as in kustomize.

Which objects are cluster-scoped follows kustomize exactly: its table is keyed by apiVersion *and* kind (a
`ClusterRole` of `rbac.authorization.k8s.io/v1alpha1`, a `FlowSchema` of `flowcontrol.apiserver.k8s.io/v1` or
a `ValidatingAdmissionPolicy` are not in it, so kustomize gives them a namespace); anything not listed,
including every custom resource, counts as namespaced.
"""

from __future__ import annotations

from typing import Any

from hub.render.errors import RenderError
from hub.render.fieldspec_tables import NAMESPACE
from hub.render.fieldspecs import FieldSpecError, apply_fieldspecs, describe, describe_resource
from hub.render.resource import Resource, is_cluster_scoped

_ROLE_BINDINGS = ("RoleBinding", "ClusterRoleBinding")


def set_namespace(resources: list[Resource], namespace: str, file: str = "", field: str = "namespace") -> None:
    """Apply a kustomization's `namespace: <namespace>` to every resource (in place)."""
    if namespace is None or namespace == "":
        return
    if not isinstance(namespace, str):
        raise RenderError(file, f"expected a namespace name (a string), found {describe(namespace)}", field)

    def set_value(value: Any) -> str:
        if isinstance(value, (dict, list)):
            raise FieldSpecError(f"namespace field specs must target scalar fields, found {describe(value)}")
        return namespace

    for resource in resources:
        if not resource.obj:
            continue
        api_version, kind = resource.api_version, resource.kind
        new_name = namespace if (kind, api_version) == ("Namespace", "v1") else None
        if is_cluster_scoped(api_version, kind):
            resource.rename(name=new_name, always_record=True)
        else:
            resource.rename(name=new_name, namespace=namespace, always_record=True)
        specs = [spec for spec in NAMESPACE if spec.path != "metadata/name"]
        apply_fieldspecs(resource, specs, set_value, file, field)
        if kind in _ROLE_BINDINGS:
            _set_default_subjects(resource, namespace)
    _check_unique(resources, namespace, file, field)


def _set_default_subjects(resource: Resource, namespace: str) -> None:
    subjects = resource.obj.get("subjects")
    if not isinstance(subjects, list):
        return
    for subject in subjects:
        if isinstance(subject, dict) and subject.get("name") == "default":
            subject["namespace"] = namespace


def _check_unique(resources: list[Resource], namespace: str, file: str, field: str) -> None:
    seen: dict[tuple, Resource] = {}
    for resource in resources:
        if not resource.obj:
            continue
        rid = resource.cur_id()
        ns = "" if is_cluster_scoped(resource.api_version, rid.kind) else (rid.namespace or "default")
        key = (rid.group, rid.version, rid.kind, rid.name, ns)
        other = seen.get(key)
        if other is not None:
            raise RenderError(file, f"setting namespace {namespace!r} gives two objects the same id "
                                    f"{rid.kind}/{rid.name}: {describe_resource(other)} and "
                                    f"{describe_resource(resource)}; remove one or keep them in different "
                                    "kustomizations", field)
        seen[key] = resource
