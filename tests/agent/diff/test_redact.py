"""Secret values are compared by their bytes and never appear in a diff, only as redaction tokens."""

from __future__ import annotations

import base64
import json
import re

from agent.diff import IgnoreRule, diff_object, suggest_ignore
from agent.diff.redact import redact

TOKEN = re.compile(r"<redacted hmac-sha256:[0-9a-f]{8}>")


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def secret(**fields: object) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "registry", "namespace": "ml"},
            "type": "Opaque", **fields}


def live_secret(data: dict[str, str]) -> dict:
    obj = secret(data={key: b64(value) for key, value in data.items()})
    obj["metadata"].update(uid="u-1", resourceVersion="7", creationTimestamp="2026-11-28T00:00:00Z")
    return obj


def test_string_data_equals_the_same_bytes_in_data() -> None:
    desired = secret(stringData={"password": "hunter2"}, data={"user": b64("admin")})
    assert diff_object(desired, live_secret({"password": "hunter2", "user": "admin"})).in_sync


def test_string_data_wins_over_data_for_a_shared_key() -> None:
    desired = secret(data={"password": b64("old")}, stringData={"password": "new"})
    assert diff_object(desired, live_secret({"password": "new"})).in_sync
    assert not diff_object(desired, live_secret({"password": "old"})).in_sync


def test_base64_spellings_of_the_same_bytes_are_equal() -> None:
    desired = secret(data={"key": "aGVs\nbG8="})  # wrapped, as some tools write it
    assert diff_object(desired, live_secret({"key": "hello"})).in_sync


def test_a_changed_value_is_visible_but_redacted() -> None:
    desired = secret(stringData={"password": "hunter2"})
    live = live_secret({"password": "correct horse"})
    result = diff_object(desired, live)
    [field] = result.fields
    assert field.path == "/data/password"
    assert TOKEN.fullmatch(field.desired) and TOKEN.fullmatch(field.live)
    assert field.desired != field.live
    shown = json.dumps(result.to_dict()) + repr(result)
    for leaked in ("hunter2", "correct horse", b64("hunter2"), b64("correct horse")):
        assert leaked not in shown


def test_a_value_missing_from_live_is_redacted() -> None:
    desired = secret(stringData={"password": "hunter2", "token": "s3cr3t"})
    [field] = diff_object(desired, live_secret({"password": "hunter2"})).fields
    assert field.path == "/data/token" and TOKEN.fullmatch(field.desired) and field.live is None


def test_tokens_are_stable_for_equal_bytes() -> None:
    assert redact("hunter2") == redact(b64("hunter2")) == redact(b64("hunter2"))
    assert redact("hunter2") != redact("hunter3")
    assert redact({"a": b64("x")}) == {"a": redact("x")}
    assert redact(None) is None


def test_a_missing_secret_shows_only_tokens() -> None:
    desired = secret(stringData={"password": "hunter2"})
    desired["metadata"]["annotations"] = {
        "kubectl.kubernetes.io/last-applied-configuration": json.dumps({"stringData": {"password": "hunter2"}})}
    result = diff_object(desired, None)
    assert result.missing
    shown = json.dumps(result.to_dict())
    assert "hunter2" not in shown and b64("hunter2") not in shown
    assert TOKEN.fullmatch(result.fields[0].desired["data"]["password"])
    assert desired["stringData"] == {"password": "hunter2"}  # the input is not modified


def test_labels_of_a_secret_are_not_redacted_and_rules_apply() -> None:
    desired = secret(stringData={"password": "hunter2"})
    desired["metadata"]["labels"] = {"team": "ml"}
    live = live_secret({"password": "rotated"})
    live["metadata"]["labels"] = {"team": "platform"}
    result = diff_object(desired, live)
    by_path = {f.path: f for f in result.fields}
    assert by_path["/data/password"].live == redact("rotated")
    assert by_path["/metadata/labels/team"].live == "platform"
    entry = suggest_ignore(live, by_path["/data/password"])
    assert entry == {"group": "", "kind": "Secret", "name": "registry", "namespace": "ml",
                     "jsonPointers": ["/data/password"]}
    ignored = diff_object(desired, live, rules=[IgnoreRule.from_dict(entry)])
    assert [f.path for f in ignored.fields] == ["/metadata/labels/team"]
    assert ignored.ignored == ["/data/password"]
