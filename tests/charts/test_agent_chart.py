"""charts/fleetline-agent rendered by Helm's engine: what it creates with default and non-default values, the
security context and probes it promises, RBAC cluster-wide or per namespace, schema rejections, lint, and the
agent flags it writes parsed by the agent's own command line."""

from __future__ import annotations

import argparse

import pytest

from agent.cli import add_agent_parser, credentials_from_args
from tests.charts.conftest import AGENT, agent_values, find, helm, one, render, render_files

WRITE_VERBS = {"create", "update", "patch", "delete"}


def agent_args(deployment: dict) -> argparse.Namespace:
    """The container's arguments parsed by `fleetline agent`'s own parser (unknown flags fail the test)."""
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["fleetline"] and container["args"][0] == "agent"
    parser = argparse.ArgumentParser(prog="fleetline", exit_on_error=False)
    add_agent_parser(parser.add_subparsers())
    return parser.parse_args(container["args"])


def test_required_values_render_the_agent_with_its_service_account_rbac_and_credential(pki) -> None:
    objects = render(AGENT, agent_values(pki))
    assert sorted(o["kind"] for o in objects) == ["ClusterRole", "ClusterRoleBinding", "Deployment", "Secret",
                                                 "ServiceAccount"]
    deployment = one(objects, "Deployment")
    assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"] == {"type": "Recreate"}
    args = agent_args(deployment)
    assert (args.hub, args.cluster, args.region) == ("hub.example.com:7443", "eu-west-1", "eu")
    assert args.log_format == "json" and args.metrics_port == 9101 and not args.insecure
    assert str(args.tls_cert) == "/etc/fleetline/credentials/tls.crt" and str(args.ca).endswith("/ca.crt")
    secret = one(objects, "Secret")
    assert set(secret["data"]) == {"tls.crt", "tls.key", "ca.crt"}
    spec = deployment["spec"]["template"]["spec"]
    assert spec["serviceAccountName"] == one(objects, "ServiceAccount")["metadata"]["name"]
    assert spec["automountServiceAccountToken"] is True, "the agent reaches its cluster's API with the pod's token"
    binding = one(objects, "ClusterRoleBinding")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": spec["serviceAccountName"],
                                    "namespace": "fleetline"}]
    rules = one(objects, "ClusterRole")["rules"]
    assert {"apiGroups": ["apiextensions.k8s.io"], "resources": ["customresourcedefinitions"],
            "verbs": ["list", "watch"]} in rules
    assert any("deployments" in r["resources"] and set(r["verbs"]) >= WRITE_VERBS for r in rules)
    notes = render_files(AGENT, agent_values(pki))["fleetline-agent/templates/NOTES.txt"]
    assert "eu-west-1" in notes and "rollout status deployment/fleetline-fleetline-agent" in notes


def test_security_context_volumes_and_resources_are_as_stated(pki) -> None:
    deployment = one(render(AGENT, agent_values(pki)), "Deployment")
    spec = deployment["spec"]["template"]["spec"]
    assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] == 65532
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    [container] = spec["containers"]
    assert container["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                            "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}}
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]["name"]], "/tmp is writable"
    assert "emptyDir" in volumes[mounts["/var/lib/fleetline-agent"]["name"]], "the cache is a volume"
    assert mounts["/etc/fleetline/credentials"]["readOnly"] is True
    assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]


def test_probes_use_the_agents_health_endpoints_on_its_http_port(pki) -> None:
    deployment = one(render(AGENT, agent_values(pki, httpPort=9300)), "Deployment")
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["ports"] == [{"name": "http", "containerPort": 9300, "protocol": "TCP"}]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert agent_args(deployment).metrics_port == 9300


def test_restricted_namespaces_get_roles_and_only_cluster_wide_reads(pki) -> None:
    objects = render(AGENT, agent_values(pki, rbac={"namespaces": ["inference", "training"]}))
    for namespace in ("inference", "training"):
        [role] = find(objects, "Role", namespace=namespace)
        assert any("deployments" in r["resources"] and set(r["verbs"]) >= WRITE_VERBS for r in role["rules"])
        [binding] = find(objects, "RoleBinding", namespace=namespace)
        assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                      "name": role["metadata"]["name"]}
        assert binding["subjects"][0]["namespace"] == "fleetline", "the agent's service account, in its namespace"
    [cluster_role] = find(objects, "ClusterRole")
    assert cluster_role["metadata"]["name"].endswith("-read")
    assert all(set(r["verbs"]) <= {"list", "watch"} for r in cluster_role["rules"]), "no writes cluster-wide"
    assert any("deployments" in r["resources"] for r in cluster_role["rules"]), "reads what the agent watches"
    assert len(find(objects, "Role")) == 2 and len(find(objects, "ClusterRoleBinding")) == 1


