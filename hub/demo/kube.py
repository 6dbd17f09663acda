"""The demo's own look at a simulated cluster: a Deployment's image, read with the official client, and drift
made the way the tour makes it (`kubectl set image`; through the client when kubectl is not installed)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from kubernetes import client, config


def deployment_image(kubeconfig: Path, namespace: str, name: str) -> str:
    """The first container's image of the Deployment (blocking; run it in a thread)."""
    api = config.new_client_from_config(config_file=str(kubeconfig))
    try:
        deployment = client.AppsV1Api(api).read_namespaced_deployment(name, namespace)
        return deployment.spec.template.spec.containers[0].image
    finally:
        api.close()


def set_image(kubeconfig: Path, namespace: str, name: str, container: str, image: str, cache_dir: Path) -> str:
    """Change the container's image behind Git's back; which tool did it (blocking; run it in a thread)."""
    kubectl = shutil.which("kubectl")
    if kubectl:
        result = subprocess.run([kubectl, "--kubeconfig", str(kubeconfig), "--cache-dir", str(cache_dir),
                                 "-n", namespace, "set", "image", f"deployment/{name}", f"{container}={image}"],
                                capture_output=True, text=True, timeout=60, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"kubectl set image failed: {result.stderr.strip() or result.stdout.strip()}")
        return "kubectl set image"
    api = config.new_client_from_config(config_file=str(kubeconfig))
    try:
        body = {"spec": {"template": {"spec": {"containers": [{"name": container, "image": image}]}}}}
        client.AppsV1Api(api).patch_namespaced_deployment(name, namespace, body, field_manager="kubectl-set")
    finally:
        api.close()
    return "a strategic merge patch as kubectl-set (kubectl is not installed)"
