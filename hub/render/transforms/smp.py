"""kustomize's strategic merge: the kyaml `merge2` walk that `patches` and `patchesStrategicMerge` use.

kustomize does not use kube-apiserver's strategic merge patch (`fleetline.patch.strategic`); it merges
YAML trees with kyaml's walker, whose results differ in ways users can see, all mirrored here:

- items of a merge-keyed list that the patch names come FIRST, in the patch's order, followed by the
  other items in their original order (kustomize merges with "list prepend");
- lists of scalars with strategy merge (finalizers) are unions, the patch's values first;
- a list is merge-keyed only where the Kubernetes v1.21.2 OpenAPI schema compiled into kustomize says
  `x-kubernetes-patch-strategy: merge`; for unknown kinds (custom resources) every list is replaced,
  even `metadata.finalizers`;
- `$patch: replace|delete|merge` is honoured on maps and on keyed lists, but on a keyed list's item
  `$patch: replace` keeps the original item; `$retainKeys`, `$setElementOrder/...` and
  `$deleteFromPrimitiveList/...` are not directives for kyaml: they are copied into the object as fields;
- `null` deletes a field; an explicit `null` already in the object stays when the patch does not mention it;
- multi-key lists (container ports: containerPort + protocol) use kyaml's partial-key matching, in which an
  item missing `protocol` matches any protocol.

Objects are plain JSON values. `strategic_merge(original, patch)` never mutates its inputs.
"""

from __future__ import annotations

from typing import Any

from fleetline.jsoncopy import clone

# -- kustomize's compiled-in OpenAPI schema, reduced to what the merge needs -------------------------------
# Every type below leads to a list with `x-kubernetes-patch-strategy: merge` (Kubernetes v1.21.2, the schema
# kustomize v5.5 compiles in). `field=Type` descends into a struct, `field=Type[k1,k2]` or `field=[k]` is a
# merge-keyed list (of Type items), `field=[]` a merged list of scalars. Fields not listed have no strategy.
_SCHEMA_TEXT = """
ObjectMeta: finalizers=[] ownerReferences=[uid]
Object: metadata=ObjectMeta
Conditioned: metadata=ObjectMeta status=Conditions
Conditions: conditions=[type]
Webhooks: metadata=ObjectMeta webhooks=[name]
PodTemplateSpec: metadata=ObjectMeta spec=PodSpec
PodSpec: containers=Container[name] initContainers=Container[name] ephemeralContainers=EphemeralContainer[name] \
volumes=Volume[name] imagePullSecrets=[name] hostAliases=[ip] topologySpreadConstraints=[topologyKey,whenUnsatisfiable]
Container: env=[name] ports=[containerPort,protocol] volumeMounts=[mountPath] volumeDevices=[devicePath]
EphemeralContainer: env=[name] volumeMounts=[mountPath] volumeDevices=[devicePath]
Volume: ephemeral=EphemeralVolumeSource
EphemeralVolumeSource: volumeClaimTemplate=Object
TemplateSpec: template=PodTemplateSpec
Workload: metadata=ObjectMeta spec=TemplateSpec status=Conditions
StatefulSet: metadata=ObjectMeta spec=StatefulSetSpec status=Conditions
StatefulSetSpec: template=PodTemplateSpec volumeClaimTemplates=Conditioned
CronJob: metadata=ObjectMeta spec=CronJobSpec
CronJobSpec: jobTemplate=JobTemplateSpec
JobTemplateSpec: metadata=ObjectMeta spec=TemplateSpec
CSINode: metadata=ObjectMeta spec=CSINodeSpec
CSINodeSpec: drivers=[name]
ComponentStatus: metadata=ObjectMeta conditions=[type]
Node: metadata=ObjectMeta spec=NodeSpec status=NodeStatus
NodeSpec: podCIDRs=[]
NodeStatus: conditions=[type] addresses=[type]
Pod: metadata=ObjectMeta spec=PodSpec status=PodStatus
PodStatus: conditions=[type] podIPs=[ip]
PodTemplate: metadata=ObjectMeta template=PodTemplateSpec
Service: metadata=ObjectMeta spec=ServiceSpec status=Conditions
ServiceSpec: ports=[port,protocol]
ServiceAccount: metadata=ObjectMeta secrets=[name]
"""