def test_non_default_values(pki) -> None:
    values = agent_values(
        pki, credentials={"method": "token", "existingSecret": "eu-creds", "systemRoots": True},
        cache={"persistence": {"enabled": True, "size": "5Gi", "storageClass": "fast"}}, logFormat="text",
        extraArgs=["--wave-timeout=600"], nodeSelector={"pool": "system"},
        tolerations=[{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}],
        affinity={"nodeAffinity": {}}, image={"tag": "0.2.0"}, rbac={"extraRules": [
            {"apiGroups": ["monitoring.coreos.com"], "resources": ["servicemonitors"], "verbs": ["get", "list"]}]})
    objects = render(AGENT, values)
    assert not find(objects, "Secret"), "an existing Secret is used, none created"
    deployment = one(objects, "Deployment")
    spec = deployment["spec"]["template"]["spec"]
    args = agent_args(deployment)
    assert str(args.token_file) == "/etc/fleetline/credentials/token" and args.ca is None and args.tls_cert is None
    assert args.wave_timeout == 600 and args.log_format == "text"
    assert {v["name"]: v for v in spec["volumes"]}["credentials"]["secret"]["secretName"] == "eu-creds"
    pvc = one(objects, "PersistentVolumeClaim")
    assert pvc["spec"]["resources"]["requests"]["storage"] == "5Gi" and pvc["spec"]["storageClassName"] == "fast"
    assert {v["name"]: v for v in spec["volumes"]}["cache"]["persistentVolumeClaim"]["claimName"] == \
        pvc["metadata"]["name"]
    assert spec["nodeSelector"] == {"pool": "system"} and spec["tolerations"][0]["key"] == "dedicated"
    assert spec["containers"][0]["image"] == "ghcr.io/fleetline/fleetline:0.2.0"
    assert any(r["resources"] == ["servicemonitors"] for r in one(objects, "ClusterRole")["rules"])
    claimed = render(AGENT, agent_values(pki, cache={"persistence": {"enabled": True, "existingClaim": "mine"}}))
    assert not find(claimed, "PersistentVolumeClaim")
    volumes = {v["name"]: v for v in one(claimed, "Deployment")["spec"]["template"]["spec"]["volumes"]}
    assert volumes["cache"]["persistentVolumeClaim"]["claimName"] == "mine"


def test_the_created_secret_works_with_the_agents_credential_loading(pki, tmp_path) -> None:
    """The Secret's keys, mounted where the args say, are what `fleetline agent` reads."""
    from tests.charts.conftest import materialize

    objects = render(AGENT, agent_values(pki))
    pod = materialize(one(objects, "Deployment"), objects, tmp_path)
    parser = argparse.ArgumentParser(prog="fleetline")
    add_agent_parser(parser.add_subparsers())
    credentials = credentials_from_args(parser.parse_args(pod.argv[3:]))
    assert credentials.cert == pki.client_cert.encode() and credentials.key == pki.client_key.encode()
    assert credentials.ca == pki.ca.encode()


@pytest.mark.parametrize(("values", "path", "problem"), [
    ({"hub": {"address": ""}}, "/hub/address", "minLength"),
    ({"hub": {"address": "https://hub.example.com"}}, "/hub/address", "does not match pattern"),
    ({"cluster": {"name": ""}}, "/cluster/name", "minLength"),
    ({"cluster": {"name": "EU_West"}}, "/cluster/name", "does not match pattern"),
    ({"credentials": {"certificate": ""}}, "/credentials/certificate", "minLength"),
    ({"credentials": {"method": "password"}}, "/credentials/method", "value must be one of"),
    ({"resources": "large"}, "/resources", "got string, want object"),
    ({"httpPort": "9101"}, "/httpPort", "got string, want integer"),
    ({"logFormat": "xml"}, "/logFormat", "value must be one of 'json', 'text'"),
    ({"rbac": {"namespaces": "inference"}}, "/rbac/namespaces", "got string, want array"),
    ({"replicas": 2}, "additional properties 'replicas' not allowed", ""),
])
def test_the_schema_rejects_bad_values_naming_them(pki, values: dict, path: str, problem: str) -> None:
    merged = agent_values(pki)
    for key, value in values.items():
        merged[key] = {**merged[key], **value} if isinstance(value, dict) and key in merged else value
    with pytest.raises(helm.HelmValuesError) as caught:
        render(AGENT, merged)
    message = str(caught.value)
    assert path in message and problem in message, message


def test_the_schema_names_every_missing_required_value() -> None:
    with pytest.raises(helm.HelmValuesError) as caught:
        render(AGENT, {})
    message = str(caught.value)
    for path in ("/hub/address", "/cluster/name", "/credentials/certificate", "/credentials/key", "/credentials/ca"):
        assert f"at '{path}'" in message, message


@pytest.mark.parametrize("values", [
    pytest.param(lambda p: agent_values(p), id="required"),
    pytest.param(lambda p: agent_values(p, rbac={"namespaces": ["a", "b"]},
                                        cache={"persistence": {"enabled": True}},
                                        credentials={"method": "token", "token": "t", "ca": p.ca}), id="non-default"),
])
def test_helm_lint_is_clean(pki, values) -> None:
    report = helm.lint(str(AGENT), values(pki), strict=True, namespace="fleetline")
    assert report["errors"] == [] and report["total_charts_linted"] == 1
    assert [m for m in report["messages"] if m["severity"] >= 2] == [], report["messages"]
