"""Property-based fuzzing of kubesim over real HTTP (hypothesis).

Random methods, URLs, query strings, Content-Types and bodies go to a live `sim`, against existing objects (a
ConfigMap, a Deployment, a custom resource and its CRD) and missing ones. Bodies are random JSON, raw garbage,
odd YAML, and mostly Kubernetes-shaped objects with a few random mutations (wrong types, deleted or added fields,
strategic-merge directives), JSON patches over the paths those objects have, and apply bodies. Properties, for
every request:

- the answer is a well-formed HTTP response whose body is JSON (a watch: one JSON event per line), arrives
  before a client timeout, and carries no NaN or Infinity (not JSON);
- a status >= 400 is < 500 (kubesim answers 500 only for its own bugs) and its body is a `Status` whose `code`
  is the HTTP status, with a reason and a message;

and after every request the store is intact: listing and creating ConfigMaps still works, every stored object
is strict JSON that the official client's model reads (custom resources: their metadata), with decodable
managedFields, and every controller task is alive. Anything logged with a traceback by the server or the
controllers during a test fails it at the end.

`KUBESIM_FUZZ_EXAMPLES=N` multiplies the number of examples (default 1) for longer local runs.
"""

from __future__ import annotations

import copy
import http.client
import json
import logging
import os
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kubernetes.client.models import V1ObjectMeta

from kubesim.api import ClusterAPI
from kubesim.managed_fields import managed_fields_readable
from kubesim.validation import model_for
from tests.kubesim.conftest import ClusterThread

SCALE = int(os.environ.get("KUBESIM_FUZZ_EXAMPLES", "1"))


def fuzz_settings(examples: int) -> settings:
    return settings(max_examples=examples * SCALE, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large, HealthCheck.filter_too_much])


NS = "fuzz"
CM, DEP, WIDGET = "fz-cm", "fz-dep", "fz-w"
CRD_NAME = "widgets.fuzz.example.com"
JSON, MERGE, JSON_PATCH = "application/json", "application/merge-patch+json", "application/json-patch+json"
STRATEGIC, APPLY, YAML = "application/strategic-merge-patch+json", "application/apply-patch+yaml", "application/yaml"
PATCH_TYPES = (MERGE, JSON_PATCH, STRATEGIC, APPLY)
PROTOBUF = "application/vnd.kubernetes.protobuf"

CONTAINER = {"name": "c", "image": "nginx", "ports": [{"containerPort": 80, "protocol": "TCP"}],
             "env": [{"name": "A", "value": "1"}], "resources": {"requests": {"cpu": "100m", "memory": "64Mi"},
                                                                   "limits": {"cpu": "1"}},
             "volumeMounts": [{"name": "v", "mountPath": "/v"}]}
POD_SPEC = {"containers": [CONTAINER], "volumes": [{"name": "v", "emptyDir": {}}], "restartPolicy": "Always",
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule"}]}
TEMPLATE = {"metadata": {"labels": {"app": "fz"}}, "spec": POD_SPEC}
JOB_SPEC = {"parallelism": 1, "completions": 1, "backoffLimit": 1,
            "template": {"spec": {**POD_SPEC, "restartPolicy": "Never"}}}
CRD = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": CRD_NAME},
       "spec": {"group": "fuzz.example.com", "scope": "Namespaced",
                "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
                "versions": [{"name": "v1", "served": True, "storage": True,
                              "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas",
                                                                       "statusReplicasPath": ".status.replicas",
                                                                       "labelSelectorPath": ".status.selector"}},
                              "additionalPrinterColumns": [{"name": "Color", "type": "string",
                                                            "jsonPath": ".spec.color"}],
                              "schema": {"openAPIV3Schema": {"type": "object",
                                                             "x-kubernetes-preserve-unknown-fields": True}}}]}}
CM_OBJ = {"apiVersion": "v1", "kind": "ConfigMap",
          "metadata": {"name": CM, "labels": {"app": "fz"}, "annotations": {"a": "b"}, "finalizers": ["fz/x"]},
          "data": {"a": "1", "b": "2"}, "binaryData": {"c": "aGk="}}
DEP_OBJ = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": DEP, "labels": {"app": "fz"}},
           "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "fz"}}, "template": TEMPLATE,
                    "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"}}}}
WIDGET_OBJ = {"apiVersion": "fuzz.example.com/v1", "kind": "Widget", "metadata": {"name": WIDGET},
              "spec": {"replicas": 1, "color": "red", "items": [{"name": "a"}]}, "status": {"replicas": 0}}
# (URL prefix, plural): an object of that kind, to seed and to mutate
SEED = {("/api/v1", "configmaps"): CM_OBJ, ("/apis/apps/v1", "deployments"): DEP_OBJ,
        ("/apis/fuzz.example.com/v1", "widgets"): WIDGET_OBJ}
