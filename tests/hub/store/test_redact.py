"""No Secret value is stored: the redaction rule, and the store applying it to audit data, events and syncs."""

from __future__ import annotations

import json
import sqlite3

from hub.store.records import AuditDraft, EventRecord, SyncRecord
from hub.store.redact import REDACTED, names_secret, redact
from hub.store.sqlite import SqliteStore

SECRET = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "ml", "annotations": {
    "kubectl.kubernetes.io/last-applied-configuration": '{"data":{"password":"aHVudGVyMg=="}}', "team": "ml"}},
          "type": "Opaque", "data": {"password": "aHVudGVyMg==", "user": "YWRtaW4="}, "stringData": {"token": "t0k"}}


def test_a_secret_object_keeps_its_keys_and_loses_its_values() -> None:
    out = redact({"objects": [SECRET, {"kind": "ConfigMap", "data": {"mode": "fast"}}]})
    secret, config = out["objects"]
    assert secret["data"] == {"password": REDACTED, "user": REDACTED}
    assert secret["stringData"] == {"token": REDACTED}
    assert secret["metadata"]["annotations"] == {"kubectl.kubernetes.io/last-applied-configuration": REDACTED,
                                                 "team": "ml"}
    assert secret["metadata"]["name"] == "db" and secret["type"] == "Opaque"
    assert config == {"kind": "ConfigMap", "data": {"mode": "fast"}}  # a ConfigMap's data is not secret
    assert SECRET["data"]["password"] == "aHVudGVyMg=="  # the input is not modified


def test_a_drift_diff_of_a_secret_loses_the_values_of_its_data_fields() -> None:
    details = {"object": "Secret ml/db", "managers": ["kubectl-edit"], "fields": [
        {"path": "/data/password", "desired": "aHVudGVyMg==", "live": "c2VjcmV0", "manager": "kubectl-edit"},
        {"path": "/stringData", "desired": {"token": "abc"}, "live": None, "manager": None},
        {"path": "/metadata/labels/tier", "desired": "db", "live": "cache", "manager": "kubectl-edit"},
        {"path": "/data/user", "desired": "<redacted hmac-sha256:1a2b3c4d>", "live": "<redacted hmac-sha256:9f>"}]}
    fields = redact(details)["fields"]
    assert fields[0] == {"path": "/data/password", "desired": REDACTED, "live": REDACTED, "manager": "kubectl-edit"}
    assert fields[1]["desired"] == {"token": REDACTED} and fields[1]["live"] is None
    assert fields[2]["desired"] == "db" and fields[2]["live"] == "cache"  # not a data field: kept
    assert fields[3]["desired"] == "<redacted hmac-sha256:1a2b3c4d>"  # the agent's tokens are kept


def test_the_same_diff_of_a_configmap_is_kept() -> None:
    details = {"object": "ConfigMap ml/settings", "fields": [{"path": "/data/mode", "desired": "a", "live": "b"}]}
    assert redact(details) == details


def test_secret_names_in_every_form_the_hub_and_agent_write() -> None:
    for name in ("Secret ml/db", "Secret db", "Secret/ml/db", "v1/Secret/ml/db", "inference:/Secret:ml/db"):
        assert names_secret(name), name
    for name in ("ConfigMap ml/db", "inference:apps/Deployment:ml/web", "SecretStore ml/x", "", None,
                 "inference:example.com/Secret:ml/db"):
        assert not names_secret(name), name
    patch = {"resource": "inference:/Secret:ml/db", "patch": [{"op": "replace", "path": "/data/password",
                                                               "value": "c2VjcmV0"}]}
    assert redact(patch)["patch"][0]["value"] == REDACTED


def test_the_store_redacts_audit_data_events_and_sync_results(store: SqliteStore) -> None:
    entry = store.append_audit([AuditDraft("drift_detected", cluster="eu-1", data={
        "object": "Secret ml/db", "fields": [{"path": "/data/password", "desired": "aHVudGVyMg==",
                                              "live": "c2VjcmV0"}], "manifest": SECRET})])[0]
    store.add_events([EventRecord("eu-1", 1, "2026-03-01T09:00:00.000000Z", "DRIFT_DETECTED",
                                  resource="app:/Secret:ml/db", details={
                                      "object": "Secret ml/db",
                                      "fields": [{"path": "/data/password", "live": "c2VjcmV0"}]})])
    store.record_sync(SyncRecord("eu-1", "app", "r1", "Succeeded", result={"resources": [SECRET]}))
    assert entry.data["fields"][0]["live"] == REDACTED
    with sqlite3.connect(store.path) as conn:
        everything = json.dumps([conn.execute(f"SELECT * FROM {table}").fetchall()
                                 for table in ("audit_log", "events", "sync_history")])
    for value in ("aHVudGVyMg==", "c2VjcmV0", "YWRtaW4=", "t0k"):
        assert value not in everything
    assert REDACTED in everything