# apiVersion -> kind -> type above, for every kind of that schema with a merge list somewhere.
_KINDS_TEXT = """
v1: ComponentStatus Namespace=Conditioned Node PersistentVolumeClaim=Conditioned Pod PodTemplate \
ReplicationController=Workload Service ServiceAccount Binding=Object ConfigMap=Object Endpoints=Object Event=Object \
LimitRange=Object PersistentVolume=Object ResourceQuota=Object Secret=Object
apps/v1: DaemonSet=Workload Deployment=Workload ReplicaSet=Workload StatefulSet ControllerRevision=Object
batch/v1: Job=Workload CronJob
batch/v1beta1: CronJob
admissionregistration.k8s.io/v1: MutatingWebhookConfiguration=Webhooks ValidatingWebhookConfiguration=Webhooks
admissionregistration.k8s.io/v1beta1: MutatingWebhookConfiguration=Webhooks ValidatingWebhookConfiguration=Webhooks
apiregistration.k8s.io/v1: APIService=Conditioned
apiregistration.k8s.io/v1beta1: APIService=Conditioned
policy/v1: PodDisruptionBudget=Conditioned
policy/v1beta1: PodDisruptionBudget=Conditioned Eviction=Object PodSecurityPolicy=Object
storage.k8s.io/v1: CSINode CSIDriver=Object StorageClass=Object VolumeAttachment=Object
storage.k8s.io/v1beta1: CSINode CSIDriver=Object CSIStorageCapacity=Object StorageClass=Object VolumeAttachment=Object
apiextensions.k8s.io/v1: CustomResourceDefinition=Object
apiextensions.k8s.io/v1beta1: CustomResourceDefinition=Object
authentication.k8s.io/v1: TokenRequest=Object TokenReview=Object
authentication.k8s.io/v1beta1: TokenReview=Object
authorization.k8s.io/v1: LocalSubjectAccessReview=Object SelfSubjectAccessReview=Object \
SelfSubjectRulesReview=Object SubjectAccessReview=Object
authorization.k8s.io/v1beta1: LocalSubjectAccessReview=Object SelfSubjectAccessReview=Object \
SelfSubjectRulesReview=Object SubjectAccessReview=Object
autoscaling/v1: HorizontalPodAutoscaler=Object Scale=Object
autoscaling/v2beta1: HorizontalPodAutoscaler=Object
autoscaling/v2beta2: HorizontalPodAutoscaler=Object
certificates.k8s.io/v1: CertificateSigningRequest=Object
certificates.k8s.io/v1beta1: CertificateSigningRequest=Object
coordination.k8s.io/v1: Lease=Object
coordination.k8s.io/v1beta1: Lease=Object
discovery.k8s.io/v1: EndpointSlice=Object
discovery.k8s.io/v1beta1: EndpointSlice=Object
events.k8s.io/v1: Event=Object
events.k8s.io/v1beta1: Event=Object
extensions/v1beta1: Ingress=Object
flowcontrol.apiserver.k8s.io/v1beta1: FlowSchema=Object PriorityLevelConfiguration=Object
networking.k8s.io/v1: Ingress=Object IngressClass=Object NetworkPolicy=Object
networking.k8s.io/v1beta1: Ingress=Object IngressClass=Object
node.k8s.io/v1: RuntimeClass=Object
node.k8s.io/v1beta1: RuntimeClass=Object
rbac.authorization.k8s.io/v1: ClusterRole=Object ClusterRoleBinding=Object Role=Object RoleBinding=Object
rbac.authorization.k8s.io/v1beta1: ClusterRole=Object ClusterRoleBinding=Object Role=Object RoleBinding=Object
scheduling.k8s.io/v1: PriorityClass=Object
scheduling.k8s.io/v1beta1: PriorityClass=Object
"""


class Schema:
    """A schema node: a struct (`fields`), or a merge-keyed list (`keys`, items of type `items`)."""

    __slots__ = ("fields", "keys", "items")

    def __init__(self, fields: dict[str, Schema] | None = None, keys: tuple[str, ...] | None = None,
                 items: Schema | None = None) -> None:
        self.fields = fields if fields is not None else {}
        self.keys = keys  # None: not a merge list
        self.items = items

    def field(self, name: str) -> Schema | None:
        return self.fields.get(name)


