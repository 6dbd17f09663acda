"""Loading credentials for real: a kubeconfig (file, context, $KUBECONFIG) and the in-cluster service account,
each used to talk to a live kubesim over HTTPS."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from agent.cluster import ClusterAccess, ClusterError, ConfigError
from tests.kubesim.conftest import ClusterThread


async def node_names(access: ClusterAccess) -> list[str]:
    items, _ = await access.list("v1", "Node")
    return sorted(n["metadata"]["name"] for n in items)


async def test_from_kubeconfig_file(sim: ClusterThread) -> None:
    async with ClusterAccess.from_kubeconfig(sim.kubeconfig_path) as access:
        assert await node_names(access) == ["sim-node-1", "sim-node-2", "sim-node-3"]


def two_context_kubeconfig(sim: ClusterThread, tmp_path: Path) -> Path:
    """The generated kubeconfig plus a `broken` context (a closed port) made current."""
    doc = yaml.safe_load(sim.kubeconfig_path.read_text())
    doc["clusters"].append({"name": "broken", "cluster": {"server": "https://127.0.0.1:9"}})
    doc["contexts"].append({"name": "broken", "context": {"cluster": "broken", "user": "sim"}})
    doc["current-context"] = "broken"
    path = tmp_path / "two.kubeconfig"
    path.write_text(yaml.safe_dump(doc))
    return path


async def test_kubeconfig_context_is_honoured(sim: ClusterThread, tmp_path: Path) -> None:
    path = two_context_kubeconfig(sim, tmp_path)
    async with ClusterAccess.from_kubeconfig(path, context="sim") as access:
        assert len(await node_names(access)) == 3
    broken = ClusterAccess.from_kubeconfig(path, timeout=5)  # the current context: nothing listens there
    try:
        with pytest.raises(ClusterError) as caught:
            await broken.start()
        assert caught.value.status == 0 and caught.value.reason == "ConnectionError"
    finally:
        await broken.close()
    with pytest.raises(ConfigError, match="context nope"):
        ClusterAccess.from_kubeconfig(path, context="nope")


async def test_auto_uses_the_kubeconfig_env_outside_a_pod(sim: ClusterThread) -> None:
    access = ClusterAccess.auto(environ={"KUBECONFIG": str(sim.kubeconfig_path)})
    async with access:
        assert len(await node_names(access)) == 3


async def test_in_cluster_service_account(sim: ClusterThread, tmp_path: Path) -> None:
    """What a pod gets: KUBERNETES_SERVICE_HOST/PORT and the mounted token and CA."""
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text(sim.token)
    (account / "ca.crt").write_bytes(sim.cluster.ca_pem or b"")
    env = {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(sim.cluster.port)}
    async with ClusterAccess.auto(environ=env, service_account_dir=account) as access:
        assert len(await node_names(access)) == 3
    (account / "token").write_text("not-the-token")
    with pytest.raises(ClusterError, match="401 Unauthorized"):
        async with ClusterAccess.in_cluster(environ=env, service_account_dir=account):
            pass
