"""Property-based differential test: random small repositories built by Fleetline and by `kubectl kustomize`.

Hypothesis generates a base (1-4 objects of common kinds, sometimes generators), an overlay using a random mix of
kustomize's transformers, generators, patches and replacements, and sometimes a component or a second overlay
level. Names, labels and values come from tiny alphabets so that references collide as they do in real
repositories (a Deployment's envFrom naming the generated ConfigMap, an HPA scaling the Deployment, patches
whose targets exist or, now and then, do not).

For every example: when kustomize fails, Fleetline must fail with a RenderError (messages are not compared);
when it succeeds, Fleetline's objects must equal kustomize's parsed output, in order, and `to_yaml` must print
kustomize's stdout byte for byte.

CI runs a fixed, derandomized set of examples. To hunt for bugs, run many random ones:

    FLEETLINE_FUZZ_EXAMPLES=500 .venv/bin/pytest -q --timeout 0 tests/hub/render/test_oracle_fuzz.py

(`--timeout 0`: pytest-timeout would otherwise stop a long run mid-example, which hypothesis reports as
FlakyStrategyDefinition.)

Left out of the generator (known, accepted differences in docs/rendering.md): quoted numbers patched with plain
numbers, floats such as `1.50`, unquoted dates, YAML 1.1 booleans in kustomization files, numeric names.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from fleetline.yamlsafe import load_all
from tests.hub.render.conftest import (
    KUBECTL,
    NO_KUBECTL,
    assert_same_output,
    fleetline_render,
    run_kustomize,
    write_tree,
)

_EXAMPLES = int(os.environ.get("FLEETLINE_FUZZ_EXAMPLES", "0"))
_SETTINGS = settings(
    max_examples=_EXAMPLES or 40,
    deadline=None,
    derandomize=not _EXAMPLES,
    database=None,
    print_blob=bool(_EXAMPLES),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Small alphabets: names and labels collide on purpose.
NAMES = ["web", "api", "db"]
CM_NAMES = ["cfg", "env", "web"]
SECRET_NAMES = ["creds", "tls", "web"]
LABEL_KEYS = ["app", "tier", "team"]
LABEL_VALUES = ["web", "api", "a", "b"]
ANNOTATION_KEYS = ["note", "owner", "example.com/rev"]
IMAGES = ["nginx", "nginx:1.25", "busybox:1.36", "ghcr.io/acme/app:v1", "nginx@sha256:" + "a" * 64]
IMAGE_NAMES = ["nginx", "busybox", "ghcr.io/acme/app"]
DATA_KEYS = ["A", "B", "url"]
DATA_VALUES = ["x", "y", "http://h:80", "two words"]
NAMESPACES = ["prod", "dev", "default"]

names = st.sampled_from(NAMES)
label_keys = st.sampled_from(LABEL_KEYS)
label_values = st.sampled_from(LABEL_VALUES)
small_labels = st.dictionaries(label_keys, label_values, max_size=2)
data_maps = st.dictionaries(st.sampled_from(DATA_KEYS), st.sampled_from(DATA_VALUES), min_size=1, max_size=2)


def _dump(doc: object) -> str:
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)


def _dump_all(docs: list[object]) -> str:
    return yaml.safe_dump_all(docs, sort_keys=False, default_flow_style=False)


def _meta(name: str, labels: dict[str, str]) -> dict:
    meta: dict = {"name": name}
    if labels:
        meta["labels"] = dict(labels)
    return meta


@st.composite
def pod_specs(draw: st.DrawFn, name: str) -> dict:
    container: dict = {"name": draw(st.sampled_from([name, "main"])), "image": draw(st.sampled_from(IMAGES))}
    if draw(st.booleans()):
        container["envFrom"] = [{"configMapRef": {"name": draw(st.sampled_from(CM_NAMES))}}]
    if draw(st.booleans()):
        container["env"] = [{"name": "PASSWORD", "valueFrom": {"secretKeyRef": {
            "name": draw(st.sampled_from(SECRET_NAMES)), "key": "password"}}}]
    spec: dict = {"containers": [container]}
    if draw(st.booleans()):
        spec["volumes"] = [{"name": "conf", "configMap": {"name": draw(st.sampled_from(CM_NAMES))}}]
    if draw(st.booleans()):
        spec["serviceAccountName"] = draw(names)
    if draw(st.integers(0, 3)) == 0:
        spec["initContainers"] = [{"name": "init", "image": draw(st.sampled_from(IMAGES))}]
    return spec


@st.composite
def workloads(draw: st.DrawFn, kind: str) -> dict:
    name = draw(names)
    pod_labels = {"app": name} | draw(small_labels)
    template = {"metadata": {"labels": pod_labels}, "spec": draw(pod_specs(name))}
    meta = _meta(name, draw(small_labels))
    if kind == "CronJob":
        template["spec"]["restartPolicy"] = "OnFailure"
        return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta,
                "spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": template}}}}
    if kind == "Job":
        template["spec"]["restartPolicy"] = "Never"
        return {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": {"template": template}}
    spec: dict = {"selector": {"matchLabels": {"app": name}}, "template": template}
    if kind != "DaemonSet" and draw(st.booleans()):
        spec = {"replicas": draw(st.integers(1, 3))} | spec
    if kind == "StatefulSet":
        spec["serviceName"] = draw(names)
        if draw(st.booleans()):
            spec["volumeClaimTemplates"] = [{"metadata": {"name": "data"}, "spec": {
                "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": meta, "spec": spec}


@st.composite
def simple_objects(draw: st.DrawFn, kind: str) -> dict:
    labels = draw(small_labels)
    if kind == "Service":
        name = draw(names)
        return {"apiVersion": "v1", "kind": "Service", "metadata": _meta(name, labels), "spec": {
            "selector": {"app": draw(names)}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}
    if kind == "ConfigMap":
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(draw(st.sampled_from(CM_NAMES)), labels),
                "data": draw(data_maps)}
    if kind == "Secret":
        return {"apiVersion": "v1", "kind": "Secret",
                "metadata": _meta(draw(st.sampled_from(SECRET_NAMES)), labels),
                "type": "Opaque", "stringData": {"password": draw(st.sampled_from(DATA_VALUES))}}
    if kind == "ServiceAccount":
        return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(draw(names), labels)}
    if kind == "ClusterRoleBinding":
        return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": _meta(draw(names), labels),
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
                "subjects": [{"kind": "ServiceAccount", "name": draw(names), "namespace": draw(
                    st.sampled_from(NAMESPACES))}]}
    if kind == "RoleBinding":
        subjects = [{"kind": "ServiceAccount", "name": draw(names)}]
        if draw(st.booleans()):
            subjects.append({"kind": "ServiceAccount", "name": draw(names), "namespace": draw(
                st.sampled_from(NAMESPACES))})
        return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                "metadata": _meta(draw(names), labels),
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
                "subjects": subjects}
    if kind == "HorizontalPodAutoscaler":
        return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                "metadata": _meta(draw(names), labels), "spec": {
                    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": draw(st.sampled_from(
                        ["Deployment", "StatefulSet"])), "name": draw(names)},
                    "minReplicas": 1, "maxReplicas": draw(st.integers(2, 5))}}
    if kind == "Ingress":
        return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": _meta(draw(names), labels),
                "spec": {"rules": [{"host": "x.example.com", "http": {"paths": [{
                    "path": "/", "pathType": "Prefix",
                    "backend": {"service": {"name": draw(names), "port": {"number": 80}}}}]}}]}}
    if kind == "PersistentVolumeClaim":
        return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": _meta(draw(names), labels),
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "5Gi"}}}}
    assert kind == "Widget"
    return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": _meta(draw(names), labels),
            "spec": {"size": draw(st.integers(1, 3)), "configRef": draw(st.sampled_from(CM_NAMES)),
                     "image": draw(st.sampled_from(IMAGES))}}


KINDS = ["Deployment", "StatefulSet", "CronJob", "Service", "ConfigMap", "Secret", "ServiceAccount", "RoleBinding",
         "HorizontalPodAutoscaler", "Ingress", "PersistentVolumeClaim", "Widget", "DaemonSet", "Job",
         "ClusterRoleBinding"]


@st.composite
def objects(draw: st.DrawFn) -> dict:
    kind = draw(st.sampled_from(KINDS))
    workload = kind in ("Deployment", "StatefulSet", "CronJob", "DaemonSet", "Job")
    obj = draw(workloads(kind)) if workload else draw(simple_objects(kind))
    if draw(st.integers(0, 5)) == 0:
        obj["metadata"]["namespace"] = draw(st.sampled_from(NAMESPACES))
    if draw(st.integers(0, 4)) == 0:
        obj["metadata"]["annotations"] = {draw(st.sampled_from(ANNOTATION_KEYS)): draw(st.sampled_from(["x", "b"]))}
    return obj


@st.composite
def generator_entries(draw: st.DrawFn, secret: bool, existing: set[str]) -> dict:
    """One generator entry; `existing` holds the names generated below (merge/replace mostly target those)."""
    pool = SECRET_NAMES if secret else CM_NAMES
    name = draw(st.sampled_from(pool))
    entry: dict = {"name": name}
    if name in existing or draw(st.integers(0, 24)) == 0:
        behavior = draw(st.sampled_from(["merge", "merge", "replace", "create"] if name in existing
                                        else ["merge", "replace"]))
        entry["behavior"] = behavior
    entry["literals"] = [f"{k}={v}" for k, v in draw(data_maps).items()]
    if draw(st.integers(0, 4)) == 0:
        entry["options"] = {"disableNameSuffixHash": True}
    if draw(st.integers(0, 4)) == 0:
        entry.setdefault("options", {})["labels"] = draw(small_labels) or {"gen": "yes"}
    return entry


def _generators(draw: st.DrawFn, kustomization: dict, known: set[tuple[str, str]]) -> None:
    """Adds generators to `kustomization`; `known` holds the (kind, name) pairs generated so far, updated."""
    for field, kind, secret, chance in (("configMapGenerator", "ConfigMap", False, 2),
                                        ("secretGenerator", "Secret", True, 3)):
        if draw(st.integers(0, chance - 1)) != 0:
            continue
        existing = {name for k, name in known if k == kind}
        entries = draw(st.lists(generator_entries(secret, existing), min_size=1, max_size=2,
                                unique_by=lambda entry: entry["name"]))
        for entry in entries:
            if draw(st.integers(0, 3)) == 0:
                entry["files"] = [draw(st.sampled_from(["app.properties", "KEY=config.txt"]))]
        kustomization[field] = entries
        known.update((kind, entry["name"]) for entry in entries)
    if (kustomization.get("configMapGenerator") or kustomization.get("secretGenerator")) and draw(
            st.integers(0, 3)) == 0:
        kustomization["generatorOptions"] = draw(st.sampled_from([
            {"disableNameSuffixHash": True}, {"labels": {"gen": "opt"}}, {"annotations": {"note": "gen"}}]))


TARGET_KINDS = ["Deployment", "StatefulSet", "ConfigMap", "Service", "Widget", "CronJob"]


@st.composite
def targets(draw: st.DrawFn) -> dict:
    target: dict = {}
    if draw(st.booleans()):
        target["kind"] = draw(st.sampled_from(TARGET_KINDS))
    if draw(st.booleans()):
        target["name"] = draw(st.sampled_from([*NAMES, *CM_NAMES, "w.*", ".*"]))
    if draw(st.integers(0, 2)) == 0:
        target["labelSelector"] = draw(st.sampled_from([
            f"{draw(label_keys)}={draw(label_values)}", f"{draw(label_keys)}!={draw(label_values)}",
            f"{draw(label_keys)} in ({draw(label_values)}, {draw(label_values)})", draw(label_keys)]))
    if draw(st.integers(0, 5)) == 0:
        target["annotationSelector"] = f"{draw(st.sampled_from(ANNOTATION_KEYS))}=x"
    if draw(st.integers(0, 5)) == 0:
        target["group"] = draw(st.sampled_from(["apps", "", "example.com"]))
    return target or {"kind": "Deployment"}


@st.composite
def smp_bodies(draw: st.DrawFn, kind: str, name: str) -> dict:
    api = {"Deployment": "apps/v1", "StatefulSet": "apps/v1", "CronJob": "batch/v1", "Widget": "example.com/v1"}
    body: dict = {"apiVersion": api.get(kind, "v1"), "kind": kind, "metadata": {"name": name}}
    choice = draw(st.sampled_from(["labels", "annotations", "replicas", "container", "data", "delete",
                                    "template"]))
    if choice == "labels":
        body["metadata"]["labels"] = draw(small_labels) or {"patched": "yes"}
    elif choice == "annotations":
        body["metadata"]["annotations"] = {draw(st.sampled_from(ANNOTATION_KEYS)): "patched"}
    elif choice == "replicas" and kind in ("Deployment", "StatefulSet"):
        body["spec"] = {"replicas": draw(st.integers(0, 4))}
    elif choice == "template" and kind in ("Deployment", "StatefulSet"):
        body["spec"] = {"template": {"metadata": {"labels": draw(small_labels) or {"tier": "b"}}}}
    elif choice == "container" and kind in ("Deployment", "StatefulSet"):
        container = {"name": draw(st.sampled_from([*NAMES, "main", "sidecar"])),
                     "image": draw(st.sampled_from(IMAGES))}
        if draw(st.booleans()):
            container["env"] = [{"name": "MODE", "value": draw(st.sampled_from(DATA_VALUES))}]
        body["spec"] = {"template": {"spec": {"containers": [container]}}}
    elif choice == "data" and kind == "ConfigMap":
        body["data"] = draw(data_maps)
    elif choice == "delete" and draw(st.integers(0, 2)) == 0:
        body["$patch"] = "delete"
    else:
        body["metadata"]["annotations"] = {"patched": "yes"}
    return body


@st.composite
def json_ops(draw: st.DrawFn) -> list:
    op = draw(st.sampled_from(["add-label", "add-annotation", "replace-replicas", "remove-labels", "add-env",
                               "replace-image", "test-fail", "replace-label"]))
    if op == "add-label":
        return [{"op": "add", "path": f"/metadata/labels/{draw(label_keys)}", "value": draw(label_values)}]
    if op == "add-annotation":
        return [{"op": "add", "path": "/metadata/annotations", "value": {"j": "1x"}}]
    if op == "replace-label":
        return [{"op": "replace", "path": f"/metadata/labels/{draw(label_keys)}", "value": draw(label_values)}]
    if op == "replace-replicas":
        return [{"op": "replace", "path": "/spec/replicas", "value": draw(st.integers(0, 4))}]
    if op == "remove-labels":
        return [{"op": "remove", "path": "/metadata/labels"}]
    if op == "add-env":
        return [{"op": "add", "path": "/spec/template/spec/containers/0/env/-",
                 "value": {"name": "J", "value": "v"}}]
    if op == "replace-image":
        return [{"op": "replace", "path": "/spec/template/spec/containers/0/image",
                 "value": draw(st.sampled_from(IMAGES))}]
    return [{"op": "test", "path": "/kind", "value": "Nope"}]


@st.composite
def patches(draw: st.DrawFn, pool: list[tuple[str, str]], style: str = "") -> dict:
    style = style or draw(st.sampled_from(["smp-untargeted", "smp-targeted", "json"]))
    if style == "json":
        ops = draw(json_ops())
        return {"target": draw(targets()), "patch": _dump(ops)}
    candidates = [(kind, name) for kind, name in pool if kind in TARGET_KINDS]
    if candidates and draw(st.integers(0, 5)):
        kind, name = draw(st.sampled_from(candidates))
    else:
        kind, name = draw(st.sampled_from(TARGET_KINDS)), draw(st.sampled_from([*NAMES, *CM_NAMES]))
    body = draw(smp_bodies(kind, name))
    entry: dict = {"patch": _dump(body)}
    if style == "smp-targeted":
        entry["target"] = draw(targets())
    return entry


@st.composite
def replacements(draw: st.DrawFn, pool: list[tuple[str, str]]) -> dict:
    candidates = [(kind, name) for kind, name in pool if kind in ("ConfigMap", "Deployment", "Service")]
    if candidates and draw(st.integers(0, 5)):
        source_kind, source_name = draw(st.sampled_from(candidates))
    else:
        source_kind, source_name = draw(st.sampled_from(["ConfigMap", "Deployment", "Service"])), draw(names)
    if source_kind == "ConfigMap":
        source = {"kind": "ConfigMap", "name": source_name,
                  "fieldPath": f"data.{draw(st.sampled_from(DATA_KEYS))}"}
    elif source_kind == "Deployment":
        source = {"kind": "Deployment", "name": source_name,
                  "fieldPath": draw(st.sampled_from(["metadata.name", "spec.template.spec.containers.0.image"]))}
    else:
        source = {"kind": "Service", "name": source_name, "fieldPath": "metadata.name"}
    if draw(st.integers(0, 3)) == 0:
        source["options"] = {"delimiter": ":", "index": draw(st.integers(0, 1))}
    select: dict = {"kind": draw(st.sampled_from(["Deployment", "ConfigMap", "Widget", "StatefulSet"]))}
    if draw(st.booleans()):
        select["name"] = draw(names)
    field = draw(st.sampled_from(["metadata.annotations.copied", "spec.template.spec.containers.0.image",
                                  "spec.template.spec.containers.[name=main].image", "data.A", "spec.image",
                                  "metadata.labels.app"]))
    target: dict = {"select": select, "fieldPaths": [field]}
    if draw(st.integers(0, 2)) == 0:
        target["options"] = {"create": True}
    if draw(st.integers(0, 3)) == 0:
        target["reject"] = [{"name": draw(names)}]
    return {"source": source, "targets": [target]}


@st.composite
def transformers(draw: st.DrawFn, kustomization: dict, known: set[tuple[str, str]]) -> None:
    """Adds a random selection of transformer fields to `kustomization`; `known` holds the (kind, name) of the
    objects below it, which replicas, patches and replacements mostly refer to."""
    pool = sorted(known)
    if draw(st.integers(0, 2)) == 0:
        kustomization["namespace"] = draw(st.sampled_from(NAMESPACES))
    if draw(st.integers(0, 2)) == 0:
        kustomization["namePrefix"] = draw(st.sampled_from(["p-", "eu-"]))
    if draw(st.integers(0, 3)) == 0:
        kustomization["nameSuffix"] = draw(st.sampled_from(["-s", "-v2"]))
    if draw(st.integers(0, 2)) == 0:
        kustomization["commonLabels"] = draw(small_labels) or {"env": "prod"}
    if draw(st.integers(0, 2)) == 0:
        entry: dict = {"pairs": draw(small_labels) or {"env": "dev"}}
        if draw(st.booleans()):
            entry["includeSelectors"] = draw(st.booleans())
        if draw(st.booleans()):
            entry["includeTemplates"] = draw(st.booleans())
        kustomization["labels"] = [entry]
    if draw(st.integers(0, 2)) == 0:
        kustomization["commonAnnotations"] = {draw(st.sampled_from(ANNOTATION_KEYS)): draw(st.sampled_from(
            ["x", "team a", "1x"]))}
    if draw(st.integers(0, 2)) == 0:
        image: dict = {"name": draw(st.sampled_from(IMAGE_NAMES))}
        for field in draw(st.lists(st.sampled_from(["newName", "newTag", "digest"]), min_size=1, max_size=2,
                                   unique=True)):
            image[field] = {"newName": draw(st.sampled_from(["registry.local/nginx", "mirror/app"])),
                            "newTag": draw(st.sampled_from(["2.0", "v3"])),
                            "digest": "sha256:" + "b" * 64}[field]
        kustomization["images"] = [image]
    if draw(st.integers(0, 3)) == 0 and (any(kind in ("Deployment", "StatefulSet") for kind, _ in pool)
                                        or draw(st.integers(0, 4)) == 0):
        workloads_known = [name for kind, name in pool if kind in ("Deployment", "StatefulSet")]
        replica_name = draw(st.sampled_from(workloads_known)) if workloads_known and draw(
            st.integers(0, 4)) else draw(names)
        kustomization["replicas"] = [{"name": replica_name, "count": draw(st.integers(0, 5))}]
    if draw(st.integers(0, 2)) == 0:
        kustomization["patches"] = draw(st.lists(patches(pool), min_size=1, max_size=2))
    if draw(st.integers(0, 3)) == 0:
        kustomization["replacements"] = draw(st.lists(replacements(pool), min_size=1, max_size=1))
    if draw(st.integers(0, 6)) == 0:
        kustomization["patchesStrategicMerge"] = [draw(patches(pool, "smp-untargeted"))["patch"]]
    if draw(st.integers(0, 6)) == 0:
        legacy = draw(patches(pool, "json"))
        target = {"version": "v1", "kind": "Deployment", "name": draw(names)} | legacy["target"]
        target.pop("labelSelector", None)
        target.pop("annotationSelector", None)
        kustomization["patchesJson6902"] = [{"target": target, "patch": legacy["patch"]}]
    if kustomization.get("kind") != "Component" and draw(st.integers(0, 8)) == 0:
        kustomization["sortOptions"] = {"order": "fifo"}


@st.composite
def repositories(draw: st.DrawFn) -> tuple[dict[str, str], str]:
    """A repository (path -> text) and the directory to build."""
    files: dict[str, str] = {}
    base_objects = draw(st.lists(objects(), min_size=1, max_size=4,
                                 unique_by=lambda obj: (obj["kind"], obj["metadata"]["name"])))
    base: dict = {"resources": ["objects.yaml"]}
    files["base/objects.yaml"] = _dump_all(base_objects)
    known: set[tuple[str, str]] = {(obj["kind"], obj["metadata"]["name"]) for obj in base_objects}
    _generators(draw, base, known)
    if draw(st.booleans()):
        draw(transformers(base, known))
    files["base/kustomization.yaml"] = _dump(base)

    overlay: dict = {"resources": ["../base"]}
    if draw(st.integers(0, 3)) == 0:
        extra = draw(objects())
        files["overlay/extra.yaml"] = _dump(extra)
        known.add((extra["kind"], extra["metadata"]["name"]))
        overlay["resources"].append("extra.yaml")
    _generators(draw, overlay, known)
    draw(transformers(overlay, known))
    if draw(st.integers(0, 3)) == 0:
        component: dict = {"apiVersion": "kustomize.config.k8s.io/v1alpha1", "kind": "Component"}
        _generators(draw, component, known)
        draw(transformers(component, known))
        files["component/kustomization.yaml"] = _dump(component)
        overlay["components"] = ["../component"]
    files["overlay/kustomization.yaml"] = _dump(overlay)
    build = "overlay"
    if draw(st.integers(0, 3)) == 0:
        top: dict = {"resources": ["../overlay"]}
        _generators(draw, top, known)
        draw(transformers(top, known))
        files["top/kustomization.yaml"] = _dump(top)
        build = "top"
    for directory in ("base", "overlay", "component", "top"):
        if f"{directory}/kustomization.yaml" in files:
            files[f"{directory}/app.properties"] = f"mode={directory}\nlevel: 2\n"
            files[f"{directory}/config.txt"] = f"from {directory}\n"
    return files, build


@pytest.mark.kubectl
@pytest.mark.skipif(KUBECTL is None, reason=NO_KUBECTL)
@_SETTINGS
@given(repositories())
def test_random_repository_renders_like_kustomize(repository: tuple[dict[str, str], str]) -> None:
    from hub.render.emit import to_yaml
    from hub.render.errors import RenderError

    files, build = repository
    with tempfile.TemporaryDirectory(prefix="fleetline-fuzz-") as tmp:
        root = write_tree(Path(tmp), files)
        oracle = run_kustomize(root / build)
        event("kustomize fails" if not oracle.ok else "kustomize succeeds")
        # failures are AssertionErrors (pytest.fail's exception is a BaseException, which hypothesis would not
        # shrink) and show the repository
        shown = "\n".join(f"--- {path}\n{body}" for path, body in files.items())
        if not oracle.ok:
            try:
                rendered = fleetline_render(root, build)
            except RenderError:
                return
            raise AssertionError(f"kustomize failed but Fleetline rendered {len(rendered)} objects; kustomize "
                                 f"said:\n{oracle.stderr}\nrepository (build {build}):\n{shown}")
        actual = fleetline_render(root, build)
        expected = load_all(oracle.stdout, "kubectl kustomize")
        try:
            assert_same_output(expected, actual, f"a generated repository (build {build})")
        except pytest.fail.Exception as exc:
            raise AssertionError(f"{exc}\nrepository (build {build}):\n{shown}") from None
        assert to_yaml(actual) == oracle.stdout, f"same objects, different text; repository:\n{shown}"
