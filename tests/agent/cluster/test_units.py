"""Pure logic of cluster access, on dicts and fake clocks: refs, error messages, the token bucket, the watch
backoff, the discovery cache's refresh rules and configuration loading errors."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from agent.cluster import ClusterError, ConfigError, InvalidObject, ObjectRef, ResourceKind, UnknownKind
from agent.cluster.config import auto_configuration, in_cluster_configuration, kubeconfig_configuration
from agent.cluster.discovery import KindCache, fetch_kinds, kinds_of
from agent.cluster.ratelimit import TokenBucket
from agent.cluster.watch import MAX_BACKOFF, backoff_delay

DEPLOYMENT = ResourceKind("apps", "v1", "Deployment", "deployments", True)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# -- refs --------------------------------------------------------------------------------------------------------------
def test_ref_of_object_and_readable_names() -> None:
    ref = ObjectRef.of({"apiVersion": "apps/v1", "kind": "Deployment",
                        "metadata": {"name": "inference", "namespace": "ml"}})
    assert ref == ObjectRef("apps/v1", "Deployment", "ml", "inference")
    assert str(ref) == "Deployment ml/inference"
    assert str(ObjectRef("v1", "Namespace", "", "ml")) == "Namespace ml"
    assert str(ObjectRef("v1", "ConfigMap", "ml", "")) == "ConfigMap in namespace ml"


@pytest.mark.parametrize(("obj", "fix"), [
    ({"apiVersion": "v1", "metadata": {"name": "x"}}, "set `kind`"),
    ({"kind": "ConfigMap", "metadata": {"name": "x"}}, "set `apiVersion`"),
    ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}, "set `metadata.name`"),
    ({"apiVersion": "v1", "kind": "ConfigMap"}, "set `metadata.name`"),
    ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": 3}}, "must be a string"),
    (["not", "a", "mapping"], "a mapping"),
])
def test_ref_of_bad_manifest_says_what_to_fix(obj: object, fix: str) -> None:
    with pytest.raises(InvalidObject, match=fix):
        ObjectRef.of(obj)  # type: ignore[arg-type]


def test_generate_name_stands_in_for_the_name_only_when_allowed() -> None:
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"generateName": "migrate-", "namespace": "ml"}}
    assert str(ObjectRef.of(job, generate_name=True)) == "Job ml/migrate-*"
    with pytest.raises(InvalidObject):
        ObjectRef.of(job)


def test_resource_paths() -> None:
    assert DEPLOYMENT.api_version == "apps/v1"
    assert DEPLOYMENT.object_path("ml", "inference") == "/apis/apps/v1/namespaces/ml/deployments/inference"
    assert DEPLOYMENT.collection_path("") == "/apis/apps/v1/deployments"
    ns = ResourceKind("", "v1", "Namespace", "namespaces", False)
    assert ns.object_path("", "ml") == "/api/v1/namespaces/ml"
    with pytest.raises(InvalidObject):
        DEPLOYMENT.object_path("ml", "../secrets")


# -- errors ------------------------------------------------------------------------------------------------------------
def test_cluster_error_from_a_status_names_the_object_and_the_causes() -> None:
    body = json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Invalid", "code": 422,
                       "message": 'Deployment.apps "inference" is invalid: [...]',
                       "details": {"causes": [
                           {"field": "spec.template.metadata.labels", "message": "Invalid value: selector mismatch"},
                           {"field": "spec.template.spec.containers", "message": "Required value"}]}})
    err = ClusterError.from_response(422, "Unprocessable Entity", body.encode(),
                                     ObjectRef("apps/v1", "Deployment", "ml", "inference"))
    assert (err.status, err.reason) == (422, "Invalid")
    assert str(err) == ("Deployment ml/inference: 422 Invalid: spec.template.metadata.labels: Invalid value: "
                        "selector mismatch; spec.template.spec.containers: Required value")


def test_cluster_error_from_a_non_status_body() -> None:
    err = ClusterError.from_response(503, "Service Unavailable", b"upstream connect error")
    assert str(err) == "503 Service Unavailable: upstream connect error"


def test_unknown_kind_names_the_kind_and_the_missing_crd() -> None:
    err = UnknownKind("example.com/v1", "Widget").with_ref(ObjectRef("example.com/v1", "Widget", "ml", "w"))
    assert isinstance(err, ClusterError) and err.status == 404
    assert str(err).startswith('Widget ml/w: 404 UnknownKind: the cluster serves no kind "Widget" in '
                               '"example.com/v1"')
    assert "CustomResourceDefinition installed" in str(err)


# -- rate limit --------------------------------------------------------------------------------------------------------
def test_token_bucket_allows_a_burst_then_paces_at_qps() -> None:
    clock = FakeClock()
    bucket = TokenBucket(qps=10, burst=5, clock=clock)
    waits = [bucket.reserve() for _ in range(8)]
    assert waits[:5] == [0, 0, 0, 0, 0]
    assert waits[5:] == pytest.approx([0.1, 0.2, 0.3])
    clock.now += 10  # long idle: refills up to the burst, not beyond
    assert [bucket.reserve() for _ in range(6)] == pytest.approx([0, 0, 0, 0, 0, 0.1])


def test_token_bucket_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="qps"):
        TokenBucket(qps=0, burst=1)


# -- watch backoff -----------------------------------------------------------------------------------------------------
def test_backoff_is_zero_after_a_healthy_attempt_then_grows_jittered_and_capped() -> None:
    assert backoff_delay(0) == 0
    assert backoff_delay(1, rng=lambda: 1.0) == pytest.approx(0.1)
    assert backoff_delay(3, rng=lambda: 1.0) == pytest.approx(0.4)
    assert backoff_delay(3, rng=lambda: 0.0) == pytest.approx(0.2)
    assert backoff_delay(30, rng=lambda: 1.0) == MAX_BACKOFF


# -- discovery ---------------------------------------------------------------------------------------------------------
def test_kinds_of_skips_subresources() -> None:
    doc = {"groupVersion": "apps/v1", "resources": [
        {"name": "deployments", "kind": "Deployment", "namespaced": True},
        {"name": "deployments/scale", "kind": "Scale", "namespaced": True}]}
    assert kinds_of(doc) == [DEPLOYMENT]


def test_fetch_kinds_skips_a_broken_group_version() -> None:
    docs = {"/api/v1": {"groupVersion": "v1", "resources": [{"name": "pods", "kind": "Pod", "namespaced": True}]},
            "/apis": {"groups": [{"versions": [{"groupVersion": "apps/v1"}]},
                                 {"versions": [{"groupVersion": "metrics.k8s.io/v1beta1"}]}]},
            "/apis/apps/v1": {"groupVersion": "apps/v1",
                              "resources": [{"name": "deployments", "kind": "Deployment", "namespaced": True}]}}

    def get(path: str) -> dict:
        if path not in docs:
            raise ClusterError(503, "ServiceUnavailable", "the server is currently unable to handle the request")
        return docs[path]

    assert set(fetch_kinds(get)) == {("v1", "Pod"), ("apps/v1", "Deployment")}


class FakeDiscovery:
    def __init__(self) -> None:
        self.kinds = {("apps/v1", "Deployment"): DEPLOYMENT}
        self.loads = 0

    async def load(self) -> dict:
        self.loads += 1
        await asyncio.sleep(0)
        return dict(self.kinds)


async def test_kind_cache_refreshes_on_a_miss_at_most_once_per_interval() -> None:
    clock, discovery = FakeClock(), FakeDiscovery()
    cache = KindCache(discovery.load, miss_refresh_interval=2.0, clock=clock)
    assert await cache.resolve("apps/v1", "Deployment") == DEPLOYMENT  # first use loads
    assert discovery.loads == 1
    widget = ResourceKind("example.com", "v1", "Widget", "widgets", True)
    discovery.kinds[("example.com/v1", "Widget")] = widget
    with pytest.raises(UnknownKind):  # within the interval: no refresh
        await cache.resolve("example.com/v1", "Widget")
    assert discovery.loads == 1
    clock.now += 2.0
    assert await cache.resolve("example.com/v1", "Widget") == widget  # a miss after the interval refreshes
    assert discovery.loads == 2
    with pytest.raises(UnknownKind, match="served as apps/v1: change the apiVersion"):
        await cache.resolve("apps/v1beta1", "Deployment")


async def test_kind_cache_invalidation_refreshes_once_for_concurrent_lookups() -> None:
    clock, discovery = FakeClock(), FakeDiscovery()
    cache = KindCache(discovery.load, miss_refresh_interval=3600, clock=clock)
    await cache.refresh()
    widget = ResourceKind("example.com", "v1", "Widget", "widgets", True)
    discovery.kinds[("example.com/v1", "Widget")] = widget
    cache.invalidate()
    results = await asyncio.gather(*(cache.resolve("example.com/v1", "Widget") for _ in range(5)))
    assert results == [widget] * 5
    assert discovery.loads == 2


# -- configuration -----------------------------------------------------------------------------------------------------
def test_missing_kubeconfig_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist: pass --kubeconfig"):
        kubeconfig_configuration(tmp_path / "nope")
    with pytest.raises(ConfigError, match="set KUBECONFIG"):
        kubeconfig_configuration(environ={"KUBECONFIG": str(tmp_path / "nope")})


def test_not_in_a_pod(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="KUBERNETES_SERVICE_HOST"):
        in_cluster_configuration(environ={})


def test_in_cluster_without_a_mounted_token(tmp_path: Path) -> None:
    env = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    with pytest.raises(ConfigError, match="token is missing or empty: is automountServiceAccountToken"):
        in_cluster_configuration(env, tmp_path)


def _service_account(tmp_path: Path, token: str) -> Path:
    (tmp_path / "token").write_text(token)
    (tmp_path / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    return tmp_path


def test_in_cluster_token_is_reread_as_kubelet_rotates_it(tmp_path: Path) -> None:
    env = {"KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"}
    config = in_cluster_configuration(env, _service_account(tmp_path, "first\n"), reread_seconds=0)
    assert config.host == "https://[fd00::1]:443"
    assert config.get_api_key_with_prefix("BearerToken") == "Bearer first"
    (tmp_path / "token").write_text("second")
    assert config.get_api_key_with_prefix("BearerToken") == "Bearer second"


def test_auto_prefers_in_cluster_only_without_a_kubeconfig(tmp_path: Path) -> None:
    env = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    config = auto_configuration(environ=env, service_account_dir=_service_account(tmp_path, "t"))
    assert config.host == "https://10.96.0.1:443"
    with pytest.raises(ConfigError, match="kubeconfig"):  # a named kubeconfig wins over the pod's account
        auto_configuration(tmp_path / "missing", environ=env, service_account_dir=tmp_path)
