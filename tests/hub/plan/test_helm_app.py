"""A Helm chart application goes through the same pipeline as kustomize output: per-region value files,
destination namespace, ownership stamps, policies, hashes, change impact."""

from __future__ import annotations

import shutil
from pathlib import Path

import git
import pytest

from fleetline.identity import APP_LABEL, TRACKING_ANNOTATION
from hub.plan.fleetrender import FleetRenderer
from hub.plan.impact import Pair

pytest.importorskip("helm_python", reason="needs the optional extra fleetline[helm] (helm-python-sdk)")

CHART = Path(__file__).resolve().parent.parent / "render" / "charts" / "inference-server"

FLEET = """\
apiVersion: fleetline.io/v1alpha1
kind: Fleet
metadata:
  name: helm-fleet
spec:
  environments:
    prod:
      production: true
  clusters:
  - {name: use1, region: us-east, environment: prod}
  - {name: usw2, region: us-west, environment: prod}
  - {name: euw1, region: eu, environment: prod}
  applications:
  - name: inference
    source:
      helm:
        chart: charts/inference-server
        valueFiles: [values-prod.yaml, "values-{region}.yaml"]
        values:
          podAnnotations:
            team: ml-platform
    destination:
      namespace: ml-serving
"""


def deployment_of(objects: list[dict]) -> dict:
    return next(o for o in objects if o["kind"] == "Deployment")


def test_chart_with_per_region_values_through_the_pipeline(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(CHART, root / "charts" / "inference-server")
    (root / "fleet.yaml").write_text(FLEET)
    repo = git.Repo.init(root)
    repo.git.add(A=True)
    repo.index.commit("helm fleet")
    renderer = FleetRenderer(root)
    state = renderer.render()
    assert all(s.ok for s in state.states.values()), [s.errors for s in state.states.values()]
    east, eu = state.states[Pair("use1", "inference")], state.states[Pair("euw1", "inference")]
    assert east.content_hash != eu.content_hash  # the region's value file made a difference
    for desired in (east, eu):
        for obj in desired.objects:
            assert obj["metadata"]["labels"][APP_LABEL] == "inference"
            assert obj["metadata"]["annotations"][TRACKING_ANNOTATION].startswith("inference:")
        deployment = deployment_of(desired.objects)
        assert deployment["metadata"]["namespace"] == "ml-serving"
        assert deployment["spec"]["template"]["metadata"]["annotations"]["team"] == "ml-platform"
    values_eu = root / "charts/inference-server/values-eu.yaml"
    values_eu.write_text(values_eu.read_text() + "\nreplicaCount: 7\n")
    repo.git.add(A=True)
    _, rerendered = renderer.advance(repo.index.commit("eu: 7 replicas").hexsha)
    # Helm loads every file of the chart (templates may read any through .Files), so every pair of the chart
    # depends on every file in it: all three re-render, and only eu's output changes.
    assert rerendered == {Pair("use1", "inference"), Pair("usw2", "inference"), Pair("euw1", "inference")}
    after = renderer.current.states
    assert deployment_of(after[Pair("euw1", "inference")].objects)["spec"]["replicas"] == 7
    assert after[Pair("use1", "inference")].content_hash == east.content_hash
    (root / "README.md").write_text("outside the chart\n")
    repo.git.add(A=True)
    _, rerendered = renderer.advance(repo.index.commit("docs").hexsha)
    assert rerendered == set()
