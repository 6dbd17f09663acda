"""Write-time validation for kubesim: the causes of a 422 `Invalid`, and the unknown fields of an object.

Every object kubesim stores must be readable by the strict `kubernetes` 37.x client and by kubectl.
`validate` checks three layers, in kube-apiserver's order, and returns all their causes at once:

1. object metadata (name rules per kind, label and annotation syntax), for every kind;
2. for built-in kinds, that the official client's model (`kubernetes.client.models.V1<Kind>`) reads the
   object (types, required fields), with causes at JSON field paths (`kubesim.clientmodels`); for
   custom resources, that `V1ObjectMeta` reads their metadata;
3. the Kubernetes rules the models do not express (selector matches template labels, containers have
   an image, CRD names, ...), after `pkg/apis/*/validation` of Kubernetes 1.32.

Call `kubesim.defaults.apply_defaults` first: kube-apiserver defaults before it validates.
"""

from __future__ import annotations

import base64
import binascii
import json
import re

from kubesim import clientmodels
from kubesim.clientmodels import model_for
from kubesim.errors import Cause
from kubesim.quantity import parse_quantity
from kubesim.resources import ResourceType
from kubesim.selectors import selector_object_matches

__all__ = ["INT32_MAX", "invalid", "model_for", "unknown_fields", "validate"]

# ---------------------------------------------------------------- causes (apimachinery field.Error)


