"""Output order (kustomize's legacy sort and sortOptions) and YAML printing, checked against `kubectl kustomize`."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from fleetline.yamlsafe import load_all
from hub.render.emit import format_float, resolves_to_non_string, sorted_keys, to_yaml
from hub.render.errors import RenderError
from hub.render.order import legacy_sorted, sort_resources
from hub.render.resource import Resource

needs_kubectl = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not on PATH: no kustomize oracle")


def kustomize(directory: Path) -> str:
    done = subprocess.run(["kubectl", "kustomize", str(directory)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def oracle_print(tmp_path: Path, objects: list[dict]) -> tuple[str, list]:
    """kustomize's printing of `objects` (kept in order), and the objects as our loader reads them."""
    stream = "\n---\n".join(json.dumps(obj, ensure_ascii=False) for obj in objects)
    (tmp_path / "objects.yaml").write_text(stream, encoding="utf-8")
    (tmp_path / "kustomization.yaml").write_text("resources: [objects.yaml]\nsortOptions: {order: fifo}\n")
    return kustomize(tmp_path), load_all(stream, "objects.yaml")


def res(api_version: str, kind: str, name: str, namespace: str = "") -> Resource:
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    return Resource(obj={"apiVersion": api_version, "kind": kind, "metadata": meta}, origin="test.yaml")


def names(resources: list[Resource]) -> list[str]:
    return [f"{r.kind}/{r.namespace}/{r.name}" for r in resources]


# -- order ------------------------------------------------------------------------------------------------

def test_legacy_order_kinds_then_gvk_then_namespace_and_name():
    items = [res("apps/v1", "Deployment", "b", "x"), res("v1", "Service", "s"), res("v1", "Namespace", "ns"),
             res("apps/v1", "Deployment", "a", "y"), res("apps/v1", "Deployment", "c", "x"),
             res("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "w"),
             res("example.com/v1", "Widget", "w"), res("batch/v1", "Job", "j")]
    assert names(sort_resources(items, None)) == [
        "Namespace//ns", "Service//s", "Deployment/x/b", "Deployment/x/c", "Deployment/y/a", "Job//j",
        "Widget//w", "ValidatingWebhookConfiguration//w"]


def test_legacy_tie_break_is_the_joined_namespace_and_name_string():
    # kustomize compares "ab|x" with "a|x" as strings: '|' sorts after letters, so "ab" comes first.
    items = [res("v1", "ConfigMap", "x", "a"), res("v1", "ConfigMap", "x", "ab"), res("v1", "ConfigMap", "y")]
    assert names(legacy_sorted(items, ("ConfigMap",), ())) == ["ConfigMap/ab/x", "ConfigMap/a/x", "ConfigMap//y"]


def test_core_namespace_sorts_before_other_groups_namespaces():
    items = [res("x.io/v1", "Namespace", "a"), res("v1", "Namespace", "b")]
    assert [r.api_version for r in sort_resources(items, None)] == ["v1", "x.io/v1"]


def test_sort_options():
    items = [res("v1", "Service", "s"), res("v1", "Namespace", "n"), res("v1", "Pod", "p")]
    assert names(sort_resources(items, {"order": "fifo"})) == names(items)
    custom = {"order": "legacy", "legacySortOptions": {"orderFirst": ["Pod"], "orderLast": ["Namespace"]}}
    assert names(sort_resources(items, custom)) == ["Pod//p", "Service//s", "Namespace//n"]
    with pytest.raises(RenderError, match=r"must be one of \[fifo, legacy\], found 'random'") as info:
        sort_resources(items, {"order": "random"}, "k.yaml")
    assert info.value.field == "sortOptions.order"
    with pytest.raises(RenderError, match="selected sort order is 'fifo'"):
        sort_resources(items, {"order": "fifo", "legacySortOptions": {"orderFirst": []}}, "k.yaml")


KINDS = ["Namespace", "ResourceQuota", "StorageClass", "CustomResourceDefinition", "ServiceAccount",
         "PodSecurityPolicy", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding", "ConfigMap", "Secret",
         "Endpoints", "Service", "LimitRange", "PriorityClass", "PersistentVolume", "PersistentVolumeClaim",
         "Deployment", "StatefulSet", "CronJob", "PodDisruptionBudget", "MutatingWebhookConfiguration",
         "ValidatingWebhookConfiguration", "Ingress", "Job", "DaemonSet", "HorizontalPodAutoscaler", "Pod", "Widget"]


def many_kinds() -> list[dict]:
    objects = []
    for index, kind in enumerate(reversed(KINDS * 2)):
        meta = {"name": f"{kind.lower()}-{index % 7}", "namespace": f"ns{index % 3}"}
        group = "" if index % 4 else "example.com/"
        objects.append({"apiVersion": f"{group}v1", "kind": kind, "metadata": meta})
    return objects


@needs_kubectl
@pytest.mark.parametrize("sort_options", [None, {"order": "fifo"}, {"order": "legacy"},
                                          {"order": "legacy", "legacySortOptions": {"orderFirst": ["Widget", "Pod"],
                                                                                   "orderLast": ["Namespace"]}}])
def test_order_equals_kustomize(tmp_path, sort_options):
    objects = many_kinds()
    (tmp_path / "objects.yaml").write_text("\n---\n".join(json.dumps(o) for o in objects))
    kustomization = {"resources": ["objects.yaml"], **({"sortOptions": sort_options} if sort_options else {})}
    (tmp_path / "kustomization.yaml").write_text(json.dumps(kustomization))
    expected = load_all(kustomize(tmp_path), "kustomize")
    mine = sort_resources([Resource(obj=o, origin="objects.yaml") for o in objects], sort_options)
    assert [r.obj for r in mine] == expected


# -- emit ----------------------------------------------------------------------------------------------------

TRICKY = ["yes", "y", "on", "Off", "n", "", "0123", "12", "1_000", "1.5", "1e3", ".5", ".inf", "1e400", "2024-01-01",
          "2024-02-30", "2001-12-14T21:59:43.10-05:00", "2001-12-14 21:59:43.10", "1:20", "190:20:30", "0x1F",
          "0b101", "0o17", "+1", "-", ".", "1.", "null", "~", "a: b", "*", "- x", "a #b", " lead", "trail ", "it's",
          'say "hi"', "@x", "`x", "!x", "%x", "&x", "{x}", "[x]", "a, b", "?x", "|x", ">x", "=", "<<",
          "line1\nline2\n", "line1\nline2", "  indented\nline2\n", "line1\nline2\n\n", "line1 \nline2\n",
          "héllo ✓", "emoji 😀", "a\tb", "x\u2028y", "a" * 79 + " b", " ".join(["word"] * 40),
          "12345678901234567890", "9223372036854775808", "-9223372036854775809"]


@needs_kubectl
def test_strings_print_byte_for_byte_like_kustomize(tmp_path):
    data = {f"k{i:03d}": value for i, value in enumerate(TRICKY)}
    expected, loaded = oracle_print(tmp_path, [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"},
                                                "data": data}])
    assert to_yaml(loaded) == expected