def _load_schema() -> tuple[dict[str, Schema], dict[tuple[str, str], Schema]]:
    types: dict[str, Schema] = {}
    lines = _SCHEMA_TEXT.replace("\\\n", "").strip().splitlines()
    for line in lines:
        types[line.split(":", 1)[0]] = Schema()
    for line in lines:
        name, _, body = line.partition(":")
        for spec in body.split():
            field, _, rhs = spec.partition("=")
            if "[" in rhs:
                item_type, _, keys = rhs[:-1].partition("[")
                key_list = tuple(k for k in keys.split(",") if k)
                types[name].fields[field] = Schema(keys=key_list, items=types[item_type] if item_type else None)
            else:
                types[name].fields[field] = types[rhs]
    kinds: dict[tuple[str, str], Schema] = {}
    for line in _KINDS_TEXT.replace("\\\n", "").strip().splitlines():
        api_version, _, body = line.partition(": ")
        for spec in body.split():
            kind, _, type_name = spec.partition("=")
            kinds[(api_version, kind)] = types[type_name or kind]
    return types, kinds


_TYPE_TABLE, _KIND_TABLE = _load_schema()


def schema_for_type(api_version: str, kind: str) -> Schema | None:
    """The schema kustomize knows for a kind (None for custom resources and kinds missing in v1.21.2)."""
    return _KIND_TABLE.get((api_version, kind))


# -- the merge -------------------------------------------------------------------------------------------


class MergeError(ValueError):
    """A patch kyaml cannot merge (a map patched with a list, an unknown `$patch` value...)."""


class _Absent:
    """A field that is not there (kyaml's nil node), as opposed to an explicit null (None)."""

    def __repr__(self) -> str:
        return "<absent>"


ABSENT: Any = _Absent()
_KEEP_NULL: Any = type("_KeepNull", (), {"__repr__": lambda self: "<kept null>"})()
_DIRECTIVE = "$patch"


def strategic_merge(original: dict, patch: dict) -> dict | None:
    """Merge `patch` into `original` as kustomize does; None when the patch deletes the whole object.

    kustomize keeps the object it merged into, so a top-level `$patch: replace` (whose result is a different
    node) changes nothing."""
    if isinstance(patch, dict) and patch.get(_DIRECTIVE) == "replace":
        return clone(original)
    result = _walk(clone(original), clone(patch), None, ())
    if result is ABSENT or result is None or result is _KEEP_NULL:
        return None
    return result


def _shape(value: Any) -> str:
    if isinstance(value, dict):
        return "map"
    if isinstance(value, list):
        return "list"
    return "scalar"