def _fmt(value: object) -> str:
    """A bad value as kube-apiserver prints it: %q for strings, %v for numbers, JSON for the rest."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    try:
        text = json.dumps(value, separators=(",", ":"), sort_keys=True, default=str, ensure_ascii=False)
    except ValueError:
        text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def required(field: str, detail: str = "") -> Cause:
    return Cause("FieldValueRequired", f"Required value: {detail}" if detail else "Required value", field)


def invalid(field: str, value: object, detail: str) -> Cause:
    return Cause("FieldValueInvalid", f"Invalid value: {_fmt(value)}: {detail}", field)


def not_supported(field: str, value: object, supported: tuple[str, ...]) -> Cause:
    values = ", ".join(f'"{s}"' for s in supported)
    return Cause("FieldValueNotSupported", f"Unsupported value: {_fmt(value)}: supported values: {values}",
                 field)


def duplicate(field: str, value: object) -> Cause:
    return Cause("FieldValueDuplicate", f"Duplicate value: {_fmt(value)}", field)


def not_found(field: str, value: object) -> Cause:
    return Cause("FieldValueNotFound", f"Not found: {_fmt(value)}", field)


def too_long(field: str, limit: int) -> Cause:
    return Cause("FieldValueTooLong", f"Too long: must have at most {limit} bytes", field)


def forbidden(field: str, detail: str) -> Cause:
    return Cause("FieldValueForbidden", f"Forbidden: {detail}", field)


# ---------------------------------------------------------------- names, labels, keys

_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
_CONFIG_KEY = re.compile(r"[-._a-zA-Z0-9]+")

_MSG_DNS1123_LABEL = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
    "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
_MSG_DNS1123_SUBDOMAIN = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    r"'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
_MSG_DNS1035_LABEL = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
    "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
    "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")
_QUALIFIED_RULE = (
    "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
    "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
_MSG_LABEL_VALUE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used "
    "for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")
_MSG_CONFIG_KEY = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or "
    "'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')")
_MSG_QUANTITY = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
_MSG_PORT = "must be between 1 and 65535, inclusive"


def _pattern(value: str, regex: re.Pattern, limit: int, message: str) -> list[str]:
    msgs = [f"must be no more than {limit} characters"] if len(value) > limit else []
    if not regex.fullmatch(value):
        msgs.append(message)
    return msgs


def dns1123_label(value: str) -> list[str]:
    return _pattern(value, _DNS1123_LABEL, 63, _MSG_DNS1123_LABEL)


def dns1123_subdomain(value: str) -> list[str]:
    return _pattern(value, _DNS1123_SUBDOMAIN, 253, _MSG_DNS1123_SUBDOMAIN)


def dns1035_label(value: str) -> list[str]:
    return _pattern(value, _DNS1035_LABEL, 63, _MSG_DNS1035_LABEL)


def qualified_name(value: str) -> list[str]:
    prefix, slash, name = value.rpartition("/")
    if prefix.count("/"):
        return [f"a qualified name must {_QUALIFIED_RULE} with an optional DNS subdomain prefix and '/' "
                "(e.g. 'example.com/MyName')"]
    msgs = []
    if slash:
        msgs += ["prefix part " + m for m in dns1123_subdomain(prefix)] if prefix else [
            "prefix part must be non-empty"]
    if not name:
        return msgs + ["name part must be non-empty"]
    if len(name) > 63:
        msgs.append("name part must be no more than 63 characters")
    if not _QUALIFIED_NAME.fullmatch(name):
        msgs.append("name part must " + _QUALIFIED_RULE)
    return msgs


def _name_subdomain(name: str, prefix: bool) -> list[str]:
    return dns1123_subdomain(_mask_dash(name) if prefix else name)


def _name_label(name: str, prefix: bool) -> list[str]:
    return dns1123_label(_mask_dash(name) if prefix else name)


def _name_dns1035(name: str, prefix: bool) -> list[str]:
    return dns1035_label(_mask_dash(name) if prefix else name)


def _name_path_segment(name: str, prefix: bool) -> list[str]:
    msgs = [] if prefix or name not in (".", "..") else [f"may not be '{name}'"]
    return msgs + [f"may not contain '{c}'" for c in "/%" if c in name]


def _mask_dash(name: str) -> str:
    """generateName prefixes may end in '-' (the server appends random characters)."""
    return name[:-1] + "a" if len(name) > 1 and name.endswith("-") else name


_NAME_RULES = {
    ("", "Namespace"): _name_label,
    ("", "Service"): _name_dns1035,  # ValidateServiceName is NameIsDNS1035Label in 1.32
    ("rbac.authorization.k8s.io", "Role"): _name_path_segment,
    ("rbac.authorization.k8s.io", "ClusterRole"): _name_path_segment,
    ("rbac.authorization.k8s.io", "RoleBinding"): _name_path_segment,
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): _name_path_segment,
}


def _d(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _l(value: object) -> list:
    return value if isinstance(value, list) else []


def _labels(labels: object, field: str, out: list[Cause]) -> None:
    for key, value in _d(labels).items():
        for msg in qualified_name(key):
            out.append(invalid(field, key, msg))
        if isinstance(value, str):  # other types are reported by the model layer
            if len(value) > 63:
                out.append(invalid(field, value, "must be no more than 63 characters"))
            if not _LABEL_VALUE.fullmatch(value):
                out.append(invalid(field, value, _MSG_LABEL_VALUE))


def _validate_meta(rt: ResourceType, meta: dict, out: list[Cause]) -> None:
    name, generate = meta.get("name"), meta.get("generateName")
    rule = _NAME_RULES.get((rt.group, rt.kind), _name_subdomain)
    if isinstance(generate, str) and generate:
        for msg in rule(generate, True):
            out.append(invalid("metadata.generateName", generate, msg))
    if not name:
        if not generate:
            out.append(required("metadata.name", "name or generateName is required"))
    elif isinstance(name, str):
        for msg in rule(name, False):
            out.append(invalid("metadata.name", name, msg))
    namespace = meta.get("namespace")
    if rt.namespaced and isinstance(namespace, str) and namespace:
        for msg in dns1123_label(namespace):
            out.append(invalid("metadata.namespace", namespace, msg))
    _labels(meta.get("labels"), "metadata.labels", out)
    annotations = _d(meta.get("annotations"))
    size = 0
    for key, value in annotations.items():
        for msg in qualified_name(key.lower()):
            out.append(invalid("metadata.annotations", key, msg))
        size += len(key) + (len(value) if isinstance(value, str) else 0)
    if size > 256 * 1024:
        out.append(too_long("metadata.annotations", 256 * 1024))


# ---------------------------------------------------------------- Kubernetes rules the models do not hold


_RESTART = ("Always", "OnFailure", "Never")


def _selector(sel: dict, field: str, out: list[Cause]) -> None:
    _labels(sel.get("matchLabels"), f"{field}.matchLabels", out)
    for i, expr in enumerate(_l(sel.get("matchExpressions"))):
        expr, path = _d(expr), f"{field}.matchExpressions[{i}]"
        op, values = expr.get("operator"), expr.get("values")
        if op in ("In", "NotIn"):
            if not values:
                out.append(required(f"{path}.values", "must be specified when `operator` is 'In' or 'NotIn'"))
        elif op in ("Exists", "DoesNotExist"):
            if values:
                out.append(forbidden(f"{path}.values",
                                     "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
        elif isinstance(op, str):
            out.append(invalid(f"{path}.operator", op, "not a valid selector operator"))


def _well_formed(sel: dict) -> bool:
    """Whether a selector has the shape `selector_object_matches` reads (the model reports other shapes)."""
    exprs = sel.get("matchExpressions")
    return isinstance(sel.get("matchLabels") or {}, dict) and isinstance(exprs or [], list) and all(
        isinstance(e, dict) and isinstance(e.get("values") or [], list) for e in exprs or [])


def _quantity(value: object, field: str, out: list[Cause]) -> None:
    if isinstance(value, str):  # numbers are written as strings by apply_defaults; other types by the model
        try:
            parse_quantity(value)
        except ValueError:
            out.append(invalid(field, value, _MSG_QUANTITY))


def _pod_spec(spec: dict, path: str, out: list[Cause], restart: tuple[str, ...] = _RESTART,
              extra_volumes: tuple[str, ...] = ()) -> None:
    if not spec.get("containers"):
        out.append(required(f"{path}.containers"))
    volumes = set(extra_volumes)
    for i, vol in enumerate(_l(spec.get("volumes"))):
        name = _d(vol).get("name")
        if isinstance(name, str) and name:
            if name in volumes:
                out.append(duplicate(f"{path}.volumes[{i}].name", name))
            volumes.add(name)
            size = _d(_d(vol).get("emptyDir")).get("sizeLimit")
            _quantity(size, f"{path}.volumes[{i}].emptyDir.sizeLimit", out)
    names: set[str] = set()
    for group in ("initContainers", "containers"):
        for i, ctr in enumerate(_l(spec.get(group))):
            if isinstance(ctr, dict):
                _container(ctr, f"{path}.{group}[{i}]", names, volumes, out)
    policy = spec.get("restartPolicy")
    if policy is None and "Always" not in restart:  # unset means Always, which this owner does not allow
        out.append(required(f"{path}.restartPolicy", "valid values: " + ", ".join(f'"{r}"' for r in restart)))
    elif isinstance(policy, str) and policy not in restart:
        out.append(not_supported(f"{path}.restartPolicy", policy, restart))


def _container(ctr: dict, path: str, names: set[str], volumes: set[str], out: list[Cause]) -> None:
    name = ctr.get("name")
    if isinstance(name, str) and name:
        for msg in dns1123_label(name):
            out.append(invalid(f"{path}.name", name, msg))
        if name in names:
            out.append(duplicate(f"{path}.name", name))
        names.add(name)
    elif name is None or name == "":
        out.append(required(f"{path}.name"))
    image = ctr.get("image")
    if image is None or image == "" or (isinstance(image, str) and not image.strip()):
        out.append(required(f"{path}.image"))
    for j, port in enumerate(_l(ctr.get("ports"))):
        port, ppath = _d(port), f"{path}.ports[{j}]"
        number = port.get("containerPort")
        if isinstance(number, int) and not isinstance(number, bool) and not 1 <= number <= 65535:
            out.append(invalid(f"{ppath}.containerPort", number, _MSG_PORT))
        protocol = port.get("protocol")
        if isinstance(protocol, str) and protocol not in ("SCTP", "TCP", "UDP"):
            out.append(not_supported(f"{ppath}.protocol", protocol, ("SCTP", "TCP", "UDP")))
    resources = _d(ctr.get("resources"))
    for section in ("limits", "requests"):
        for key, value in _d(resources.get(section)).items():
            _quantity(value, f"{path}.resources.{section}[{key}]", out)
    for j, mount in enumerate(_l(ctr.get("volumeMounts"))):
        vol = _d(mount).get("name")
        if isinstance(vol, str) and vol not in volumes:
            out.append(not_found(f"{path}.volumeMounts[{j}].name", vol))


def _template(spec: dict, path: str, sel: object, out: list[Cause], restart: tuple[str, ...],
              extra_volumes: tuple[str, ...] = ()) -> None:
    tmpl = spec.get("template")
    if tmpl is None:
        out.append(required(path))
        return
    if not isinstance(tmpl, dict):
        return  # reported by the model
    meta = _d(tmpl.get("metadata"))
    labels = _d(meta.get("labels"))
    _labels(labels, f"{path}.metadata.labels", out)
    if isinstance(sel, dict) and (sel.get("matchLabels") or sel.get("matchExpressions")) \
            and _well_formed(sel) and not selector_object_matches(sel, labels):
        out.append(invalid(f"{path}.metadata.labels", labels, "`selector` does not match template `labels`"))
    _pod_spec(_d(tmpl.get("spec")), f"{path}.spec", out, restart, extra_volumes)


INT32_MAX = 2**31 - 1


def _non_negative(spec: dict, path: str, keys: tuple[str, ...], out: list[Cause]) -> None:
    for key in keys:
        value = spec.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value < 0:
            out.append(invalid(f"{path}.{key}", value, "must be greater than or equal to 0"))


def _int32(spec: dict, path: str, keys: tuple[str, ...], out: list[Cause]) -> None:
    """Go decodes these into int32: a larger number is refused (kubectl could not read it back)."""
    for key in keys:
        value = spec.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > INT32_MAX:
            out.append(invalid(f"{path}.{key}", value, f"must be less than or equal to {INT32_MAX}"))


def _one_of(spec: dict, key: str, path: str, allowed: tuple[str, ...], out: list[Cause]) -> None:
    value = spec.get(key)
    if isinstance(value, str) and value not in allowed:
        out.append(not_supported(f"{path}.{key}", value, allowed))


_UPDATE_TYPES = ("OnDelete", "RollingUpdate")


def _workload(obj: dict, out: list[Cause]) -> None:
    """Deployment, ReplicaSet, StatefulSet and DaemonSet (apps/v1 validation)."""
    kind = obj.get("kind") or ""
    spec = obj.get("spec")
    if spec is None:
        out += [required("spec.selector"), required("spec.template")]
        return
    if not isinstance(spec, dict):
        return
    _non_negative(spec, "spec", ("replicas", "minReadySeconds", "revisionHistoryLimit"), out)
    _int32(spec, "spec", ("replicas", "minReadySeconds", "revisionHistoryLimit", "progressDeadlineSeconds"), out)
    sel = spec.get("selector")
    if sel is None:
        out.append(required("spec.selector"))
    elif isinstance(sel, dict):
        _selector(sel, "spec.selector", out)
        if not sel.get("matchLabels") and not sel.get("matchExpressions"):
            out.append(invalid("spec.selector", sel, f"empty selector is invalid for {kind.lower()}"))
    claims: tuple[str, ...] = ()
    if kind == "Deployment":
        strategy = _d(spec.get("strategy"))
        _one_of(strategy, "type", "spec.strategy", ("Recreate", "RollingUpdate"), out)
        if strategy.get("type") == "Recreate" and strategy.get("rollingUpdate") is not None:
            out.append(forbidden("spec.strategy.rollingUpdate",
                                 "may not be specified when strategy `type` is 'Recreate'"))
    elif kind == "StatefulSet":
        _one_of(spec, "podManagementPolicy", "spec", ("OrderedReady", "Parallel"), out)
        _one_of(_d(spec.get("updateStrategy")), "type", "spec.updateStrategy", _UPDATE_TYPES, out)
        claims = tuple(n for c in _l(spec.get("volumeClaimTemplates"))
                       if isinstance(n := _d(_d(c).get("metadata")).get("name"), str))
    elif kind == "DaemonSet":
        _one_of(_d(spec.get("updateStrategy")), "type", "spec.updateStrategy", _UPDATE_TYPES, out)
    _template(spec, "spec.template", sel, out, ("Always",), claims)


def _job_spec(spec: dict, path: str, out: list[Cause]) -> None:
    _non_negative(spec, path, ("parallelism", "completions", "backoffLimit", "activeDeadlineSeconds"), out)
    _int32(spec, path, ("parallelism", "completions", "backoffLimit"), out)
    _one_of(spec, "completionMode", path, ("NonIndexed", "Indexed"), out)
    _template(spec, f"{path}.template", spec.get("selector"), out, ("OnFailure", "Never"))


def _job(obj: dict, out: list[Cause]) -> None:
    spec = obj.get("spec")
    if spec is None:
        out.append(required("spec.template"))
    elif isinstance(spec, dict):
        _job_spec(spec, "spec", out)


def _cronjob(obj: dict, out: list[Cause]) -> None:
    name = _d(obj.get("metadata")).get("name")
    if isinstance(name, str) and len(name) > 52:
        out.append(invalid("metadata.name", name, "must be no more than 52 characters"))
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return  # required by the model
    if spec.get("schedule") == "":
        out.append(required("spec.schedule"))
    _one_of(spec, "concurrencyPolicy", "spec", ("Allow", "Forbid", "Replace"), out)
    _non_negative(spec, "spec", ("successfulJobsHistoryLimit", "failedJobsHistoryLimit"), out)
    _int32(spec, "spec", ("successfulJobsHistoryLimit", "failedJobsHistoryLimit"), out)
    job = _d(spec.get("jobTemplate"))
    if isinstance(job.get("spec"), dict):
        _job_spec(job["spec"], "spec.jobTemplate.spec", out)


def _pod(obj: dict, out: list[Cause]) -> None:
    spec = obj.get("spec")
    if spec is None or isinstance(spec, dict):
        _pod_spec(_d(spec), "spec", out)


def _service(obj: dict, out: list[Cause]) -> None:
    spec = _d(obj.get("spec"))
    kind = spec.get("type", "ClusterIP")
    _one_of(spec, "type", "spec", ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort"), out)
    ports = spec.get("ports")
    if not ports and kind != "ExternalName" and spec.get("clusterIP") != "None":
        out.append(required("spec.ports"))
    if kind == "ExternalName" and not spec.get("externalName"):
        out.append(required("spec.externalName"))
    names: set[str] = set()
    for i, port in enumerate(_l(ports)):
        port, path = _d(port), f"spec.ports[{i}]"
        name = port.get("name")
        if not name and len(_l(ports)) > 1:
            out.append(required(f"{path}.name"))
        elif isinstance(name, str) and name:
            if name in names:
                out.append(duplicate(f"{path}.name", name))
            names.add(name)
        for key in ("port", "targetPort", "nodePort"):
            value = port.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and not 1 <= value <= 65535 \
                    and not (key == "nodePort" and value == 0):
                out.append(invalid(f"{path}.{key}", value, _MSG_PORT))
        _one_of(port, "protocol", path, ("SCTP", "TCP", "UDP"), out)


def _data_keys(obj: dict, sections: tuple[str, ...], out: list[Cause], secret: bool = False) -> None:
    size = 0
    for section in sections:
        for key, value in _d(obj.get(section)).items():
            if not _CONFIG_KEY.fullmatch(key) or len(key) > 253:
                out.append(invalid(f"{section}[{key}]", key, _MSG_CONFIG_KEY))
            if not isinstance(value, str):
                continue
            size += len(key) + len(value)
            if secret and section == "data":
                try:
                    base64.b64decode(value, validate=True)
                except (binascii.Error, ValueError):
                    out.append(invalid(f"data[{key}]", _REDACTED, "must be base64-encoded"))
    if size > 1024 * 1024:
        out.append(too_long(sections[0], 1024 * 1024))


def _configmap(obj: dict, out: list[Cause]) -> None:
    _data_keys(obj, ("data", "binaryData"), out)
    for key in _d(obj.get("binaryData")):
        if key in _d(obj.get("data")):
            out.append(invalid(f"data[{key}]", key, "duplicate of key present in binaryData"))


_SECRET_KEYS = {
    "kubernetes.io/tls": ("tls.crt", "tls.key"), "kubernetes.io/ssh-auth": ("ssh-privatekey",),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",), "kubernetes.io/dockercfg": (".dockercfg",),
}


def _secret(obj: dict, out: list[Cause]) -> None:
    _data_keys(obj, ("data", "stringData"), out, secret=True)
    present = {**_d(obj.get("data")), **_d(obj.get("stringData"))}
    kind = obj.get("type")
    for key in _SECRET_KEYS.get(kind, ()) if isinstance(kind, str) else ():
        if key not in present:
            out.append(required(f"data[{key}]"))


def _hpa(obj: dict, out: list[Cause]) -> None:
    spec = _d(obj.get("spec"))
    _int32(spec, "spec", ("minReplicas", "maxReplicas"), out)
    low, high = spec.get("minReplicas", 1), spec.get("maxReplicas")
    if isinstance(low, int) and not isinstance(low, bool) and low < 1:
        out.append(invalid("spec.minReplicas", low, "must be greater than or equal to 1"))
    if isinstance(high, int) and not isinstance(high, bool):
        if high < 1:
            out.append(invalid("spec.maxReplicas", high, "must be greater than 0"))
        elif isinstance(low, int) and high < low:
            out.append(invalid("spec.maxReplicas", high, "must be greater than or equal to `minReplicas`"))


def _pdb(obj: dict, out: list[Cause]) -> None:
    spec = _d(obj.get("spec"))
    if spec.get("minAvailable") is not None and spec.get("maxUnavailable") is not None:
        out.append(invalid("spec", spec, "minAvailable and maxUnavailable cannot be both set"))
    if isinstance(spec.get("selector"), dict):
        _selector(spec["selector"], "spec.selector", out)


_PROTECTED = ("k8s.io", "kubernetes.io")
_APPROVAL = "api-approved.kubernetes.io"
_SIMPLE_JSON_PATH = re.compile(r"(\.[^.\[\]]+)+")


def _crd_scale(scale: dict, path: str, out: list[Cause]) -> None:
    """The scale subresource's paths: simple JSON paths under .spec / .status (apiextensions validation)."""
    rules = (("specReplicasPath", (".spec.",), "should be a json path under .spec"),
             ("statusReplicasPath", (".status.",), "should be a json path under .status"),
             ("labelSelectorPath", (".spec.", ".status."), "should be a json path under either .spec or .status"))
    for key, prefixes, message in rules:
        value = scale.get(key)
        if isinstance(value, str) and value and not (value.startswith(prefixes)
                                                     and _SIMPLE_JSON_PATH.fullmatch(value)):
            out.append(invalid(f"{path}.{key}", value, message))


