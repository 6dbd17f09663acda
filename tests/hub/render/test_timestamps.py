"""Unquoted YAML timestamps come out of kustomize rewritten as RFC 3339 (its JSON round trip), except in
annotations; we mirror it so that ConfigMaps holding dates render identically."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from fleetline.yamlsafe import Timestamp, load_one
from hub.render.build import render_directory
from hub.render.emit import go_timestamp, to_yaml

MANIFEST = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: release
  labels:
    released: 2024-01-01
  annotations:
    released: 2024-01-01
    at: 2001-12-14t21:59:43.10-05:00
data:
  a: 2001-12-14t21:59:43.10-05:00
  b: 2002-2-3T1:2:3.500+00:00
  c: 2002-12-14T01:02:03.123456789+01:30
  d: 2002-12-14T01:02:03Z
  e: 2001-12-14 21:59:43.10
  f: 2002-12-14T01:02:03
  g: 2002-12-14T01:02:03.000Z
  h: 2024-1-5
  i: 2023-02-30
  j: "2024-01-01"
spec:
  list:
  - 2001-12-14t21:59:43.10-05:00
  - 2024-01-01
"""


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-01-01", "2024-01-01T00:00:00Z"), ("2024-1-5", "2024-01-05T00:00:00Z"),
    ("2001-12-14t21:59:43.10-05:00", "2001-12-14T21:59:43.1-05:00"),
    ("2002-12-14T01:02:03.000Z", "2002-12-14T01:02:03Z"),
    ("2002-2-3T1:2:3.500+00:00", "2002-02-03T01:02:03.5Z"), ("2001-12-14 21:59:43.10", "2001-12-14T21:59:43.1Z"),
    ("2002-12-14T01:02:03", None), ("2023-02-30", None), ("2001-12-14 21:59:43.10Z", None), ("12:30", None),
])
def test_go_timestamp(text: str, expected: str | None) -> None:
    assert go_timestamp(text) == expected


def test_loader_marks_only_go_timestamps() -> None:
    doc = load_one(MANIFEST, "cm.yaml")
    assert isinstance(doc["data"]["a"], Timestamp) and isinstance(doc["data"]["e"], Timestamp)
    assert not isinstance(doc["data"]["f"], Timestamp) and not isinstance(doc["data"]["j"], Timestamp)
    assert doc["data"]["a"] == "2001-12-14t21:59:43.10-05:00"  # the text, until the renderer rewrites it


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (the kustomize oracle) is not on PATH")
def test_timestamps_render_like_kustomize(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: [cm.yaml]\n")
    (tmp_path / "cm.yaml").write_text(MANIFEST)
    expected = subprocess.run(["kubectl", "kustomize", str(tmp_path)], capture_output=True, text=True,
                              check=True).stdout
    objects = render_directory(tmp_path)
    assert to_yaml(objects) == expected
    assert objects[0]["metadata"]["annotations"]["released"] == "2024-01-01"
    assert objects[0]["metadata"]["labels"]["released"] == "2024-01-01T00:00:00Z"
    assert type(objects[0]["data"]["a"]) is str  # plain strings leave the renderer