@needs_kubectl
def test_structures_numbers_and_keys_print_byte_for_byte_like_kustomize(tmp_path):
    # Not "v10" beside "v1beta1" and "v2alpha1": go-yaml's key order is not transitive on them, and kustomize's own
    # output then changes from run to run (Go's map order feeds its sort).
    keys = ["app", "app.kubernetes.io/name", "a9", "a09", "a10", "B", "b", "_x", "1", "10", "2", "x-y", "x_y", "é",
            "v1beta1", "v2alpha1", "nvidia.com/gpu", "yes", "on", "0123", "*", "a b", "-", "@a"]
    objects = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "keys", "labels": {k: "v" for k in keys}}},
        {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
         "spec": {"int": 5, "neg": -3, "floats": [1.0, 1.5, 1e3, 0.000001, 1234567.5, 1e21, 1e20, 0.1 + 0.2, -0.0],
                  "big": 12345678901234567890, "flags": [True, False], "nothing": None, "emptyMap": {},
                  "emptyList": [], "nested": [["a", "b"], [], {"k": "v", "j": [{}]}],
                  "long-key-" + "k" * 130: "value", "script": "#!/bin/sh\necho hi\n"}},
    ]
    expected, loaded = oracle_print(tmp_path, objects)
    assert to_yaml(loaded) == expected


def test_emit_examples():
    assert to_yaml([]) == ""
    text = to_yaml([{"kind": "A", "apiVersion": "v1", "metadata": {"name": "a"}, "data": {"x": "yes", "y": ""}},
                    {"apiVersion": "v1", "kind": "B", "items": []}])
    assert text == ('apiVersion: v1\ndata:\n  x: "yes"\n  "y": ""\nkind: A\nmetadata:\n  name: a\n'
                    "---\napiVersion: v1\nitems: []\nkind: B\n")


def test_float_formatting_follows_go():
    assert [format_float(f) for f in (1.0, 2.5, 1e3, 1e-6, 1e-7, 0.0001, 1234567.5, 123456.5, 1e20, 1e21, -0.0,
                                      float("inf"))] == \
        ["1", "2.5", "1000", "1e-06", "1e-07", "0.0001", "1.2345675e+06", "123456.5", "1e+20", "1e+21", "0",
         ".inf"]


def test_quoting_and_key_order_rules():
    assert resolves_to_non_string("yes") and resolves_to_non_string("0123") and resolves_to_non_string("1:20")
    assert not resolves_to_non_string("<<") and not resolves_to_non_string("1e400")
    assert not resolves_to_non_string("v1.2") and not resolves_to_non_string("nginx")
    assert sorted_keys({"a10": 0, "a9": 0, "a09": 0, "B": 0, "_x": 0, "1": 0, "b": 0}) == \
        ["_x", "1", "B", "a9", "a09", "a10", "b"]
