"""Bad input over raw HTTP: kube-apiserver's status codes and Status bodies, and a store that survives it."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request

import pytest

from kubesim.server import MAX_BODY_BYTES
from tests.kubesim.conftest import ClusterThread


def request(sim: ClusterThread, method: str, path: str, body: bytes | None = None,
            content_type: str | None = "application/json", token: str | None = "default",
            accept: str = "application/json") -> tuple[int, dict, dict]:
    headers = {"Accept": accept}
    if content_type:
        headers["Content-Type"] = content_type
    if token:
        headers["Authorization"] = f"Bearer {sim.token if token == 'default' else token}"
    req = urllib.request.Request(sim.url + path, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10, context=sim.ssl_context()) as resp:
            return resp.status, json.loads(resp.read() or b"{}"), dict(resp.headers)
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}"), dict(err.headers)


def assert_status(body: dict, code: int, reason: str) -> None:
    assert body["kind"] == "Status" and body["apiVersion"] == "v1" and body["status"] == "Failure"
    assert body["code"] == code and body["reason"] == reason and body["message"]


CM_PATH = "/api/v1/namespaces/default/configmaps"


def store_is_intact(sim: ClusterThread) -> None:
    code, body, _ = request(sim, "GET", CM_PATH)
    assert code == 200 and body["kind"] == "ConfigMapList"
    code, body, _ = request(sim, "POST", CM_PATH, json.dumps({"metadata": {"name": "after"}}).encode())
    assert code == 201, body
    request(sim, "DELETE", CM_PATH + "/after")


def test_missing_or_wrong_token_is_401(sim: ClusterThread) -> None:
    assert_status(request(sim, "GET", CM_PATH, token=None)[1], 401, "Unauthorized")
    assert_status(request(sim, "GET", CM_PATH, token="wrong")[1], 401, "Unauthorized")
    req = urllib.request.Request(sim.url + "/healthz")  # health and version are public, as in kube-apiserver
    with urllib.request.urlopen(req, timeout=10, context=sim.ssl_context()) as resp:
        assert resp.status == 200 and resp.read() == b"ok"


def test_malformed_json_is_400(sim: ClusterThread) -> None:
    code, body, _ = request(sim, "POST", CM_PATH, b'{"metadata": {"name": ')
    assert code == 400
    assert_status(body, 400, "BadRequest")
    store_is_intact(sim)


def test_malformed_yaml_apply_is_400(sim: ClusterThread) -> None:
    code, body, _ = request(sim, "PATCH", CM_PATH + "/x?fieldManager=t", b"metadata: [unclosed",
                            "application/apply-patch+yaml")
    assert code == 400
    assert_status(body, 400, "BadRequest")
    store_is_intact(sim)


def test_wrong_kind_in_url_is_404(sim: ClusterThread) -> None:
    code, body, _ = request(sim, "GET", "/api/v1/namespaces/default/notakind")
    assert code == 404 and body["message"] == "the server could not find the requested resource"
    code, body, _ = request(sim, "GET", "/apis/apps/v1/namespaces/default/configmaps")
    assert code == 404
    code, body, _ = request(sim, "GET", "/apis/nope.example.com/v1/things")
    assert code == 404


def test_body_kind_not_matching_the_url_is_400(sim: ClusterThread) -> None:
    code, body, _ = request(sim, "POST", CM_PATH, json.dumps({"apiVersion": "v1", "kind": "Secret",
                                                               "metadata": {"name": "s"}}).encode())
    assert code == 400 and "does not match the expected kind" in body["message"]


def test_huge_body_is_413(sim: ClusterThread) -> None:
    big = json.dumps({"metadata": {"name": "big"}, "data": {"blob": "x" * (MAX_BODY_BYTES + 10)}}).encode()
    code, body, _ = request(sim, "POST", CM_PATH, big)
    assert code == 413
    assert_status(body, 413, "RequestEntityTooLarge")
    store_is_intact(sim)


def test_protobuf_body_is_415(sim: ClusterThread) -> None:
    code, body, _ = request(sim, "POST", CM_PATH, b"k8s\x00\x0a", "application/vnd.kubernetes.protobuf")
    assert code == 415
    assert_status(body, 415, "UnsupportedMediaType")


def test_invalid_object_is_422_with_causes(sim: ClusterThread) -> None:
    bad = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "bad"},
           "spec": {"template": {"metadata": {"labels": {"a": "b"}},
                                 "spec": {"containers": [{"name": "c", "image": "i"}]}}}}
    code, body, _ = request(sim, "POST", "/apis/apps/v1/namespaces/default/deployments", json.dumps(bad).encode())
    assert code == 422
    assert_status(body, 422, "Invalid")
    assert body["details"]["kind"] == "Deployment" and body["details"]["group"] == "apps"
    assert any(c["field"] == "spec.selector" for c in body["details"]["causes"])
    assert body["message"].startswith('Deployment.apps "bad" is invalid: ')


def test_wrong_types_are_422(sim: ClusterThread) -> None:
    bad = {"metadata": {"name": "typed"}, "data": {"n": 1}}
    code, body, _ = request(sim, "POST", CM_PATH, json.dumps(bad).encode())
    assert code == 422, body
    assert any(c["field"].startswith("data") for c in body["details"]["causes"])
    store_is_intact(sim)


@pytest.mark.parametrize("mode,code", [("Strict", 400), ("Warn", 201), ("Ignore", 201)])
def test_unknown_fields_follow_field_validation(sim: ClusterThread, mode: str, code: int) -> None:
    obj = {"metadata": {"name": f"u-{mode.lower()}"}, "data": {"a": "b"}, "bogus": 1}
    status, body, headers = request(sim, "POST", f"{CM_PATH}?fieldValidation={mode}", json.dumps(obj).encode())
    assert status == code, body
    if mode == "Strict":
        assert 'unknown field "bogus"' in body["message"]
    if mode == "Warn":
        assert 'unknown field \\"bogus\\"' in headers.get("Warning", "") or "bogus" in headers.get("Warning", "")
    if status == 201:
        assert "bogus" not in body


def test_query_booleans_parse_like_go(sim: ClusterThread) -> None:
    for value in ("1", "t", "T", "TRUE", "true", "True"):
        code, body, _ = request(sim, "GET", f"{CM_PATH}?watch={value}&timeoutSeconds=1")
        assert code == 200
    code, body, _ = request(sim, "GET", f"{CM_PATH}?watch=yes")
    assert code == 400


def test_missing_content_type_means_json(sim: ClusterThread) -> None:
    # urllib would add a form Content-Type of its own, so speak HTTP directly, as the Python client 37 does.
    host, port = sim.url.removeprefix("https://").split(":")
    conn = http.client.HTTPSConnection(host, int(port), timeout=10, context=sim.ssl_context())
    conn.putrequest("POST", CM_PATH)
    payload = json.dumps({"metadata": {"name": "noct"}}).encode()
    conn.putheader("Authorization", f"Bearer {sim.token}")
    conn.putheader("Content-Length", str(len(payload)))
    conn.endheaders(payload)
    resp = conn.getresponse()
    body = json.loads(resp.read())
    conn.close()
    assert resp.status == 201 and body["metadata"]["name"] == "noct"


def test_garbage_never_corrupts_the_store(sim: ClusterThread) -> None:
    payloads = [b"", b"null", b"[]", b"42", b'"s"', b"{", b'{"metadata": 5}', b'{"metadata": {"name": 5}}',
                b'{"metadata": {"name": "UPPER"}}', b'{"metadata": {"labels": {"a": 1}, "name": "x"}}',
                b"\xff\xfe", json.dumps({"metadata": {"name": "n", "namespace": "other"}}).encode()]
    for payload in payloads:
        code, body, _ = request(sim, "POST", CM_PATH, payload)
        assert 400 <= code < 500, (payload, code, body)
        assert body.get("kind") == "Status"
        code, body, _ = request(sim, "PATCH", CM_PATH + "/x", payload, "application/merge-patch+json")
        assert 400 <= code < 500, (payload, code, body)
    store_is_intact(sim)


# -- regressions found by test_fuzz.py ---------------------------------------------------------------------------------

CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"


def make_crd(sim: ClusterThread, group: str = "fz.example.com", scale: dict | None = None,
             annotations: dict | None = None, plural: str = "widgets", kind: str = "Widget",
             expect: int = 201) -> dict:
    version = {"name": "v1", "served": True, "storage": True,
               "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}
    if scale is not None:
        version["subresources"] = {"scale": scale}
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": f"{plural}.{group}", "annotations": annotations or {}},
           "spec": {"group": group, "scope": "Namespaced", "names": {"plural": plural, "kind": kind},
                    "versions": [version]}}
    code, body, _ = request(sim, "POST", CRDS, json.dumps(crd).encode())
    assert code == expect, body
    return body


WIDGETS = "/apis/fz.example.com/v1/namespaces/default/widgets"


def widget(name: str, **fields: object) -> bytes:
    return json.dumps({"apiVersion": "fz.example.com/v1", "kind": "Widget", "metadata": {"name": name},
                       **fields}).encode()


def test_null_metadata_reads_as_no_metadata(sim: ClusterThread) -> None:
    request(sim, "POST", CM_PATH, json.dumps({"metadata": {"name": "nm"}, "data": {"a": "b"}}).encode())
    code, body, _ = request(sim, "PUT", CM_PATH + "/nm", b'{"metadata": null, "data": {"a": "c"}}')
    assert code == 200 and body["metadata"]["name"] == "nm" and body["data"] == {"a": "c"}, body
    code, body, _ = request(sim, "PATCH", CM_PATH + "/nm", b'[{"op": "replace", "path": "/metadata", "value": null}]',
                            "application/json-patch+json")
    assert code == 200 and body["metadata"]["name"] == "nm", body
    store_is_intact(sim)


@pytest.mark.parametrize("meta", [{"name": ["a"]}, {"name": {"a": 1}}, {"generateName": 5},
                                  {"name": "x", "resourceVersion": 7}])
def test_non_string_names_are_422(sim: ClusterThread, meta: dict) -> None:
    code, body, _ = request(sim, "POST", CM_PATH, json.dumps({"metadata": meta}).encode())
    assert code == 422, body
    assert_status(body, 422, "Invalid")
    assert body["details"]["causes"][0]["field"].startswith("metadata.")


@pytest.mark.parametrize("payload", [
    b"[" * 5000 + b"]" * 5000,  # Python's JSON parser recursion limit
    b'{"metadata": {"name": "deep"}, "data": ' + b'{"a": ' * 800 + b"1" + b"}" * 800 + b"}",
    b'{"metadata": {"name": "deep"}, "spec": ' + b"[" * 150 + b"]" * 150 + b"}",
])
def test_too_deep_bodies_are_400(sim: ClusterThread, payload: bytes) -> None:
    code, body, _ = request(sim, "POST", CM_PATH, payload)
    assert code == 400, body
    assert_status(body, 400, "BadRequest")
    assert "max depth" in body["message"]
    store_is_intact(sim)


@pytest.mark.parametrize("payload", [b'{"metadata": {"name": "n"}, "spec": {"x": NaN}}',
                                     b'{"metadata": {"name": "n"}, "spec": {"x": -Infinity}}',
                                     b'{"metadata": {"name": "n"}, "spec": {"x": 1e400}}'])
def test_non_finite_numbers_are_400(sim: ClusterThread, payload: bytes) -> None:
    make_crd(sim)
    code, body, _ = request(sim, "POST", WIDGETS, payload)  # a custom resource would store anything
    assert code == 400, body
    assert_status(body, 400, "BadRequest")
    code, body, _ = request(sim, "GET", WIDGETS)
    assert code == 200 and body["items"] == []


def test_lone_surrogates_become_replacement_characters(sim: ClusterThread) -> None:
    make_crd(sim)
    code, body, _ = request(sim, "POST", WIDGETS, b'{"apiVersion": "fz.example.com/v1", "kind": "Widget", '
                                                  b'"metadata": {"name": "s"}, "spec": {"\\udc00": "a\\ud800b"}}')
    assert code == 201 and body["spec"] == {"\ufffd": "a\ufffdb"}, body
    code, body, _ = request(sim, "GET", WIDGETS)  # the list still encodes
    assert code == 200 and len(body["items"]) == 1


def apply(sim: ClusterThread, path: str, text: str) -> tuple[int, dict, dict]:
    return request(sim, "PATCH", path + "?fieldManager=t", text.encode(), "application/apply-patch+yaml")


def test_yaml_values_convert_to_json_as_kube_does(sim: ClusterThread) -> None:
    make_crd(sim)
    code, body, _ = apply(sim, WIDGETS + "/y", "apiVersion: fz.example.com/v1\nkind: Widget\nspec:\n"
                                               "  when: 2020-01-01\n  at: 2001-12-14t21:59:43.10-05:00\n"
                                               "  7: seven\n  true: yes\n  ~: null-key\n  bin: !!binary aGk=\n")
    assert code == 201, body
    assert body["spec"] == {"when": "2020-01-01", "at": "2001-12-14t21:59:43.10-05:00", "7": "seven",
                            "true": True, "null": "null-key", "bin": "hi"}, body
    code, body, _ = apply(sim, CM_PATH + "/ykeys", "apiVersion: v1\nkind: ConfigMap\ndata:\n  1: x\n")
    assert code == 201 and body["data"] == {"1": "x"}, body
    store_is_intact(sim)


@pytest.mark.parametrize("text", [
    "apiVersion: v1\nkind: ConfigMap\ndata: {a: .nan}\n",
    "apiVersion: v1\nkind: ConfigMap\ndata: {a: .inf}\n",
    "apiVersion: v1\nkind: ConfigMap\n" + "".join(
        f"{n}: &{n} [{', '.join([f'*{p}' if p else 'x'] * 9)}]\n" for n, p in zip("abcdefg", ["", *"abcdef"],
                                                                                       strict=True)),
])
def test_unrepresentable_yaml_is_400(sim: ClusterThread, text: str) -> None:
    code, body, _ = apply(sim, CM_PATH + "/yaml", text)
    assert code == 400, body
    assert_status(body, 400, "BadRequest")


@pytest.mark.parametrize("options,field", [({"preconditions": 5}, "preconditions"),
                                           ({"preconditions": {"uid": 5}}, "preconditions.uid"),
                                           ({"propagationPolicy": 5}, "propagationPolicy"),
                                           ({"dryRun": "All"}, "dryRun"), ({"gracePeriodSeconds": "1"}, "grace")])
def test_delete_options_of_the_wrong_type_are_400(sim: ClusterThread, options: dict, field: str) -> None:
    request(sim, "POST", CM_PATH, json.dumps({"metadata": {"name": "del"}}).encode())
    code, body, _ = request(sim, "DELETE", CM_PATH + "/del", json.dumps(options).encode())
    assert code == 400, body
    assert_status(body, 400, "BadRequest")
    assert f"DeleteOptions.{field}" in body["message"]
    assert request(sim, "GET", CM_PATH + "/del")[0] == 200


@pytest.mark.parametrize("payload", [b'{"spec": 5}', b'{"spec": {"finalizers": "kubernetes"}}',
                                     b'{"spec": {"finalizers": [1]}}'])
def test_namespace_finalize_with_wrong_types_is_422(sim: ClusterThread, payload: bytes) -> None:
    code, body, _ = request(sim, "PUT", "/api/v1/namespaces/default/finalize", payload)
    assert code == 422, body
    assert_status(body, 422, "Invalid")


def test_urls_with_newlines_are_404_status(sim: ClusterThread) -> None:
    code, body, _ = request(sim, "GET", "/api/v1/namespaces/default/configmaps/a%0Ab")
    assert code == 404, body
    assert_status(body, 404, "NotFound")


def test_unknown_field_names_are_quoted_in_warnings(sim: ClusterThread) -> None:
    obj = {"metadata": {"name": "ctl"}, "\u001fbad\n": 1}
    code, body, headers = request(sim, "POST", CM_PATH, json.dumps(obj).encode())
    assert code == 201, body
    assert 'unknown field \\"\\x1fbad\\n\\"' in headers["Warning"]
    obj["metadata"]["name"] = "ctl-strict"
    code, body, _ = request(sim, "POST", CM_PATH + "?fieldValidation=Strict", json.dumps(obj).encode())
    assert code == 400 and 'unknown field "\\x1fbad\\n"' in body["message"], body


def test_crd_scale_paths_must_be_under_spec_and_status(sim: ClusterThread) -> None:
    body = make_crd(sim, scale={"specReplicasPath": "spec", "statusReplicasPath": ".status.replicas"}, expect=422)
    assert body["details"]["causes"][0]["field"] == "spec.versions[0].subresources.scale.specReplicasPath"


def test_custom_resource_scale_over_odd_values_is_not_a_500(sim: ClusterThread) -> None:
    make_crd(sim, scale={"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas",
                         "labelSelectorPath": ".status.selector"})
    assert request(sim, "POST", WIDGETS, widget("odd", spec={"replicas": {"a": 1}}, status={"selector": 5}))[0] == 201
    code, body, _ = request(sim, "GET", WIDGETS + "/odd/scale")
    assert code == 200 and body["spec"]["replicas"] == 0 and body["status"]["selector"] == "", body
    assert request(sim, "POST", WIDGETS, widget("flat", spec=5))[0] == 201
    code, body, _ = request(sim, "PUT", WIDGETS + "/flat/scale", b'{"spec": {"replicas": 2}}')
    assert code == 422, body
    assert_status(body, 422, "Invalid")
    code, body, _ = request(sim, "PUT", WIDGETS + "/odd/scale", b'{"spec": 5}')
    assert code == 422, body


def test_a_crd_never_replaces_a_built_in_resource(sim: ClusterThread) -> None:
    make_crd(sim, group="networking.k8s.io", plural="ingresses", kind="Ingress", expect=422)  # needs approval
    approved = {"api-approved.kubernetes.io": "https://github.com/kubernetes/enhancements/pull/1111"}
    ingresses = "/apis/networking.k8s.io/v1/namespaces/default/ingresses"
    ingress = {"metadata": {"name": "ing"}, "spec": {"defaultBackend": {"service": {"name": "s",
                                                                                    "port": {"number": 80}}}}}
    assert request(sim, "POST", ingresses, json.dumps(ingress).encode())[0] == 201
    make_crd(sim, group="networking.k8s.io", plural="ingresses", kind="Ingress", annotations=approved)
    make_crd(sim, group="apiextensions.k8s.io", plural="customresourcedefinitions", kind="CustomResourceDefinition",
             annotations=approved)
    assert request(sim, "DELETE", f"{CRDS}/ingresses.networking.k8s.io")[0] == 200
    assert request(sim, "DELETE", f"{CRDS}/customresourcedefinitions.apiextensions.k8s.io")[0] == 200
    code, body, _ = request(sim, "GET", ingresses + "/ing")  # still served, still stored
    assert code == 200 and body["kind"] == "Ingress", body
    code, body, _ = request(sim, "GET", CRDS)
    assert code == 200 and body["kind"] == "CustomResourceDefinitionList"


def test_undecodable_managed_fields_are_ignored(sim: ClusterThread) -> None:
    request(sim, "POST", CM_PATH, json.dumps({"metadata": {"name": "mf"}}).encode())
    junk = [{"manager": "a", "operation": "Apply", "fieldsV1": {"f:data": 5}}]
    code, body, _ = request(sim, "PATCH", CM_PATH + "/mf?fieldManager=p", json.dumps(
        [{"op": "replace", "path": "/metadata/managedFields", "value": junk},
         {"op": "add", "path": "/data", "value": {"k": "v"}}]).encode(), "application/json-patch+json")
    assert code == 200, body
    assert [e["manager"] for e in body["metadata"]["managedFields"]] == ["", "p"] or \
        all(e["fieldsV1"] != {"f:data": 5} for e in body["metadata"]["managedFields"]), body
    code, body, _ = request(sim, "POST", CM_PATH, json.dumps({"metadata": {"name": "mf2", "managedFields": [
        {"manager": "x", "operation": "Nope", "fieldsV1": {}}]}, "data": {"a": "b"}}).encode())
    assert code == 201 and body["metadata"]["managedFields"][0]["operation"] == "Update", body


@pytest.mark.parametrize("replicas", [2**31, 2**63])
def test_replicas_beyond_int32_are_422(sim: ClusterThread, replicas: int) -> None:
    deployment = {"metadata": {"name": "big"}, "spec": {
        "replicas": replicas, "selector": {"matchLabels": {"a": "b"}},
        "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}}
    path = "/apis/apps/v1/namespaces/default/deployments"
    code, body, _ = request(sim, "POST", path, json.dumps(deployment).encode())
    assert code == 422 and body["details"]["causes"][0]["field"] == "spec.replicas", body
    deployment["spec"]["replicas"] = 1
    assert request(sim, "POST", path, json.dumps(deployment).encode())[0] == 201
    code, body, _ = request(sim, "PUT", path + "/big/scale", json.dumps({"spec": {"replicas": replicas}}).encode())
    assert code == 422, body


def test_wrong_types_never_reach_admission(sim: ClusterThread) -> None:
    code, body, _ = request(sim, "POST", "/api/v1/namespaces/default/pods",
                            b'{"metadata": {"name": "p"}, "spec": 5}')  # the pod defaulter used to trip on it
    assert code == 422, body
    assert_status(body, 422, "Invalid")


def test_explicit_nulls_are_not_stored(sim: ClusterThread) -> None:
    hpa = {"metadata": {"name": "h"}, "spec": {"scaleTargetRef": {"apiVersion": None, "kind": "Deployment",
                                                                  "name": "web"}, "maxReplicas": 2}}
    code, body, _ = request(sim, "POST", "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers",
                            json.dumps(hpa).encode())
    assert code == 201 and "apiVersion" not in body["spec"]["scaleTargetRef"], body


def test_an_unexpected_exception_is_a_500_status_and_the_server_survives(
        sim: ClusterThread, caplog: pytest.LogCaptureFixture) -> None:
    def boom(rt: object, obj: dict, old: object) -> None:
        if obj.get("metadata", {}).get("name") == "boom":
            raise RuntimeError('kaboom "quoted"')

    sim.call(lambda api: api.mutators.append(boom))
    with caplog.at_level("ERROR", logger="kubesim.server"):
        code, body, _ = request(sim, "POST", CM_PATH, json.dumps({"metadata": {"name": "boom"}}).encode())
    assert code == 500
    assert_status(body, 500, "InternalError")
    assert body["message"] == ('an error on the server ("RuntimeError: kaboom \\"quoted\\"") has prevented the '
                               'request from succeeding')
    assert any(r.exc_info and "kaboom" in str(r.exc_info[1]) for r in caplog.records)
    store_is_intact(sim)


def test_table_watch_with_an_unknown_include_object_is_400(sim: ClusterThread) -> None:
    table = "application/json;as=Table;v=v1;g=meta.k8s.io"
    code, body, _ = request(sim, "GET", CM_PATH + "?watch=1&timeoutSeconds=1&includeObject=nope", accept=table)
    assert code == 400, body  # was a 200 stream cut short by the failure
    assert_status(body, 400, "BadRequest")


@pytest.mark.parametrize("method,content_type", [("PUT", "application/json"), ("PATCH", "application/merge-patch+json"),
                                                 ("PATCH", "application/json-patch+json"),
                                                 ("PATCH", "application/strategic-merge-patch+json"),
                                                 ("PATCH", "application/apply-patch+yaml"), ("DELETE", None)])
def test_huge_bodies_are_413_for_every_write(sim: ClusterThread, method: str, content_type: str | None) -> None:
    request(sim, "POST", CM_PATH, json.dumps({"metadata": {"name": "huge"}}).encode())
    big = b'{"data": {"blob": "' + b"x" * (MAX_BODY_BYTES + 10) + b'"}}'
    code, body, _ = request(sim, method, CM_PATH + "/huge?fieldManager=t", big, content_type)
    assert code == 413, body
    assert_status(body, 413, "RequestEntityTooLarge")
    assert request(sim, "GET", CM_PATH + "/huge")[0] == 200
    store_is_intact(sim)