KINDS = {
    **SEED,
    ("/apis/apiextensions.k8s.io/v1", "customresourcedefinitions"): CRD,
    ("/api/v1", "services"): {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "fz-svc"},
                              "spec": {"selector": {"app": "fz"}, "type": "ClusterIP",
                                       "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}},
    ("/api/v1", "pods"): {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "fz-pod", "labels": {"app": "fz"}},
                          "spec": POD_SPEC},
    ("/api/v1", "secrets"): {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "fz-secret"},
                             "type": "Opaque", "data": {"a": "aGk="}, "stringData": {"b": "x"}},
    ("/api/v1", "persistentvolumeclaims"): {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                                            "metadata": {"name": "fz-pvc"},
                                            "spec": {"accessModes": ["ReadWriteOnce"],
                                                     "resources": {"requests": {"storage": "1Gi"}}}},
    ("/apis/apps/v1", "statefulsets"): {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "fz-sts"},
                                       "spec": {"replicas": 1, "serviceName": "fz-svc", "template": TEMPLATE,
                                                "selector": {"matchLabels": {"app": "fz"}},
                                                "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                                                    "accessModes": ["ReadWriteOnce"],
                                                    "resources": {"requests": {"storage": "1Gi"}}}}]}},
    ("/apis/apps/v1", "daemonsets"): {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "fz-ds"},
                                      "spec": {"selector": {"matchLabels": {"app": "fz"}}, "template": TEMPLATE,
                                               "updateStrategy": {"type": "RollingUpdate",
                                                                  "rollingUpdate": {"maxUnavailable": 1}}}},
    ("/apis/batch/v1", "jobs"): {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "fz-job"},
                                 "spec": JOB_SPEC},
    ("/apis/batch/v1", "cronjobs"): {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "fz-cj"},
                                     "spec": {"schedule": "*/1 * * * *", "timeZone": "Etc/UTC",
                                              "concurrencyPolicy": "Forbid", "jobTemplate": {"spec": JOB_SPEC}}},
    ("/apis/autoscaling/v2", "horizontalpodautoscalers"): {
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "fz-hpa"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": DEP},
                 "minReplicas": 1, "maxReplicas": 3,
                 "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                     "type": "Utilization", "averageUtilization": 50}}}]}},
    ("/apis/policy/v1", "poddisruptionbudgets"): {
        "apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "fz-pdb"},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "fz"}}}},
    ("/apis/networking.k8s.io/v1", "ingresses"): {
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "fz-ing"},
        "spec": {"rules": [{"host": "a.example.com", "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {
            "service": {"name": "fz-svc", "port": {"number": 80}}}}]}}]}},
}


# ------------------------------------------------------------------------------------------------ HTTP


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


class Client:
    """Raw HTTPS requests to `sim`, one connection each."""

    def __init__(self, sim: ClusterThread) -> None:
        self.sim = sim
        host, port = sim.url.split("://", 1)[1].rsplit(":", 1)
        self.host, self.port = host, int(port)
        self.context = sim.ssl_context()
        self.checked: dict[tuple, object] = {}  # stored objects already read back, by resourceVersion

    def __repr__(self) -> str:
        return f"Client({self.sim.url})"

    def send(self, method: str, target: str, body: bytes | None = None, headers: dict[str, str] | None = None,
             timeout: float = 15.0) -> Answer:
        conn = http.client.HTTPSConnection(self.host, self.port, timeout=timeout, context=self.context)
        try:
            conn.putrequest(method, target, skip_accept_encoding=True)
            sent = {"Authorization": f"Bearer {self.sim.token}", **(headers or {})}
            if body is not None:
                sent["Content-Length"] = str(len(body))
            for key, value in sent.items():
                conn.putheader(key, value.encode("utf-8", "surrogatepass"))
            conn.endheaders(body)
            try:
                resp = conn.getresponse()
                data = resp.read()
            except TimeoutError as exc:
                raise AssertionError(f"no complete answer within {timeout}s: {method} {target}") from exc
            return Answer(resp.status, resp.headers, data)
        finally:
            conn.close()

    def json(self, method: str, path: str, obj: object = None, content_type: str = JSON) -> tuple[int, dict]:
        body = None if obj is None else json.dumps(obj).encode()
        answer = self.send(method, path, body, {"Content-Type": content_type, "Accept": JSON})
        return answer.status, json.loads(answer.body)


