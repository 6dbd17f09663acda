"""overlays-example/, the example fleet repository of the demo: the fleet validates, every (cluster, application)
pair renders without errors or policy findings, and each renders exactly as `kubectl kustomize` renders the same
directory (skipped without kubectl)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.fleet.load import load_fleet
from hub.fleet.model import Fleet
from hub.plan.desired import Renderer
from hub.render.files import DirectoryFiles
from tests.hub.render.conftest import assert_same_output, fleetline_render, require_kubectl, run_kustomize

ROOT = Path(__file__).resolve().parents[2] / "overlays-example"
CLUSTERS = {"staging-1": ("us-east", "staging"), "us-east-1": ("us-east", "production"),
            "us-west-2": ("us-west", "production"), "eu-west-1": ("eu", "production")}
APPLICATIONS = ("model-registry-config", "inference-server", "training-scheduler", "monitoring")


def _fleet() -> Fleet:
    return load_fleet(DirectoryFiles(str(ROOT)))


def _pairs() -> list[tuple[str, str, str]]:
    fleet = _fleet()
    return [(cluster.name, app.name, app.source_path_for(cluster))
            for cluster in fleet.clusters for app in fleet.applications_for(cluster.name)]


PAIRS = _pairs()


def test_the_fleet_validates_with_the_documented_clusters_and_gates() -> None:
    fleet = _fleet()
    assert {c.name: (c.region, c.environment) for c in fleet.clusters} == CLUSTERS
    assert fleet.cluster("eu-west-1").labels.get("compliance") == "gdpr"
    production = fleet.environments["production"]
    assert production.production and production.approvals.required == 1
    assert not fleet.automated_sync(fleet.application("inference-server", "us-east-1"), "us-east-1")
    staging = fleet.application("inference-server", "staging-1")
    assert fleet.automated_sync(staging, "staging-1") and staging.sync_policy.automated.self_heal
    assert [a.name for a in fleet.applications_for("us-east-1")] == list(APPLICATIONS)
    assert "training-scheduler" not in {a.name for a in fleet.applications_for("eu-west-1")}  # GDPR: no training
    plan = fleet.rollout_plan(fleet.application("inference-server", "us-east-1"))
    assert [step for step in plan if step] == [["staging-1"], ["us-west-2"], ["us-east-1"], ["eu-west-1"]]


@pytest.mark.parametrize("cluster", sorted(CLUSTERS))
def test_every_application_renders_for_the_cluster_without_errors_or_findings(cluster: str) -> None:
    fleet = _fleet()
    states = Renderer().render_cluster(DirectoryFiles(str(ROOT)), fleet, cluster)
    assert states, f"{cluster} runs no application"
    for state in states:
        assert state.ok, f"{cluster}/{state.app}: {state.errors}"
        assert not state.findings, f"{cluster}/{state.app}: {[str(f) for f in state.findings]}"
        kinds = {obj["kind"] for obj in state.objects}
        assert "Secret" not in kinds, f"{cluster}/{state.app}: a plain Secret in Git"


def test_the_regional_differences_are_rendered() -> None:
    def deployment(cluster: str) -> dict:
        objects = fleetline_render(ROOT, f"apps/inference-server/clusters/{cluster}")
        return next(o for o in objects if o["kind"] == "Deployment")

    def gpus(cluster: str) -> str:
        return deployment(cluster)["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"][
            "nvidia.com/gpu"]

    assert (deployment("us-east-1")["spec"]["replicas"], gpus("us-east-1")) == (3, "2")
    assert (deployment("us-west-2")["spec"]["replicas"], gpus("us-west-2")) == (2, "1")  # the smaller GPU pool
    image = deployment("eu-west-1")["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image.startswith("registry.eu.example.com/"), image  # eu's own mirror
    east = deployment("us-east-1")["spec"]["template"]["spec"]["containers"][0]
    assert east["image"].startswith("registry.example.com/") and "startupProbe" in east
    stores = {region: next(o for o in fleetline_render(ROOT, f"apps/model-registry-config/overlays/{region}")
                           if o["kind"] == "ClusterSecretStore")["spec"]["provider"]
              for region in ("us-east", "us-west", "eu")}
    assert set(stores["eu"]) == {"vault"} and stores["us-west"]["aws"]["region"] == "us-west-2"


@pytest.mark.kubectl
@pytest.mark.parametrize(("cluster", "app", "path"), PAIRS, ids=[f"{c}/{a}" for c, a, _ in PAIRS])
def test_the_pair_renders_as_kubectl_kustomize_does(cluster: str, app: str, path: str) -> None:
    require_kubectl()
    oracle = run_kustomize(ROOT / path)
    assert oracle.ok, f"kubectl kustomize {path}: {oracle.stderr}"
    assert_same_output(oracle.docs, fleetline_render(ROOT, path), f"{cluster}/{app} ({path})")