def _crd(obj: dict, out: list[Cause]) -> None:
    spec = _d(obj.get("spec"))
    names, group = _d(spec.get("names")), spec.get("group")
    plural = names.get("plural")
    name = _d(obj.get("metadata")).get("name")
    if isinstance(name, str) and name and name != f"{plural}.{group}":
        out.append(invalid("metadata.name", name, 'must be spec.names.plural+"."+spec.group'))
    if isinstance(group, str):
        if not group:
            out.append(required("spec.group"))
        elif "." not in group:
            out.append(invalid("spec.group", group, "should be a domain with at least one dot"))
        for msg in dns1123_subdomain(group) if group else ():
            out.append(invalid("spec.group", group, msg))
        if group in _PROTECTED or group.endswith(tuple("." + p for p in _PROTECTED)):
            annotations = _d(_d(obj.get("metadata")).get("annotations"))
            if not annotations.get(_APPROVAL):
                out.append(required(f"metadata.annotations[{_APPROVAL}]", "protected groups must have approval "
                                    f'annotation "{_APPROVAL}", see https://github.com/kubernetes/enhancements/'
                                    "pull/1111"))
    if "scope" in spec and spec["scope"] not in ("Cluster", "Namespaced"):
        out.append(not_supported("spec.scope", spec["scope"], ("Cluster", "Namespaced")))
    for key in ("plural", "singular"):
        if isinstance(names.get(key), str) and names[key]:
            for msg in dns1123_label(names[key]):
                out.append(invalid(f"spec.names.{key}", names[key], msg))
    if names.get("kind") == "":
        out.append(required("spec.names.kind"))
    versions = spec.get("versions")
    if not isinstance(versions, list):
        return  # required by the model
    seen: set[str] = set()
    for i, version in enumerate(versions):
        version, path = _d(version), f"spec.versions[{i}]"
        vname = version.get("name")
        if isinstance(vname, str):
            for msg in dns1035_label(vname):
                out.append(invalid(f"{path}.name", vname, msg))
            if vname in seen:
                out.append(invalid("spec.versions", versions, "must contain unique version names"))
            seen.add(vname)
        _crd_scale(_d(_d(version.get("subresources")).get("scale")), f"{path}.subresources.scale", out)
        schema = _d(version.get("schema")).get("openAPIV3Schema")
        if schema is None:
            out.append(required(f"{path}.schema.openAPIV3Schema", "schemas are required"))
        elif isinstance(schema, dict) and not schema.get("type"):
            out.append(required(f"{path}.schema.openAPIV3Schema.type", "must not be empty at the root"))
    if sum(1 for v in versions if _d(v).get("storage") is True) != 1:
        out.append(invalid("spec.versions", versions,
                           "must have exactly one version marked as storage version"))


