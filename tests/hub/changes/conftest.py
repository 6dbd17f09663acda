"""A fleet repository as the hub sees it: a bare "remote", the hub's working clone, and a teammate's clone.

The fleet has three clusters (staging-1 in staging; us-east-1 and eu-1 in production) and two applications:
`inference`, rendered from one kustomize overlay per cluster (image tag and MODEL_VERSION literal there), and
`monitor`, a plain manifest directory. Renders go through the hub's own renderer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import git
import pytest

from hub.fleet import load_fleet
from hub.plan.desired import AppDesiredState, Renderer
from hub.render.files import GitTreeFiles

AUTHOR = "Ada Lovelace <ada@example.com>"
IMAGE = "registry.example.com/ml/inference"
CLUSTERS = {"staging-1": "us-east", "us-east-1": "us-east", "eu-1": "eu"}

FLEET = """\
apiVersion: fleetline.io/v1alpha1
kind: Fleet
metadata:
  name: test
spec:
  environments:
    staging: {ref: main}
    production: {ref: main, production: true}
  clusters:
  - {name: staging-1, region: us-east, environment: staging}
  - {name: us-east-1, region: us-east, environment: production}
  - {name: eu-1, region: eu, environment: production}
  applications:
  - name: inference
    source: {path: "apps/inference/overlays/{name}"}
    destination: {namespace: inference}
  - name: monitor
    source: {path: apps/monitor}
    destination: {namespace: monitor}
"""

BASE = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- deployment.yaml
configMapGenerator:
- name: inference-settings
  literals:
  - LOG_LEVEL=info
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: inference
spec:
  selector:
    matchLabels: {app: inference}
  template:
    metadata:
      labels: {app: inference}
    spec:
      containers:
      - name: server
        image: registry.example.com/ml/inference:1.0.0
        envFrom:
        - configMapRef: {name: inference-settings}
"""

OVERLAY = """\
# {cluster}: the server image and its model move together
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- ../../base
images:
- name: registry.example.com/ml/inference   # the server
  newTag: "{tag}"

configMapGenerator:
- name: inference-settings
  behavior: merge
  literals:
  - MODEL_VERSION={model}   # coupled to the image tag
  - REGION={region}
"""

MONITOR = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: monitor
data:
  interval: 30s
"""


def overlay(cluster: str, tag: str = "1.0.0", model: str = "resnet-50-v1") -> str:
    return OVERLAY.format(cluster=cluster, tag=tag, model=model, region=CLUSTERS[cluster])


def overlay_path(cluster: str) -> str:
    return f"apps/inference/overlays/{cluster}/kustomization.yaml"


@dataclass
class Clone:
    """A working clone with helpers to write, commit and push."""

    path: Path
    repo: git.Repo

    def write(self, files: dict[str, str]) -> None:
        for rel, text in files.items():
            target = self.path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)

    def commit(self, files: dict[str, str], message: str, push: bool = True) -> str:
        self.write(files)
        self.repo.git.add(A=True)
        self.repo.git.commit("-q", "-m", message)
        if push:
            self.repo.git.push("-q", "origin", "HEAD:main")
        return self.repo.head.commit.hexsha

    def pull(self) -> None:
        self.repo.git.pull("-q", "--ff-only", "origin", "main")

    def status(self) -> str:
        return self.repo.git.status("--porcelain", "--untracked-files=all")


@dataclass
class World:
    """The remote, the hub's working clone (cloned before the teammate's commits) and a teammate's clone."""

    remote: Path
    hub: Clone
    dev: Clone
    initial: str

    def remote_head(self, branch: str = "main") -> str:
        return git.Repo(self.remote).commit(branch).hexsha

    def remote_commit(self, revision: str = "main") -> git.Commit:
        return git.Repo(self.remote).commit(revision)


def _identity(repo: git.Repo, name: str) -> None:
    with repo.config_writer() as config:
        config.set_value("user", "name", name)
        config.set_value("user", "email", f"{name.lower()}@example.com")


@pytest.fixture
def world(tmp_path: Path) -> World:
    seed_path = tmp_path / "seed"
    seed = Clone(seed_path, git.Repo.init(seed_path, initial_branch="main"))
    _identity(seed.repo, "Seed")
    files = {"fleet.yaml": FLEET, "apps/inference/base/kustomization.yaml": BASE,
             "apps/inference/base/deployment.yaml": DEPLOYMENT, "apps/monitor/configmap.yaml": MONITOR}
    files.update({overlay_path(cluster): overlay(cluster) for cluster in CLUSTERS})
    initial = seed.commit(files, "initial fleet", push=False)
    remote = tmp_path / "remote.git"
    git.Repo.clone_from(seed_path, remote, bare=True)
    clones = []
    for name in ("hub", "dev"):
        repo = git.Repo.clone_from(remote, tmp_path / name)
        _identity(repo, name.capitalize())
        clones.append(Clone(tmp_path / name, repo))
    return World(remote, clones[0], clones[1], initial)


def render(repo_path: Path, revision: str, cluster: str, app: str = "inference") -> AppDesiredState:
    """The desired state the hub would send for (cluster, app) at `revision`."""
    files = GitTreeFiles(repo_path, revision)
    fleet = load_fleet(files)
    return Renderer().render_app(files, fleet, fleet.cluster(cluster), fleet.application(app, cluster))


def served(repo_path: Path, revision: str, cluster: str) -> tuple[str, str]:
    """(the inference server's image, its MODEL_VERSION) as rendered for `cluster` at `revision`."""
    state = render(repo_path, revision, cluster)
    assert state.ok, state.errors
    deployment = next(o for o in state.objects if o["kind"] == "Deployment")
    settings = next(o for o in state.objects if o["kind"] == "ConfigMap")
    return deployment["spec"]["template"]["spec"]["containers"][0]["image"], settings["data"]["MODEL_VERSION"]
