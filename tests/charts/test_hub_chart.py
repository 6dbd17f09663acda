"""charts/fleetline-hub rendered by Helm's engine: Deployment, Services, PVC and Secrets with default and non-default
values, the hub flags it writes parsed by `fleetline hub`'s own parser, schema rejections and lint."""

from __future__ import annotations

import argparse
import base64

import pytest

from hub.sessions.cli import add_hub_parser
from tests.charts.conftest import HUB, find, helm, hub_values, one, render, render_files

ADMIN = "0123456789abcdef0123456789abcdef"


def hub_args(deployment: dict) -> argparse.Namespace:
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["fleetline"] and container["args"][0] == "hub"
    parser = argparse.ArgumentParser(prog="fleetline", exit_on_error=False)
    add_hub_parser(parser.add_subparsers())
    return parser.parse_args(container["args"])


def test_required_values_render_the_hub_services_data_volume_and_tls(pki) -> None:
    objects = render(HUB, hub_values(pki))
    assert sorted(o["kind"] for o in objects) == ["Deployment", "PersistentVolumeClaim", "Secret", "Service",
                                                 "Service", "ServiceAccount"]
    deployment = one(objects, "Deployment")
    assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"] == {"type": "Recreate"}
    args = hub_args(deployment)
    assert args.listen == "0.0.0.0:7443" and args.http_listen == "0.0.0.0:7080"
    assert args.repo == "https://git.example.com/platform/fleet.git" and args.data_dir == "/var/lib/fleetline"
    assert args.client_ca == "/etc/fleetline/tls/ca.crt" and args.tokens is None and not args.insecure
    assert args.webhook_secret_file is None and args.admin_token_file is None and args.repo_credentials is None
    tls = one(objects, "Secret")
    assert tls["type"] == "kubernetes.io/tls" and set(tls["data"]) == {"tls.crt", "tls.key", "ca.crt"}
    assert base64.b64decode(tls["data"]["tls.crt"]).decode() == pki.hub_cert
    services = {s["metadata"]["name"]: s for s in find(objects, "Service")}
    assert services["fleetline-fleetline-hub-grpc"]["spec"]["ports"][0] == {
        "name": "grpc", "port": 7443, "targetPort": "grpc", "protocol": "TCP", "appProtocol": "grpc"}
    assert services["fleetline-fleetline-hub-http"]["spec"]["ports"][0]["targetPort"] == "http"
    spec = deployment["spec"]["template"]["spec"]
    ports = {p["name"]: p["containerPort"] for p in spec["containers"][0]["ports"]}
    assert ports == {"grpc": 7443, "http": 7080}
    volumes = {v["name"]: v for v in spec["volumes"]}
    pvc = one(objects, "PersistentVolumeClaim")
    assert volumes["data"]["persistentVolumeClaim"]["claimName"] == pvc["metadata"]["name"]
    assert pvc["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert spec["automountServiceAccountToken"] is False
    container = spec["containers"][0]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    notes = render_files(HUB, hub_values(pki))["fleetline-hub/templates/NOTES.txt"]
    assert "fleetline tokens create" in notes, "without a first admin token, the notes say how to make one"


def test_secrets_from_values_are_mounted_as_files_never_as_arguments(pki) -> None:
    values = hub_values(pki, repo={"url": "https://git.example.com/fleet.git",
                                   "credentials": {"username": "bot", "password": "hunter22"},
                                   "trustedKeys": ["-----BEGIN PGP PUBLIC KEY BLOCK-----\nxyz\n"
                                                   "-----END PGP PUBLIC KEY BLOCK-----\n"]},
                        webhook={"secret": "webhook-shared"}, adminToken={"value": ADMIN, "name": "bootstrap"},
                        config="notifications:\n  sinks: []\n", agentAuth={"tokens": True})
    objects = render(HUB, values)
    secrets = one(objects, "Secret", "fleetline-fleetline-hub-secrets")
    data = {k: base64.b64decode(v).decode() for k, v in secrets["data"].items()}
    assert data == {"credentials": "username: bot\npassword: hunter22\n", "webhook-secret": "webhook-shared",
                    "admin-token": ADMIN, "config.yaml": "notifications:\n  sinks: []\n"}
    deployment = one(objects, "Deployment")
    args = hub_args(deployment)
    assert args.repo_credentials == "/etc/fleetline/repo/credentials"
    assert args.webhook_secret_file == "/etc/fleetline/webhook/webhook-secret"
    assert args.admin_token_file == "/etc/fleetline/admin/admin-token" and args.admin_token_name == "bootstrap"
    assert args.config == "/etc/fleetline/config/config.yaml"
    assert args.tokens == "/var/lib/fleetline/cluster-tokens"
    assert args.trusted_keys == ["/etc/fleetline/keys/key-0.asc"]
    text = str(deployment)
    for secret in ("hunter22", "webhook-shared", ADMIN):
        assert secret not in text, "secrets only reach the pod as mounted files"
    keys = one(objects, "ConfigMap")
    assert "BEGIN PGP PUBLIC KEY BLOCK" in keys["data"]["key-0.asc"]


def test_existing_secrets_and_claim_are_used_and_nothing_is_created_for_them(pki) -> None:
    values = {"repo": {"url": "https://git.example.com/fleet.git", "credentials": {"existingSecret": "git"}},
              "tls": {"existingSecret": "hub-tls"}, "webhook": {"existingSecret": "hook"},
              "adminToken": {"existingSecret": "admin"}, "persistence": {"existingClaim": "hub-data"},
              "service": {"grpc": {"type": "LoadBalancer", "annotations": {"lb": "internal"}}}}
    objects = render(HUB, values)
    assert not find(objects, "Secret") and not find(objects, "PersistentVolumeClaim")
    volumes = {v["name"]: v for v in one(objects, "Deployment")["spec"]["template"]["spec"]["volumes"]}
    assert volumes["tls"]["secret"]["secretName"] == "hub-tls"
    assert volumes["repo-credentials"]["secret"] == {"secretName": "git", "defaultMode": 0o440,
                                                     "items": [{"key": "credentials", "path": "credentials"}]}
    assert volumes["webhook"]["secret"]["secretName"] == "hook"
    assert volumes["admin-token"]["secret"]["secretName"] == "admin"
    assert volumes["data"]["persistentVolumeClaim"]["claimName"] == "hub-data"
    grpc = one(objects, "Service", "fleetline-fleetline-hub-grpc")
    assert grpc["spec"]["type"] == "LoadBalancer" and grpc["metadata"]["annotations"] == {"lb": "internal"}


def test_without_persistence_the_data_dir_is_an_empty_dir_and_the_notes_warn(pki) -> None:
    values = hub_values(pki, persistence={"enabled": False})
    objects = render(HUB, values)
    assert not find(objects, "PersistentVolumeClaim")
    volumes = {v["name"]: v for v in one(objects, "Deployment")["spec"]["template"]["spec"]["volumes"]}
    assert volumes["data"] == {"name": "data", "emptyDir": {}}
    assert "WARNING: persistence.enabled=false" in render_files(HUB, values)["fleetline-hub/templates/NOTES.txt"]


@pytest.mark.parametrize(("values", "path", "problem"), [
    ({"repo": {"url": ""}}, "/repo/url", "minLength"),
    ({"repo": {"url": "https://x/y.git", "pollInterval": "often"}}, "/repo/pollInterval", "got string, want number"),
    ({"tls": {"certificate": ""}}, "/tls/certificate", "minLength"),
    ({"tls": {"clientCA": ""}}, "/tls/clientCA", "minLength"),
    ({"agentAuth": {"clientCertificates": False}}, "/agentAuth", "anyOf"),
    ({"adminToken": {"value": "short"}}, "/adminToken/value", "does not match pattern"),
    ({"service": {"grpc": {"type": "Ingress"}}}, "/service/grpc/type", "value must be one of"),
    ({"persistence": {"size": 10}}, "/persistence/size", "got number, want string"),
    ({"replicas": 3}, "additional properties 'replicas' not allowed", ""),
])
def test_the_schema_rejects_bad_values_naming_them(pki, values: dict, path: str, problem: str) -> None:
    merged = hub_values(pki)
    for key, value in values.items():
        merged[key] = {**merged[key], **value} if isinstance(value, dict) and key in merged else value
    with pytest.raises(helm.HelmValuesError) as caught:
        render(HUB, merged)
    message = str(caught.value)
    assert path in message and problem in message, message


def test_the_schema_names_every_missing_required_value() -> None:
    with pytest.raises(helm.HelmValuesError) as caught:
        render(HUB, {})
    message = str(caught.value)
    for path in ("/repo/url", "/tls/certificate", "/tls/key", "/tls/clientCA"):
        assert f"at '{path}'" in message, message


@pytest.mark.parametrize("values", [
    pytest.param(lambda p: hub_values(p), id="required"),
    pytest.param(lambda p: hub_values(p, adminToken={"value": ADMIN}, webhook={"secret": "s"},
                                      persistence={"enabled": False}, agentAuth={"tokens": True}), id="non-default"),
])
def test_helm_lint_is_clean(pki, values) -> None:
    report = helm.lint(str(HUB), values(pki), strict=True, namespace="fleetline")
    assert report["errors"] == [] and report["total_charts_linted"] == 1
    assert [m for m in report["messages"] if m["severity"] >= 2] == [], report["messages"]
