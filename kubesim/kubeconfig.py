"""Kubeconfig files that point kubectl and the official Python client at a kubesim cluster.

One cluster, one user authenticating with a bearer token, one context; all three named after the cluster.
With a CA the server is verified (`certificate-authority-data`); without one the file has no TLS fields,
which suits a plain-HTTP server on loopback.

Beware: kubectl (client-go clientcmd) reads a user's credentials only when the server URL is https
("only try to read the auth information if we are secure"), so over plain HTTP kubectl sends no token
at all; the official Python client does send it. A plain-HTTP server must therefore accept kubectl
unauthenticated, or serve TLS whenever it requires a token.
"""

from __future__ import annotations

import base64
import os
import tempfile
from pathlib import Path

import yaml


def render_kubeconfig(name: str, server_url: str, token: str, ca_pem: bytes | None) -> str:
    """The kubeconfig YAML text."""
    cluster: dict = {"server": server_url}
    if ca_pem:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem).decode("ascii")
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": cluster}],
        "users": [{"name": name, "user": {"token": token}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
        "preferences": {},
    }
    return yaml.safe_dump(config, sort_keys=False, default_flow_style=False)


def write_kubeconfig(path: Path, name: str, server_url: str, token: str, ca_pem: bytes | None) -> Path:
    """Write the kubeconfig to `path` with mode 0600 (it holds a credential), atomically; returns `path`.

    Missing parent folders are created with mode 0700.
    """
    path = Path(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    text = render_kubeconfig(name, server_url, token, ca_pem)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