_KIND_RULES = {
    ("apps", "Deployment"): _workload, ("apps", "ReplicaSet"): _workload, ("apps", "StatefulSet"): _workload,
    ("apps", "DaemonSet"): _workload, ("batch", "Job"): _job, ("batch", "CronJob"): _cronjob,
    ("", "Pod"): _pod, ("", "Service"): _service, ("", "ConfigMap"): _configmap, ("", "Secret"): _secret,
    ("autoscaling", "HorizontalPodAutoscaler"): _hpa, ("policy", "PodDisruptionBudget"): _pdb,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): _crd,
}


# ---------------------------------------------------------------- public API

_REDACTED = "<secret contents redacted>"


def _model_causes(cls, value: object, prefix: str, redact: tuple[str, ...], out: list[Cause]) -> None:
    for problem in clientmodels.problems(cls, value, prefix):
        if problem.detail is None:
            out.append(required(problem.path))
        else:
            shown = _REDACTED if redact and problem.path.startswith(redact) else problem.value
            out.append(invalid(problem.path, shown, problem.detail))


def validate(rt: ResourceType, obj: dict) -> list[Cause]:
    """The causes of a 422 Invalid for writing `obj` as `rt` (empty: the object may be stored)."""
    if not isinstance(obj, dict):
        return [invalid("", obj, "must be an object")]
    out: list[Cause] = []
    meta = obj.get("metadata")
    _validate_meta(rt, _d(meta), out)
    model = model_for(rt)
    if model is not None:
        secret = rt.kind == "Secret" and not rt.group
        _model_causes(model, obj, "", ("data", "stringData") if secret else (), out)
    elif meta is not None:  # custom resources: their metadata must still be what the client reads
        from kubernetes.client.models import V1ObjectMeta

        _model_causes(V1ObjectMeta, meta, "metadata", (), out)
    if rt.builtin and (rule := _KIND_RULES.get((rt.group, rt.kind))) is not None:
        rule(obj if obj.get("kind") == rt.kind else {**obj, "kind": rt.kind}, out)
    seen: set[tuple[str, str]] = set()
    unique = []
    for cause in out:  # the model and a rule may both report a missing field
        if (cause.field, cause.message) not in seen:
            seen.add((cause.field, cause.message))
            unique.append(cause)
    return unique


