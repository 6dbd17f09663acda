"""A cluster's rendered applications as the wire's DesiredState."""

from __future__ import annotations

import json
from pathlib import Path

from fleetline.wire import fleet_pb2
from hub.fleet.load import load_fleet
from hub.plan.bundle import cluster_desired_state
from hub.plan.desired import Renderer
from hub.render.files import DirectoryFiles
from tests.hub.render.conftest import write_tree

FLEET = """\
apiVersion: fleetline.io/v1alpha1
kind: Fleet
metadata:
  name: t
spec:
  environments:
    prod: {production: true}
    staging: {sync: automated}
  clusters:
  - {name: euw1, region: eu, environment: prod}
  - {name: stg1, region: eu, environment: staging}
  applications:
  - name: web
    source: {path: web}
    destination: {namespace: web}
    syncPolicy:
      automated: {prune: true, selfHeal: true}
      syncOptions: [CreateNamespace=true]
    ignoreDifferences:
    - {group: apps, kind: Deployment, jsonPointers: [/spec/replicas]}
  - name: broken
    source: {path: nowhere}
"""
FILES = {"fleet.yaml": FLEET,
         "web/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: b}\n"}


def test_desired_state_message(tmp_path: Path) -> None:
    write_tree(tmp_path, FILES)
    files = DirectoryFiles(tmp_path)
    fleet = load_fleet(files)
    for cluster, manual in (("euw1", True), ("stg1", False)):
        states = Renderer().render_cluster(files, fleet, cluster)
        message = cluster_desired_state(fleet, cluster, "abc123", states)
        again = fleet_pb2.DesiredState.FromString(message.SerializeToString())
        assert again.cluster == cluster and again.revision == "abc123"
        [web] = again.applications  # the broken application is left out
        assert (web.name, web.namespace, web.manual, web.revision) == ("web", "web", manual, "abc123")
        [manifest] = [json.loads(m) for m in web.manifests_json]
        assert manifest["metadata"]["namespace"] == "web" and manifest["data"] == {"a": "b"}
        assert web.sync_policy.automated.prune and web.sync_policy.automated.self_heal
        assert list(web.sync_policy.sync_options) == ["CreateNamespace=true"]
        assert web.sync_policy.retry.limit == 5 and web.sync_policy.retry.backoff.duration == "5s"  # Argo CD's
        assert list(web.ignore_differences[0].json_pointers) == ["/spec/replicas"]
        assert web.content_hash == states[1].content_hash
