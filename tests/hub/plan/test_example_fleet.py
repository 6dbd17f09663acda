"""Every (cluster, application) of the realistic example repository, rendered as the hub renders it from a Git
commit, equals `kubectl kustomize` of that pair's source directory plus Fleetline's ownership stamps."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import git
import pytest

from fleetline.identity import APP_LABEL, TRACKING_ANNOTATION, tracking_id
from fleetline.yamlsafe import load_all
from hub.plan.fleetrender import FleetRenderer
from hub.render.resource import CLUSTER_SCOPED_KINDS
from tests.hub.render.conftest import write_tree
from tests.hub.render.oracle_cases.example_repo import FILES

APPS = ("inference-server", "model-registry-config", "training-scheduler", "monitoring")
CLUSTERS = {"use1-gpu-prod-1": "us-east", "use1-gpu-prod-2": "us-east", "usw2-gpu-prod-1": "us-west",
            "eu-gpu-prod-1": "eu", "eu-gpu-prod-2": "eu"}

FLEET_YAML = """\
apiVersion: fleetline.io/v1alpha1
kind: Fleet
metadata:
  name: ml-platform
spec:
  environments:
    prod:
      ref: main
      production: true
      approvals:
        required: 1
  clusters:
""" + "".join(f"  - name: {name}\n    region: {region}\n    environment: prod\n" for name, region in CLUSTERS.items()) \
    + "  applications:\n" + "".join(f"""\
  - name: {app}
    source:
      path: apps/{app}/overlays/{{region}}
""" + ("""      pathOverrides:
        use1-gpu-prod-1: apps/inference-server/clusters/use1-gpu-prod-1
        eu-gpu-prod-1: apps/inference-server/clusters/eu-gpu-prod-1
""" if app == "inference-server" else "") + f"""    destination:
      namespace: {app}
""" for app in APPS)


def source_of(cluster: str, app: str) -> str:
    if app == "inference-server" and cluster in ("use1-gpu-prod-1", "eu-gpu-prod-1"):
        return f"apps/inference-server/clusters/{cluster}"
    return f"apps/{app}/overlays/{CLUSTERS[cluster]}"


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (the kustomize oracle) is not on PATH")
def test_every_pair_of_the_example_fleet_equals_kustomize(tmp_path: Path) -> None:
    root = tmp_path / "example"
    write_tree(root, {**FILES, "fleet.yaml": FLEET_YAML})
    repo = git.Repo.init(root)
    repo.git.add(A=True)
    repo.index.commit("example fleet")
    state = FleetRenderer(root).render()
    assert len(state.states) == len(CLUSTERS) * len(APPS)
    expected_by_source: dict[str, list[dict]] = {}
    for pair, desired in sorted(state.states.items()):
        assert desired.ok, (pair, desired.errors)
        source = source_of(pair.cluster, pair.app)
        assert desired.source == source
        if source not in expected_by_source:
            out = subprocess.run(["kubectl", "kustomize", str(root / source)], capture_output=True, check=True,
                                 timeout=60).stdout
            expected_by_source[source] = load_all(out, f"kubectl kustomize {source}")
        expected = expected_by_source[source]
        assert len(desired.objects) == len(expected), pair
        for ours, theirs in zip(desired.objects, expected, strict=True):
            theirs = {**theirs, "metadata": dict(theirs["metadata"])}
            meta = theirs["metadata"]
            if theirs["kind"] not in CLUSTER_SCOPED_KINDS:
                meta.setdefault("namespace", pair.app)
            meta["labels"] = {**meta.get("labels", {}), APP_LABEL: pair.app}
            meta["annotations"] = {**meta.get("annotations", {}), TRACKING_ANNOTATION: tracking_id(pair.app, theirs)}
            assert ours == theirs, (pair, theirs["kind"], meta["name"])