def unknown_fields(rt: ResourceType, obj: dict, *, prune: bool = False, drop_nulls: bool = False) -> list[str]:
    """JSON paths of the fields a built-in kind does not define (`spec.template.spec.containers[0].imagee`).

    Map keys (labels, annotations, ConfigMap data) and free-form values (RawExtension, `fieldsV1`, CRD
    schemas) are never unknown; custom resources have none. With `prune=True` the fields are also removed
    from `obj`, as kube-apiserver drops them when fieldValidation is Ignore or Warn. With `drop_nulls=True`
    the fields set to null are removed from `obj`, as decoding into Go types drops them."""
    model = model_for(rt)
    if model is None or not isinstance(obj, dict):
        return []
    return clientmodels.unknown(model, obj, prune, drop_nulls)



# Fields an update may not change (kube's ValidateXUpdate): (group, kind) -> dotted paths.
_IMMUTABLE: dict[tuple[str, str], tuple[str, ...]] = {
    ("batch", "Job"): ("spec.selector", "spec.template"),
    ("apps", "Deployment"): ("spec.selector",),
    ("apps", "ReplicaSet"): ("spec.selector",),
    ("apps", "StatefulSet"): ("spec.selector", "spec.serviceName", "spec.volumeClaimTemplates"),
    ("apps", "DaemonSet"): ("spec.selector",),
}


def validate_update(rt: ResourceType, obj: dict, old: dict) -> list[Cause]:
    """The causes of a 422 Invalid for an update that changes an immutable field (after defaulting both)."""
    out: list[Cause] = []
    for path in _IMMUTABLE.get((rt.group, rt.kind), ()) if rt.builtin else ():
        new_value, old_value = _at(obj, path), _at(old, path)
        if old_value is not None and new_value != old_value:
            out.append(invalid(path, new_value, "field is immutable"))
    return out


def _at(obj: object, path: str) -> object:
    for part in path.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj
