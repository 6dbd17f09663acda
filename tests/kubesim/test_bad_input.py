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