def _text(value: Any) -> str:
    """A scalar's text as kyaml holds it (node.Value): "" for maps and lists."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (dict, list)):
        return ""
    return str(value)


def _nil_or_empty(value: Any) -> bool:
    return value is ABSENT or value is None or value == {} or value == [] or value == ""


def _meta_schema(*sources: Any) -> Schema | None:
    for source in sources:
        if isinstance(source, dict):
            api_version, kind = source.get("apiVersion"), source.get("kind")
            if _nil_or_empty(api_version) or _nil_or_empty(kind):
                continue
            found = schema_for_type(_text(api_version), _text(kind))
            if found is not None:
                return found
    return None


def _walk(dest: Any, origin: Any, schema: Schema | None, path: tuple[str, ...]) -> Any:
    if schema is None:
        schema = _meta_schema(dest, origin)
    present = [s for s in (dest, origin) if s is not ABSENT and s is not None]
    shape = _shape(present[0]) if present else "map"
    for source in present:
        if _shape(source) != shape:
            raise MergeError(f"{'.'.join(path) or 'the object'}: cannot merge a {_shape(source)} with a {shape} "
                             "(the patch must have the same shape as the object)")
    if shape == "map":
        return _walk_map(dest, origin, schema, path)
    if shape == "list":
        if schema is not None and schema.keys is not None:
            return _walk_keyed_list(dest, origin, schema, path)
        return origin if origin is not ABSENT else dest
    return origin if origin is not ABSENT else dest


def _map_directive(node: Any, strict: bool) -> str:
    """The `$patch` directive of a patch map, removed from it ("merge" when there is none)."""
    if not isinstance(node, dict) or _DIRECTIVE not in node:
        return "merge"
    value = _text(node[_DIRECTIVE])
    if value in ("delete", "replace", "merge"):
        del node[_DIRECTIVE]
        return value
    if strict:
        raise MergeError(f"unknown patch strategy '{value}' (expected replace, delete or merge)")
    return "unknown"


def _walk_map(dest: Any, origin: Any, schema: Schema | None, path: tuple[str, ...]) -> Any:
    if dest is ABSENT or dest is None:
        if _map_directive(origin, strict=False) == "delete":
            return ABSENT
        if origin is ABSENT and dest is None:
            return _KEEP_NULL  # an explicit null the patch does not mention stays
        target = origin
    elif origin is None:
        return ABSENT
    else:
        directive = _map_directive(origin, strict=True)
        if directive == "delete":
            return ABSENT
        target = origin if directive == "replace" else dest
    if not isinstance(target, dict):
        return target
    names = set(target)
    if isinstance(origin, dict):
        names.update(origin)
    for name in sorted(names):
        child = schema.field(name) if schema is not None else None
        value = _walk(target.get(name, ABSENT), origin.get(name, ABSENT) if isinstance(origin, dict) else ABSENT,
                      child, (*path, name))
        if value is ABSENT or value is None:
            target.pop(name, None)
        elif value is _KEEP_NULL:
            target[name] = None
        else:
            target[name] = value
    return target


# -- keyed lists ---------------------------------------------------------------------------------------------


def _list_directive(patch_list: list) -> str:
    """A list-level `{"$patch": ...}` item: returns the directive and removes such items from the list."""
    for item in patch_list:
        if isinstance(item, dict) and _DIRECTIVE in item:
            if len(item) > 1:
                return "merge"
            value = _text(item[_DIRECTIVE])
            if value not in ("delete", "replace", "merge"):
                raise MergeError(f"unknown patch strategy '{value}' (expected replace, delete or merge)")
            _set_element(patch_list, ABSENT, [_DIRECTIVE], [value])
            return value
    return "merge"


def _walk_keyed_list(dest: Any, origin: Any, schema: Schema, path: tuple[str, ...]) -> Any:
    if dest is ABSENT or dest is None:
        target = origin
    elif origin is None:
        return ABSENT
    else:
        directive = _list_directive(origin) if isinstance(origin, list) else "merge"
        if directive == "delete":
            return ABSENT
        target = origin if directive == "replace" else dest
    if target is ABSENT:
        return ABSENT
    sources = (target, origin)
    keys = list(schema.keys or ())
    values = _element_values(sources, keys)
    if values or keys:
        return _merge_elements(values, keys, target, sources, schema, path)
    return _merge_elements(_primitive_values(sources), [""], target, sources, schema, path)


def _element_values(sources: tuple[Any, Any], keys: list[str]) -> list[list[str]]:
    """Each item's key values, items of the patch first, then those only in the object; no repeats."""
    result: list[list[str]] = []
    for source in (sources[1], sources[0]):
        if not isinstance(source, list):
            continue
        for item in source:
            row = []
            for key in keys:
                value = item.get(key, ABSENT) if isinstance(item, dict) else ABSENT
                row.append("" if _nil_or_empty(value) else _text(value))
            if row and row not in result:
                result.append(row)
    return result


def _primitive_values(sources: tuple[Any, Any]) -> list[list[str]]:
    result: list[list[str]] = []
    seen: set[str] = set()
    for source in (sources[1], sources[0]):
        if not isinstance(source, list):
            continue
        for item in source:
            text = _text(item)
            if text not in seen:
                seen.add(text)
                result.append([text])
    return result


def _merge_partial_keys(values_list: list[list[str]]) -> None:
    """Rows that agree wherever both have a value describe the same item: fill in each other's blanks."""
    for i in range(len(values_list)):
        first = values_list[i]
        for j in range(len(values_list)):
            if len(first) != len(values_list[j]):
                continue
            merged, common = [], False
            for a, b in zip(first, values_list[j], strict=True):
                if a == b:
                    common = True
                    merged.append(a)
                elif a and b:
                    break
                else:
                    merged.append(a or b)
            else:
                if common:
                    values_list[i] = merged
                    values_list[j] = list(merged)