def _no_constants(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def strict_json(data: bytes) -> object:
    return json.loads(data.decode("utf-8"), parse_constant=_no_constants)


def check_answer(method: str, target: str, answer: Answer) -> None:
    """The response properties: JSON bodies, Status bodies for errors, no 5xx."""
    where = f"{method} {target} -> {answer.status}: {answer.body[:600]!r}"
    assert 200 <= answer.status < 500, where
    path = target.split("?", 1)[0].rstrip("/")
    if method == "HEAD" or path in ("/healthz", "/readyz", "/livez"):
        return
    try:
        if answer.status == 200 and answer.headers.get("Transfer-Encoding") == "chunked":  # a watch
            for line in answer.body.splitlines():
                event = strict_json(line)
                assert isinstance(event, dict) and event.get("type") in (
                    "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"), where
                assert event["type"] != "ERROR" or event["object"]["code"] < 500, where
            return
        decoded = strict_json(answer.body)
    except ValueError as exc:
        raise AssertionError(f"not a JSON body ({exc}): {where}") from exc
    assert isinstance(decoded, dict), where
    if answer.status >= 400:
        assert decoded.get("kind") == "Status" and decoded.get("apiVersion") == "v1", where
        assert decoded.get("status") == "Failure" and decoded.get("code") == answer.status, where
        assert isinstance(decoded.get("reason"), str) and decoded["reason"], where
        assert isinstance(decoded.get("message"), str) and decoded["message"], where


# ------------------------------------------------------------------------------------------------ the store


def _crd_shape(crd: dict) -> object:
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    return (spec.get("group"), spec.get("scope"), names.get("plural"), names.get("kind"),
            [(v.get("name"), v.get("served"), v.get("storage"), v.get("subresources"))
             for v in spec.get("versions") or []])


def _release(client: Client, path: str) -> int:
    """GET `path`; an object a fuzzed finalizer holds in deletion is let go. Returns the final GET's code."""
    code, live = client.json("GET", path)
    if code == 200 and live.get("metadata", {}).get("deletionTimestamp"):
        client.json("PATCH", path, {"metadata": {"finalizers": None}}, MERGE)
        code, live = client.json("GET", path)
    return code


def ensure_seed(client: Client) -> None:
    """The fuzz namespace, the CRD and the three objects exist as seeded (an example may have changed them)."""
    if client.json("GET", f"/api/v1/namespaces/{NS}")[0] == 404:
        assert client.json("POST", "/api/v1/namespaces", {"metadata": {"name": NS}})[0] == 201
    crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    if _release(client, f"{crds}/{CRD_NAME}") == 404:
        code, body = client.json("POST", crds, CRD)
        assert code == 201, body
    elif _crd_shape(client.json("GET", f"{crds}/{CRD_NAME}")[1]) != _crd_shape(CRD):
        code, body = client.json("PUT", f"{crds}/{CRD_NAME}", CRD)
        assert code == 200, body
    for (prefix, plural), obj in SEED.items():
        name = obj["metadata"]["name"]
        if _release(client, f"{prefix}/namespaces/{NS}/{plural}/{name}") == 404:
            code, body = client.json("POST", f"{prefix}/namespaces/{NS}/{plural}", obj)
            assert code == 201, body


def read_back(api: ClusterAPI, checked: dict[tuple, object]) -> list[str]:
    """Every stored object is strict JSON the official client reads, with decodable managedFields."""
    problems: list[str] = []
    storage: set[tuple[str, str]] = set()
    for rt in api.registry.all():
        key = (rt.group, rt.plural)
        if key in storage:
            continue
        storage.add(key)
        model = model_for(rt)
        for obj in api.store.list(key):
            meta = obj.get("metadata")
            if not isinstance(meta, dict) or not isinstance(meta.get("name"), str):
                problems.append(f"{rt.plural}: no metadata.name: {obj!r:.300}")
                continue
            ident = (key, meta.get("namespace") or "", meta["name"])
            rv = meta.get("resourceVersion")
            if checked.get(ident) == rv:
                continue
            try:
                assert isinstance(rv, str) and rv.isdigit(), f"resourceVersion {rv!r}"
                assert isinstance(meta.get("uid"), str), f"uid {meta.get('uid')!r}"
                text = json.dumps(obj, allow_nan=False, ensure_ascii=False).encode("utf-8")
                assert json.loads(text) == obj, "does not survive a JSON round trip"
                if model is not None:
                    model.from_dict(json.loads(text))
                else:
                    V1ObjectMeta.from_dict(json.loads(text)["metadata"])
                assert managed_fields_readable(obj), f"undecodable managedFields {meta.get('managedFields')!r}"
            except Exception as exc:  # any failure to read it back is store corruption
                problems.append(f"{rt.qualified} {ident[1]}/{ident[2]}: {type(exc).__name__}: {str(exc)[:400]} "
                                f"in {obj!r:.600}")
                continue
            checked[ident] = rv
    return problems


def controllers_alive(cluster: ClusterThread) -> list[str]:
    manager = cluster.cluster._manager
    return [] if manager is None else [f"{task.get_name()} ended: {task!r}" for task in manager._tasks
                                       if task.done()]


def check_store(client: Client) -> None:
    code, body = client.json("GET", f"/api/v1/namespaces/{NS}/configmaps")
    assert code == 200 and body.get("kind") == "ConfigMapList", body
    code, body = client.json("POST", f"/api/v1/namespaces/{NS}/configmaps",
                             {"metadata": {"name": "fz-probe"}, "data": {"k": "v"}})
    assert code == 201, body
    code, body = client.json("DELETE", f"/api/v1/namespaces/{NS}/configmaps/fz-probe")
    assert code == 200, body
    problems = client.sim.call(lambda api: read_back(api, client.checked))
    assert not problems, "\n".join(problems)
    dead = client.sim.call(lambda api: controllers_alive(client.sim))
    assert not dead, dead


class Tracebacks(logging.Handler):
    """Collects records logged with a traceback: a server 500 or a controller bug (not an ApiError)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.records.append(self.format(record))


@pytest.fixture
def fuzz(sim: ClusterThread) -> Iterator[Client]:
    client = Client(sim)
    ensure_seed(client)
    handler = Tracebacks()
    loggers = [logging.getLogger("kubesim.controllers"), logging.getLogger("kubesim.server")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield client
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
    assert not handler.records, "logged with a traceback:\n" + "\n\n".join(handler.records[:5])


# ------------------------------------------------------------------------------------------------ values

# Integers stay small (or out of range on purpose): a valid but huge replica count is a legitimate, slow request.
ints = st.one_of(st.integers(-2, 4), st.sampled_from([2**31, 2**63, -(2**63) - 1, 10**30]))
strings = st.one_of(st.text(max_size=10), st.sampled_from(
    ["", "fz", "x" * 300, "UPPER", "a b", "1Gi", "100m", "-1", "25%", "abc%", "TCP", "Always", "$patch", "\u2603",
     "a/b", "..", "2024-01-01T00:00:00Z", "null"]))
scalars = st.one_of(st.none(), st.booleans(), ints, st.floats(allow_nan=False, allow_infinity=False), strings)
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                            st.dictionaries(strings, inner, max_size=3)),
                           max_leaves=8)
DIRECTIVES = ["$patch", "$retainKeys", "$setElementOrder/containers", "$setElementOrder/env", "$setElementOrder/ports",
              "$setElementOrder/finalizers", "$deleteFromPrimitiveList/finalizers", "$setElementOrder/items"]
directive_values = st.one_of(st.sampled_from(["replace", "delete", "merge", None, 5]),
                             st.lists(st.one_of(st.fixed_dictionaries({"name": st.sampled_from(["c", "A", "x"])}),
                                                st.fixed_dictionaries({"containerPort": st.sampled_from([80, 81])}),
                                                strings, json_values), max_size=3))
INSERT_KEYS = DIRECTIVES + ["bogus", "name", "replicas", "selector", "metadata", "spec", "status", "items", "data",
                            "managedFields", "ownerReferences", "finalizers", "deletionTimestamp", "apiVersion",
                            "kind", "generateName", "namespace", "resourceVersion", "labels", "fieldsV1"]


def _nodes(value: object, path: tuple = ()) -> Iterator[tuple[tuple, object]]:
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _nodes(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nodes(item, (*path, index))


def _set(obj: object, path: tuple, value: object) -> object:
    if not path:
        return value
    parent = obj
    for step in path[:-1]:
        parent = parent[step]  # type: ignore[index]
    parent[path[-1]] = value  # type: ignore[index]
    return obj


@st.composite
def mutated(draw: st.DrawFn, base: object, max_mutations: int = 3) -> object:
    """`base` with a few random changes: a value replaced (often by one of the wrong type), removed, a field or
    directive added, a list item appended."""
    obj = copy.deepcopy(base)
    for _ in range(draw(st.integers(0, max_mutations))):
        path, value = draw(st.sampled_from(list(_nodes(obj))))
        action = draw(st.sampled_from(["set", "set", "delete", "insert", "insert", "append"]))
        if action == "set":
            obj = _set(obj, path, draw(st.one_of(scalars, json_values, st.sampled_from([[], {}, [1], {"a": 1}]))))
        elif action == "delete" and path:
            parent = obj
            for step in path[:-1]:
                parent = parent[step]
            del parent[path[-1]]
        elif action == "insert" and isinstance(value, dict):
            key = draw(st.one_of(st.sampled_from(INSERT_KEYS), strings))
            value[key] = draw(directive_values if key.startswith("$") else json_values)
        elif action == "append" and isinstance(value, list):
            value.append(draw(st.one_of(json_values, st.just(copy.deepcopy(value[0]) if value else {}),
                                        st.fixed_dictionaries({"$patch": st.sampled_from(["delete", "replace"])},
                                                              optional={"name": st.just("c")}))))
    return obj


def _pointer(path: tuple) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


@st.composite
def json_patches(draw: st.DrawFn, base: object) -> list:
    """RFC 6902 operations over the paths `base` has (and a few it has not)."""
    pointers = [_pointer(p) for p, _ in _nodes(base)]
    pointer = st.one_of(st.sampled_from(pointers), st.sampled_from(pointers).map(lambda p: p + "/-"),
                        st.sampled_from(pointers).map(lambda p: p + "/new"),
                        st.sampled_from(["", "/", "/9", "/metadata/labels/a~1b", "/x~2", "/metadata/managedFields",
                                         "/spec/template/spec/containers/01", "/metadata/managedFields/0/fieldsV1"]),
                        strings)
    ops = st.fixed_dictionaries({"op": st.one_of(st.sampled_from(["add", "remove", "replace", "move", "copy", "test"]),
                                                 scalars)},
                                optional={"path": pointer, "from": pointer,
                                          "value": st.one_of(json_values, mutated(base, 1))})
    return draw(st.lists(ops, max_size=4))


@st.composite
def partial(draw: st.DrawFn, base: dict) -> dict:
    """A mutated subset of `base`'s top-level fields: a merge, strategic or apply patch."""
    obj = draw(mutated(base))
    if not isinstance(obj, dict):
        return obj
    keys = draw(st.lists(st.sampled_from(sorted(obj, key=str)), unique=True)) if obj else []
    return {k: obj[k] for k in keys}


def encode(draw: st.DrawFn, value: object, yaml_ok: bool) -> bytes:
    if yaml_ok and draw(st.booleans()):
        return yaml.safe_dump(value, allow_unicode=True).encode("utf-8", "surrogatepass")
    return json.dumps(value, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")


YAML_TEXTS = [
    "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: 2020-01-01\n  b: 2001-12-14t21:59:43.10-05:00\n",
    "apiVersion: v1\nkind: ConfigMap\ndata:\n  1: x\n  true: y\n  ~: z\n  1.5: w\n",
    "apiVersion: v1\nkind: ConfigMap\ndata: {a: .nan}\n", "apiVersion: v1\nkind: ConfigMap\ndata: {a: .inf}\n",
    "apiVersion: v1\nkind: ConfigMap\ndata: {a: !!binary aGVsbG8=}\n",
    "apiVersion: v1\nkind: ConfigMap\ndata: {a: 1e400}\n",
    "apiVersion: v1\nkind: ConfigMap\ndata: !!set {a, b}\n", "apiVersion: v1\nkind: ConfigMap\ndata: !!omap [a: b]\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {labels: {? [a]: b}}\n",
    "apiVersion: v1\nkind: ConfigMap\ndata: !!python/object:object {}\n",
    "apiVersion: v1\nkind: ConfigMap\n---\napiVersion: v1\nkind: ConfigMap\n",
    "apiVersion: v1\nkind: ConfigMap\ndata: {a: '\\ud800', b: \"\\ud800\", c: \"\\U0001F600\"}\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, <<: {labels: {a: b}}}\n",
    "apiVersion: fuzz.example.com/v1\nkind: Widget\nspec: {when: 2020-01-01, bin: !!binary aGk=, 7: seven}\n",
    "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
    "g: [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n",
    "apiVersion: fuzz.example.com/v1\nkind: Widget\nspec: &s {a: [*s]}\n",
    "metadata: [unclosed", "\t- tab", "{", ":", "- a\n- b\n", "null", "'string'", "42", "\x00", "a: \x07",
    "[" * 150 + "]" * 150, "[" * 2000 + "]" * 2000, "- " * 300 + "x",
]
RAW_BODIES = [
    b"", b" ", b"null", b"[]", b"{}", b"42", b'"s"', b"{", b"\xff\xfe", b"\xef\xbb\xbf{}", "{}".encode("utf-16"),
    b'{"metadata":{"name":"nan"},"data":{"a":NaN}}', b'{"spec":{"x":Infinity}}', b'{"spec":{"replicas":1e400}}',
    b'{"spec":{"replicas":-1e400}}', b'{"data":{"a":"\\ud800"}}', b'{"\\udc00":"x"}',
    b'{"metadata":{"name":"\\ud800"}}',
    b'{"metadata":{"name":"a\xffb"}}', b'{"a":1}{"b":2}', b'{"a":1,"a":2}', b"[" * 50 + b"]" * 50,
    b"[" * 150 + b"]" * 150, b"[" * 5000 + b"]" * 5000, b'{"a":' * 120 + b"1" + b"}" * 120,
    b'{"a":' * 3000 + b"1" + b"}" * 3000, b'{"spec":{"replicas":' + b"9" * 5000 + b"}}",
    b'[{"op":"add","path":"/data/x","value":' + b"[" * 900 + b"]" * 900 + b"}]",
]


@st.composite
def bodies(draw: st.DrawFn, base: dict, content_type: str | None) -> bytes | None:
    """A request body: none, garbage, odd YAML, random JSON, or (mostly) shaped by `base`."""
    yaml_ok = content_type in (YAML, APPLY) or draw(st.integers(0, 9)) == 0
    kind = draw(st.sampled_from(["none", "raw", "yaml", "json", "object", "object", "partial", "jsonpatch"]))
    if kind == "none":
        return None
    if kind == "raw":
        return draw(st.sampled_from(RAW_BODIES))
    if kind == "yaml":
        return draw(st.sampled_from(YAML_TEXTS)).encode("utf-8")
    strategy = {"json": json_values, "object": mutated(base), "partial": partial(base),
                "jsonpatch": json_patches(base)}[kind]
    return encode(draw, draw(strategy), yaml_ok)


# ------------------------------------------------------------------------------------------------ requests

ODD = ["", " ", "..", ".", "%", "%zz", "a b", "UPPER", "x" * 300, "\u00e9", "\u2603", "a/b", "a\x00b", "a\nb", "'",
       '"', "<>", "?", "#", "~", "-", "$patch", "\ud800"]
NAMES = [CM, DEP, WIDGET, CRD_NAME, NS, "default", "missing", "kube-system", "fz-new", "sim-node-1"]
PLURALS = sorted({plural for _, plural in KINDS} | {"namespaces", "nodes", "replicasets", "events", "endpoints",
                                                    "serviceaccounts", "roles", "nope"})
PREFIXES = sorted({prefix for prefix, _ in KINDS} | {"/api/v2", "/apis/apps/v9", "/apis/nope.io/v1", "/apis", "/api",
                                                     "/apis/apps", "/openapi/v3", "/openapi/v3/apis/apps/v1",
                                                     "/openapi/v2", "/version", "/healthz", "/", "/nope"})
SUBRESOURCES = ["", "", "", "status", "scale", "finalize", "nope", "status/extra"]


def _segment(choices: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(choices), st.sampled_from(choices), st.sampled_from(ODD), st.text(max_size=12))


def _quote(segment: str) -> str:
    return urllib.parse.quote(segment.encode("utf-8", "surrogatepass"), safe="")


@st.composite
def paths(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(PREFIXES))
    parts: list[str] = []
    if prefix == "/api/v1" or (prefix.startswith("/apis/") and prefix.count("/") == 3):
        if draw(st.integers(0, 3)):
            parts += ["namespaces", draw(_segment([NS, NS, "default", "nope", "Bad_NS"]))]
        parts.append(draw(_segment(PLURALS)))
        if draw(st.integers(0, 3)):
            parts.append(draw(_segment(NAMES)))
            parts += [p for p in draw(st.sampled_from(SUBRESOURCES)).split("/") if p]
    return prefix + "".join("/" + _quote(p) for p in parts) + draw(st.sampled_from(["", "", "", "/", "//"]))


QUERY_VALUES = {
    "limit": ["1", "2", "0", "-1", "abc", "99999999999999999999", "1.5", ""],
    "continue": ["", "abc", "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MSwic3RhcnQiOjV9", "%%%", "e30=",
                 "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6IngiLCJzdGFydCI6ImEvYiJ9"],
    "watch": ["1", "true", "false", "0", "yes", "", "TRUE", "t"],
    "labelSelector": ["app=fz", "app in (fz,x)", "!app", "app", "a in (", "=", "a!=b,c notin (d)", "a==b==c",
                      "in", "a,b,", ")(", "x" * 300, "app=\u2603", "a in (b), c", "a in ()", "a notin"],
    "fieldSelector": ["metadata.name=fz-cm", "metadata.name==x", "metadata.namespace!=default", "spec.nodeName=",
                      "status.phase=Running", "nope=1", "metadata.name", "=", "a=b=c", "metadata.name in (a)", ",",
                      "spec.schedulerName=x", "involvedObject.name=fz-dep"],
    "fieldValidation": ["Strict", "Warn", "Ignore", "", "strict", "nope"],
    "dryRun": ["All", "", "all", "None", "x"],
    "force": ["true", "false", "1", "", "nope"],
    "propagationPolicy": ["Orphan", "Background", "Foreground", "", "nope"],
    "fieldManager": ["fz", "", "kubectl", "x" * 200, "\u2603", "a\x00b", "%ff"],
    "resourceVersion": ["", "0", "1", "-1", "abc", "999999999", "1.5"],
    "resourceVersionMatch": ["NotOlderThan", "Exact", "nope"],
    "includeObject": ["None", "Object", "Metadata", "nope"],
    "orphanDependents": ["true", "false", "nope"],
    "allowWatchBookmarks": ["true", "false", "nope"],
    "sendInitialEvents": ["true", "false", "nope"],
    "gracePeriodSeconds": ["0", "-1", "30", "abc"],
    "timeoutSeconds": ["abc", "-1"],
}


@st.composite
def queries(draw: st.DrawFn, keys: tuple[str, ...] = tuple(sorted(QUERY_VALUES))) -> str:
    chosen = draw(st.lists(st.sampled_from(keys), max_size=4, unique=True))
    pairs = [(k, draw(st.one_of(st.sampled_from(QUERY_VALUES[k]), st.text(max_size=8)))) for k in chosen]
    if draw(st.integers(0, 9)) == 0:
        pairs.append(draw(st.sampled_from([("", "x"), ("limit", "2"), ("%zz", "1"), ("watch", "")])))
    if any(k == "watch" for k, _ in pairs):  # a watch must end by itself, within a second
        pairs = [(k, v) for k, v in pairs if k != "timeoutSeconds"] + [("timeoutSeconds", "1")]
    query = urllib.parse.urlencode([(k, v.encode("utf-8", "surrogatepass")) for k, v in pairs])
    if draw(st.integers(0, 9)) == 0:
        query += draw(st.sampled_from(["&", "&&=", "&a=%ff", "&=x", "&%"]))
    return "?" + query if query else ""


CONTENT_TYPES = [JSON, YAML, MERGE, JSON_PATCH, STRATEGIC, APPLY, PROTOBUF, None, "text/plain", "",
                 "application/json; charset=utf-8", "application/merge-patch+json;charset=x", "a/b;;", "*/*",
                 "application/apply-patch+yaml; charset=utf-8", "APPLICATION/JSON", "application/x+json"]
ACCEPTS = [JSON, "application/json;as=Table;v=v1;g=meta.k8s.io", "application/json;as=Table;v=v1;g=meta.k8s.io,"
           "application/json", YAML, PROTOBUF, "*/*", "", "application/json;g=apidiscovery.k8s.io;v=v2;as="
           "APIGroupDiscoveryList", "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList",
           "text/html", "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io"]
USER_AGENTS = ["kubectl/v1.32.4 (linux/amd64)", "OpenAPI-Generator/37.0.2/python", "", "\u2603/1", "a" * 300,
               "x\ty/1", "\udcff/1"]


@dataclass
class Request:
    method: str
    target: str
    content_type: str | None
    body: bytes | None
    accept: str = JSON
    user_agent: str = "fuzz/1"

    def headers(self) -> dict[str, str]:
        out = {"Accept": self.accept, "User-Agent": self.user_agent}
        if self.content_type is not None:
            out["Content-Type"] = self.content_type
        return {k: v for k, v in out.items() if v}


def _deletes_namespaces(method: str, target: str) -> bool:
    """Deleting a namespace legitimately ends the run (later creates in it fail), so the fuzz does not."""
    parts = [p for p in urllib.parse.unquote(target.split("?", 1)[0]).split("/") if p]
    if method != "DELETE" or "namespaces" not in parts:
        return False
    after = parts[parts.index("namespaces") + 1:]
    return not (len(after) >= 2 and after[1] in PLURALS)


def _base_for(target: str) -> dict:
    for (prefix, plural), obj in KINDS.items():
        if target.startswith(prefix) and f"/{plural}" in target:
            return obj
    return CM_OBJ


@st.composite
def any_requests(draw: st.DrawFn) -> Request:
    method = draw(st.sampled_from(["GET", "GET", "POST", "PUT", "PATCH", "PATCH", "PATCH", "DELETE", "HEAD",
                                   "OPTIONS", "TRACE"]))
    target = draw(paths()) + draw(queries())
    if _deletes_namespaces(method, target):
        method = "GET"
    content_type = draw(st.sampled_from(CONTENT_TYPES))
    if method == "PATCH" and draw(st.booleans()):
        content_type = draw(st.sampled_from(PATCH_TYPES))
    return Request(method, target, content_type, draw(bodies(_base_for(target), content_type)),
                   draw(st.sampled_from(ACCEPTS)), draw(st.sampled_from(USER_AGENTS)))


def run(client: Client, req: Request) -> Answer:
    ensure_seed(client)
    answer = client.send(req.method, req.target, req.body, req.headers())
    check_answer(req.method, req.target, answer)
    check_store(client)
    return answer


# ------------------------------------------------------------------------------------------------ the tests


@fuzz_settings(250)
@given(req=any_requests())
def test_fuzz_any_request(fuzz: Client, req: Request) -> None:
    run(fuzz, req)


EXISTING = [(prefix, plural, obj) for (prefix, plural), obj in SEED.items()] + [
    ("/apis/apiextensions.k8s.io/v1", "customresourcedefinitions", CRD)]
WRITE_QUERIES = ["", "?fieldManager=fz", "?fieldManager=fz&force=true", "?dryRun=All&fieldManager=x",
                 "?fieldValidation=Strict&fieldManager=fz", "?fieldManager=other&fieldValidation=Ignore"]


@st.composite
def writes(draw: st.DrawFn) -> Request:
    """PUT, POST and the four PATCH types on the seeded objects (or missing ones), with bodies shaped like them."""
    prefix, plural, base = draw(st.sampled_from(EXISTING))
    name = draw(st.sampled_from([base["metadata"]["name"]] * 3 + ["fz-new"]))
    namespace = "" if plural == "customresourcedefinitions" else f"/namespaces/{NS}"
    sub = draw(st.sampled_from(["", "", "", "", "/status", "/scale"]))
    method = draw(st.sampled_from(["PUT", "PATCH", "PATCH", "PATCH", "PATCH", "POST"]))
    path = f"{prefix}{namespace}/{plural}" + ("" if method == "POST" else f"/{name}{sub}")
    base = {"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {"name": name},
            "spec": {"replicas": 2}} if sub == "/scale" else base
    content_type = draw(st.sampled_from(PATCH_TYPES)) if method == "PATCH" else draw(st.sampled_from([JSON, YAML]))
    if content_type == JSON_PATCH:
        body = json.dumps(draw(json_patches(base))).encode()
    elif content_type == APPLY and draw(st.integers(0, 4)) == 0:
        body = draw(st.sampled_from(YAML_TEXTS)).encode()
    else:
        value = draw(partial(base) if method == "PATCH" and content_type != APPLY else mutated(base))
        if content_type == APPLY and isinstance(value, dict) and draw(st.integers(0, 3)) == 0:
            value.pop(draw(st.sampled_from(["apiVersion", "kind"])), None)
        body = encode(draw, value, content_type in (YAML, APPLY))
    return Request(method, path + draw(st.sampled_from(WRITE_QUERIES)), content_type, body)


@fuzz_settings(300)
@given(req=writes())
def test_fuzz_writes_to_existing_objects(fuzz: Client, req: Request) -> None:
    run(fuzz, req)


@dataclass
class NewObject:
    collection: str
    name: str
    body: bytes
    delete_query: str
    update: Request  # then a PUT or PATCH of the new object


@st.composite
def new_objects(draw: st.DrawFn) -> NewObject:
    (prefix, plural), base = draw(st.sampled_from(sorted(KINDS.items(), key=str)))
    namespace = "" if plural == "customresourcedefinitions" else f"/namespaces/{NS}"
    name = base["metadata"]["name"] + "-" + draw(st.sampled_from("abc"))
    if plural == "customresourcedefinitions":
        name = draw(st.sampled_from(["gadgets.fuzz.example.com", "things.other.example.com"]))
        base = copy.deepcopy(base)
        base["spec"]["names"] = {"plural": name.split(".", 1)[0], "kind": name.split(".", 1)[0].capitalize()}
        base["spec"]["group"] = name.split(".", 1)[1]
    base = {**base, "metadata": {**base["metadata"], "name": name}}
    collection = f"{prefix}{namespace}/{plural}"
    content_type = draw(st.sampled_from([*PATCH_TYPES, JSON]))
    if content_type == JSON_PATCH:
        update = json.dumps(draw(json_patches(base))).encode()
    else:
        update = encode(draw, draw(mutated(base) if content_type in (JSON, APPLY) else partial(base)),
                        content_type == APPLY)
    sub = draw(st.sampled_from(["", "", "", "/status", "/scale"]))
    return NewObject(collection, name, encode(draw, draw(mutated(base)), False),
                     draw(st.sampled_from(["", "?propagationPolicy=Foreground", "?propagationPolicy=Orphan"])),
                     Request("PUT" if content_type == JSON else "PATCH",
                             f"{collection}/{name}{sub}?fieldManager=fz" + draw(st.sampled_from(["", "&force=1"])),
                             content_type, update))


@fuzz_settings(200)
@given(new=new_objects())
def test_fuzz_creates_and_updates_of_every_kind(fuzz: Client, new: NewObject) -> None:
    """Mutated objects of every kind, created (after deleting the previous one) then updated: controllers act on
    them in the background."""
    ensure_seed(fuzz)
    check_answer("DELETE", new.collection, fuzz.send("DELETE", f"{new.collection}/{new.name}{new.delete_query}"))
    run(fuzz, Request("POST", new.collection, JSON, new.body))
    run(fuzz, new.update)


@fuzz_settings(25)
@given(query=queries(("watch", "watch", "labelSelector", "fieldSelector", "resourceVersion", "limit", "continue",
                      "allowWatchBookmarks", "sendInitialEvents", "includeObject", "timeoutSeconds")),
       namespaced=st.booleans(), plural=st.sampled_from(["configmaps", "deployments", "widgets", "pods", "events"]),
       table=st.booleans())
def test_fuzz_list_and_watch_queries(fuzz: Client, query: str, namespaced: bool, plural: str, table: bool) -> None:
    prefix = {"deployments": "/apis/apps/v1", "widgets": "/apis/fuzz.example.com/v1"}.get(plural, "/api/v1")
    where = f"/namespaces/{NS}" if namespaced else ""
    run(fuzz, Request("GET", f"{prefix}{where}/{plural}{query}", None, None,
                      ACCEPTS[1] if table else JSON))
