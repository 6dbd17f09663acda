"""The charts' rendered manifests applied to kubesim over HTTP (with the real kubectl when it is on PATH, else the
agent's own ClusterAccess), as `helm install` would send them: accepted, and the Deployments become Available."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml
from kubernetes import client as k8s

from agent.cluster import ClusterAccess
from tests.charts.conftest import AGENT, HUB, agent_values, hub_values, render
from tests.kubesim.conftest import KUBECTL, Kubectl, wait_for


def apply(sim, tmp_path: Path, objects: list[dict], namespaces: list[str]) -> None:
    """Create `namespaces`, then apply `objects` (kubectl apply -f, or server-side apply through ClusterAccess)."""
    documents = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}} for n in namespaces] + objects
    if KUBECTL is not None:
        manifest = tmp_path / "rendered.yaml"
        manifest.write_text(yaml.safe_dump_all(documents, sort_keys=False))
        kubectl = Kubectl(sim.kubeconfig_path, tmp_path / "kubectl-cache")
        result = kubectl("apply", "-f", str(manifest))
        assert result.stdout.count("created") == len(documents), result.stdout
        return

    async def server_side() -> None:
        async with ClusterAccess.from_kubeconfig(sim.kubeconfig_path) as access:
            for document in documents:
                await access.apply(document, field_manager="helm")

    asyncio.run(server_side())


def available(kube, namespace: str, name: str) -> bool:
    status = kube.apps_v1.read_namespaced_deployment_status(name, namespace).status
    return any(c.type == "Available" and c.status == "True" for c in status.conditions or [])


@pytest.mark.parametrize("rbac", [{}, {"namespaces": ["inference", "training"]}], ids=["cluster-wide", "namespaced"])
def test_the_agent_chart_installs_on_kubesim_and_becomes_available(sim, kube, tmp_path: Path, pki, rbac) -> None:
    objects = render(AGENT, agent_values(pki, rbac=rbac, cache={"persistence": {"enabled": bool(rbac)}}))
    apply(sim, tmp_path, objects, ["fleetline", *rbac.get("namespaces", [])])
    wait_for(lambda: available(kube, "fleetline", "fleetline-fleetline-agent"), timeout=30,
             message="the agent Deployment Available")
    pod = kube.core_v1.list_namespaced_pod("fleetline").items[0]
    assert pod.spec.security_context.run_as_non_root
    assert pod.spec.containers[0].security_context.read_only_root_filesystem
    assert kube.core_v1.read_namespaced_secret("fleetline-fleetline-agent-credentials", "fleetline").data["tls.crt"]
    roles = k8s.RbacAuthorizationV1Api(kube.api_client)
    if rbac:
        assert {r.metadata.namespace for r in roles.list_role_for_all_namespaces().items} >= {"inference", "training"}
    else:
        assert roles.read_cluster_role("fleetline-fleetline-agent").rules


def test_the_hub_chart_installs_on_kubesim_and_becomes_available(sim, kube, tmp_path: Path, pki) -> None:
    objects = render(HUB, hub_values(pki, adminToken={"value": "0123456789abcdef0123"}, webhook={"secret": "w"}))
    apply(sim, tmp_path, objects, ["fleetline"])
    wait_for(lambda: available(kube, "fleetline", "fleetline-fleetline-hub"), timeout=30,
             message="the hub Deployment Available")
    claim = kube.core_v1.read_namespaced_persistent_volume_claim("fleetline-fleetline-hub-data", "fleetline")
    assert claim.status.phase == "Bound"
    service = kube.core_v1.read_namespaced_service("fleetline-fleetline-hub-grpc", "fleetline")
    assert service.spec.ports[0].port == 7443