def _usable_keys(values_list: list[list[str]], values: list[str], keys: list[str]) -> tuple[list[str], list[str]]:
    """Keep only the keys some row has a value for (all of them when no row has any)."""
    present = {keys[i] for row in values_list for i, value in enumerate(row) if value != ""}
    if not present:
        return keys, values
    return ([k for k in keys if k in present],
            [v for i, v in enumerate(values) if v != "" or keys[i] in present])


def _merge_elements(values_list: list[list[str]], keys: list[str], dest: list, sources: tuple[Any, Any],
                    schema: Schema, path: tuple[str, ...]) -> Any:
    added: list = []
    if len(keys) > 1:
        _merge_partial_keys(values_list)
    use_keys: list[str] = []
    for values in values_list:
        if not values:
            continue
        use_keys, use_values = _usable_keys(values_list, values, keys)
        find_keys, find_values = _usable_keys([use_values], use_values, use_keys)
        found = [_find_element(source, find_keys, find_values) for source in sources]
        value = _walk(found[0], found[1], schema.items, (*path, f"[{','.join(find_values)}]"))
        if value is ABSENT or value is None or value is _KEEP_NULL or value == {}:
            _set_element(dest, ABSENT, use_keys, use_values)
            continue
        if isinstance(value, dict):
            for index, key in enumerate(use_keys):
                if key not in value and use_values[index] != "":
                    value[key] = use_values[index]
        _set_element(added, value, use_keys, use_values)
    if not values_list:
        return dest
    return _prepend_into(added, dest, use_keys)


def _find_element(source: Any, keys: list[str], values: list[str]) -> Any:
    """The first item of `source` whose `keys` have exactly `values`."""
    if not isinstance(source, list):
        return ABSENT
    keys = keys or [""]
    values = values or [""]
    if keys[0] == "":
        for item in source:
            if _text(item) == values[0]:
                return item
        return ABSENT
    if len(keys) != len(values):
        raise MergeError("merge keys and values differ in length")
    for item in source:  # here "" is a value to equal, not a wildcard (kyaml's MatchField)
        if isinstance(item, dict) and all(k in item and _text(item[k]) == v for k, v in zip(keys, values, strict=True)):
            return item
    return ABSENT


def _field_matches(item: Any, key: str, value: str) -> bool:
    if item is ABSENT or item is None:
        return False
    if key == "":
        if isinstance(item, (dict, list)):
            raise MergeError("a list of values mixes scalars and maps")
        return _text(item) == value
    if not isinstance(item, dict):
        raise MergeError(f"a merge-keyed list holds a {_shape(item)} where a map with {key!r} was expected")
    return key in item and (value == "" or _text(item[key]) == value)


def _set_element(items: list, element: Any, keys: list[str], values: list[str]) -> None:
    """Replace the items matching `keys`=`values` by `element` (remove them when ABSENT), else append it.

    Like kyaml's ElementSetter, empty and null items are dropped on the way, and with no values at all
    only matching items survive."""
    keys = keys or [""]
    map_setter = keys[0] != "" and bool(values) and values[0] != ""
    kept: list = []
    matched = False
    for item in items:
        if item is None or item == {}:
            continue
        if not isinstance(item, dict) and map_setter:
            kept.append(item)
            continue
        found, last = True, False
        for index, key in enumerate(keys):
            if index < len(values):
                last = _field_matches(item, key, values[index])
            if not last:
                found = False
                break
        if not found:
            if values:
                kept.append(item)
            continue
        matched = True
        if element is not ABSENT:
            kept.append(element)
    items[:] = kept
    if element is ABSENT or element is None:
        return
    if not matched:
        items.append(element)


def _prepend_into(added: list, dest: list, keys: list[str]) -> list:
    """Put the object's items after the patch's: each replaces its match among `added`, or is appended."""
    for item in list(dest):
        if keys and keys[0] == "":
            _set_element(added, item, [""], [_text(item)])
            continue
        row = []
        for key in keys:
            if item is not None and not isinstance(item, dict):
                raise MergeError(f"a merge-keyed list holds a {_shape(item)} where a map with {key!r} was expected")
            if item is None or key not in item:
                added.append(item)
                continue
            row.append(_text(item[key]))
        if len(keys) > 1:
            _set_element(added, ABSENT, keys, row)
        _set_element(added, item, keys, row)
    return added
