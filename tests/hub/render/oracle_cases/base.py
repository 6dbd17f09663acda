"""The record of one differential case: a small repository (path -> file text) and the directory to build."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    """A repository written to a temporary directory, built at `path` by kustomize and by Fleetline.

    `files` maps repository-relative POSIX paths to file text (bytes for binary files); `path` is the
    kustomization directory to build, relative to the repository root ("" is the root); `about` says which
    behaviour the case pins down."""

    name: str
    files: dict[str, str | bytes]
    path: str = ""
    about: str = ""


def text(source: str) -> str:
    """A dedented file body without the leading newline of a triple-quoted literal."""
    return textwrap.dedent(source).lstrip("\n")


def deployment(name: str, image: str = "nginx:1.27.0", labels: str = "", extra_spec: str = "") -> str:
    """A small apps/v1 Deployment selecting `app: <name>`; extra `labels` (YAML lines) go on it and its pods."""
    label_lines = f"app: {name}" + (f"\n{labels}" if labels else "")
    indented = textwrap.indent(label_lines, " " * 8)
    meta_labels = textwrap.indent(label_lines, " " * 4)
    body = f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels:
{meta_labels}
spec:
  replicas: 1
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
{indented}
    spec:
      containers:
      - name: {name}
        image: {image}
        ports:
        - containerPort: 8080
"""
    return body + (textwrap.indent(text(extra_spec), "      ") if extra_spec else "")


def service(name: str, port: int = 80, target_port: int = 8080) -> str:
    """A ClusterIP Service selecting `app: <name>`."""
    return f"""\
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  selector:
    app: {name}
  ports:
  - name: http
    port: {port}
    targetPort: {target_port}
"""
