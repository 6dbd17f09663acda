"""Helpers for the Helm chart tests: render and lint `charts/fleetline-agent` and `charts/fleetline-hub` with Helm's
own engine (helm-python-sdk), a test PKI from `fleetline.certs`, and `materialize`, which turns a rendered
Deployment into a local command line (its Secret and ConfigMap volumes written to files, every mount path moved
under a scratch directory), so that the chart's exact flags run as a real process.

The kubesim fixtures (`sim`, `kube`, `kubectl`) come from tests/kubesim/conftest.py.
"""

from __future__ import annotations

import base64
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from fleetline import certs
from fleetline.yamlsafe import load_all
from tests.kubesim.conftest import kube, kubectl, sim, sim_options  # noqa: F401  (fixtures)

helm = pytest.importorskip("helm_python", reason="needs helm-python-sdk (the dev extra): Helm's engine in-process")

ROOT = Path(__file__).resolve().parents[2]
CHARTS = ROOT / "charts"
AGENT = CHARTS / "fleetline-agent"
HUB = CHARTS / "fleetline-hub"


@dataclass
class Pki:
    """A fleet CA with a hub serving certificate (for 127.0.0.1 and localhost) and one cluster's client certificate."""

    ca: str
    hub_cert: str
    hub_key: str
    client_cert: str
    client_key: str


def make_pki(cluster: str) -> Pki:
    ca_cert, ca_key = certs.create_ca("fleetline test CA")
    hub_cert, hub_key = certs.issue_server_certificate(ca_cert, ca_key, ["127.0.0.1", "localhost"])
    client_cert, client_key = certs.issue_cluster_certificate(ca_cert, ca_key, cluster, 1)
    return Pki(*(pem.decode() for pem in (ca_cert, hub_cert, hub_key, client_cert, client_key)))


@pytest.fixture(scope="session")
def pki() -> Pki:
    return make_pki("eu-west-1")


def agent_values(pki: Pki, **extra: object) -> dict:
    """The agent chart's required values (certificate credentials), plus `extra` at the top level."""
    return {"hub": {"address": "hub.example.com:7443"}, "cluster": {"name": "eu-west-1", "region": "eu"},
            "credentials": {"certificate": pki.client_cert, "key": pki.client_key, "ca": pki.ca}, **extra}


def hub_values(pki: Pki, **extra: object) -> dict:
    """The hub chart's required values (repository URL, TLS with the agents' client CA), plus `extra`."""
    return {"repo": {"url": "https://git.example.com/platform/fleet.git"},
            "tls": {"certificate": pki.hub_cert, "key": pki.hub_key, "clientCA": pki.ca}, **extra}


def render_files(chart: Path, values: dict, *, release: str = "fleetline", namespace: str = "fleetline") -> dict:
    """Template path -> rendered text, as Helm's engine renders an install (NOTES.txt included)."""
    loaded = helm.Chart.load(str(chart))
    try:
        return loaded.render(values, name=release, namespace=namespace, revision=1, is_install=True)
    finally:
        loaded.close()


def render(chart: Path, values: dict, **kw: str) -> list[dict]:
    """The objects the chart renders (NOTES.txt and empty documents left out), in template path order."""
    out: list[dict] = []
    for path, text in sorted(render_files(chart, values, **kw).items()):
        if not path.endswith(".yaml") or not text.strip():
            continue
        out.extend(obj for obj in load_all(text, path) if obj)
    return out


def find(objects: list[dict], kind: str, name: str | None = None, namespace: str | None = None) -> list[dict]:
    return [o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)
            and (namespace is None or o["metadata"].get("namespace") == namespace)]


def one(objects: list[dict], kind: str, name: str | None = None) -> dict:
    found = find(objects, kind, name)
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {[o['metadata']['name'] for o in found]}"
    return found[0]


def helm_binary() -> str | None:
    """The official helm binary (FLEETLINE_HELM, as `make test` sets it, else helm on PATH), or None."""
    candidate = os.environ.get("FLEETLINE_HELM") or shutil.which("helm")
    if not candidate:
        local = ROOT / ".venv" / "bin" / "helm-oracle"
        candidate = str(local) if local.exists() else None
    return candidate if candidate and os.access(candidate, os.X_OK) else None


@dataclass
class LocalPod:
    """A rendered Deployment's container as a local process: argv and where each mount went."""

    argv: list[str]
    mounts: dict[str, Path]  # mount path in the pod -> local directory


def materialize(deployment: dict, objects: list[dict], root: Path, extra: dict[str, dict] | None = None) -> LocalPod:
    """Write the first container's Secret and ConfigMap volumes (from `objects`, or `extra`: name -> object for
    Secrets the chart only refers to) under `root`, create its other volumes as directories, and return its
    command line with every mount path replaced by the local directory. `fleetline` runs as
    `python -m fleetline.cli`."""
    spec = deployment["spec"]["template"]["spec"]
    container = spec["containers"][0]
    volumes = {v["name"]: v for v in spec["volumes"]}
    sources = {(o["kind"], o["metadata"]["name"]): o for o in objects}
    for obj in (extra or {}).values():
        sources[(obj["kind"], obj["metadata"]["name"])] = obj
    mounts: dict[str, Path] = {}
    for mount in container["volumeMounts"]:
        local = root / mount["mountPath"].lstrip("/")
        local.mkdir(parents=True, exist_ok=True)
        mounts[mount["mountPath"]] = local
        volume = volumes[mount["name"]]
        if "secret" in volume:
            secret = sources[("Secret", volume["secret"]["secretName"])]
            data = {k: base64.b64decode(v) for k, v in secret.get("data", {}).items()}
            _write_items(local, data, volume["secret"].get("items"))
        elif "configMap" in volume:
            config_map = sources[("ConfigMap", volume["configMap"]["name"])]
            data = {k: v.encode() for k, v in config_map["data"].items()}
            _write_items(local, data, volume["configMap"].get("items"))
    command = container["command"]
    argv = [sys.executable, "-m", "fleetline.cli"] if command == ["fleetline"] else list(command)
    argv.extend(_relocate(arg, mounts) for arg in container["args"])
    return LocalPod(argv, mounts)


def _relocate(arg: str, mounts: dict[str, Path]) -> str:
    """`arg` (`--flag=/path` or `/path`) with a path under a mount moved to that mount's local directory."""
    flag, sep, value = arg.partition("=") if arg.startswith("--") else ("", "", arg)
    for path in sorted(mounts, key=len, reverse=True):
        if value == path or value.startswith(path.rstrip("/") + "/"):
            value = str(mounts[path]) + value[len(path):]
            break
    return f"{flag}{sep}{value}"


def _write_items(directory: Path, data: dict[str, bytes], items: list[dict] | None) -> None:
    chosen = {item["key"]: item["path"] for item in items} if items else {key: key for key in data}
    for key, path in chosen.items():
        assert key in data, f"the volume wants key {key!r}, the object has {sorted(data)}"
        (directory / path).write_bytes(data[key])
