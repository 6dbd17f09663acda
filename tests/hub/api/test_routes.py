"""Each route's answer and envelope, request validation (clear 400s), scope filtering of lists, facade errors
mapped to their statuses, the token routes, /metrics, /readyz and audit reports."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry, Counter

from hub.api.facade import AuditQuery, PromoteRequest
from tests.hub.api.conftest import Api

APP = "/api/v1/clusters/eu-1/applications/inference"


async def get_json(api: Api, path: str, token: str = "admin", status: int = 200) -> dict:
    response = await api.client.get(path, headers=api.auth(token))
    assert response.status == status, await response.text()
    return await response.json()


async def post_json(api: Api, path: str, body: object, token: str = "admin", status: int = 200) -> dict:
    response = await api.client.post(path, json=body, headers=api.auth(token))
    assert response.status == status, await response.text()
    return await response.json()


async def test_fleet_groups_clusters_by_region(api: Api) -> None:
    fleet = await get_json(api, "/api/v1/fleet", "viewer")
    assert [(r["name"], [c["name"] for c in r["clusters"]]) for r in fleet["regions"]] == [
        ("eu", ["eu-1", "eu-2"]), ("us-east", ["us-east-1"])]
    assert fleet["regions"][0]["clusters"][0]["applications"][0]["health"] == "Healthy"


async def test_fleet_is_filtered_to_the_token_scope(api: Api) -> None:
    fleet = await get_json(api, "/api/v1/fleet", "eu-viewer")
    assert [r["name"] for r in fleet["regions"]] == ["eu"]
    fleet = await get_json(api, "/api/v1/fleet", "staging-operator")
    assert [(r["name"], [c["name"] for c in r["clusters"]]) for r in fleet["regions"]] == [("eu", ["eu-2"])]


async def test_cluster_application_diff_history(api: Api) -> None:
    cluster = await get_json(api, "/api/v1/clusters/eu-1", "eu-viewer")
    assert cluster["name"] == "eu-1" and cluster["session"]["identity"] == "token"
    application = await get_json(api, APP)
    assert application["resources"][0]["kind"] == "Deployment" and application["drift"]["drifted_fields"] == 0
    diff = await get_json(api, APP + "/diff")
    assert diff["fields"][0]["manager"] == "kubectl-edit"
    history = await get_json(api, APP + "/history")
    assert history["entries"][0]["result"] == "Succeeded"


async def test_unknown_cluster_and_application_are_404(api: Api) -> None:
    error = await get_json(api, "/api/v1/clusters/mars-1", status=404)
    assert error == {"error": "no cluster 'mars-1' in fleet.yaml", "reason": "unknown_cluster"}
    error = await get_json(api, "/api/v1/clusters/eu-1/applications/nope/diff", status=404)
    assert error["reason"] == "unknown_application"
    error = await get_json(api, "/api/v1/nowhere", status=404)
    assert error["reason"] == "not_found" and "openapi.json" in error["error"]
    response = await api.client.put("/api/v1/fleet", headers=api.auth("admin"))
    assert response.status == 405 and (await response.json())["reason"] == "method_not_allowed"


async def test_sync_answers_202_with_the_request(api: Api) -> None:
    accepted = await post_json(api, APP + "/sync", {"revision": "abc1234"}, "operator", 202)
    assert accepted == {"request_id": "r-1", "revision": "abc1234"}
    assert api.facade.calls == [("sync", "eu-1", "inference", "abc1234", None, "operator")]


@pytest.mark.parametrize(("raw", "reason", "words"), [
    (b"{not json", "invalid_json", "not valid JSON"),
    (b"[1, 2]", "invalid_json", "JSON object"),
    (b'{"revison": "abc"}', "unknown_field", "'revison'"),
    (b'{"prune": "yes"}', "invalid_field", '"prune" must be true or false'),
    (b'{"revision": 12}', "invalid_field", '"revision" must be a non-empty string'),
])
async def test_bad_sync_bodies_are_400_naming_the_field(api: Api, raw: bytes, reason: str, words: str) -> None:
    response = await api.client.post(APP + "/sync", data=raw, headers=api.auth("operator"))
    assert response.status == 400
    error = await response.json()
    assert error["reason"] == reason and words in error["error"], error
    assert api.facade.calls == []


async def test_missing_fields_are_400(api: Api) -> None:
    error = await post_json(api, "/api/v1/approvals", {"environment": "prod"}, status=400)
    assert error["reason"] == "missing_field" and '"application"' in error["error"]
    error = await post_json(api, "/api/v1/rollback", {"application": "inference", "reason": "x"}, status=400)
    assert "exactly one" in error["error"]
    error = await post_json(api, "/api/v1/rollback", {"application": "inference", "reason": "x", "cluster": "eu-1",
                                                      "environment": "prod"}, status=400)
    assert "exactly one" in error["error"]


async def test_approvals(api: Api) -> None:
    pending = await get_json(api, "/api/v1/approvals", "viewer")
    assert [p["cluster"] for p in pending["pending"]] == ["eu-1", "us-east-1"]
    pending = await get_json(api, "/api/v1/approvals", "eu-viewer")
    assert [p["cluster"] for p in pending["pending"]] == ["eu-1"]
    state = await post_json(api, "/api/v1/approvals", {"environment": "prod", "application": "inference",
                                                       "revision": "4f2a9c1"}, "operator")
    assert state == {"approvers": ["operator"], "required": 1, "satisfied": True}
    assert api.facade.calls == [("approve", "prod", "inference", "4f2a9c1", "operator", None)]


async def test_rollouts_list_resume_and_abort(api: Api) -> None:
    rollouts = await get_json(api, "/api/v1/rollouts")
    assert [r["environment"] for r in rollouts["rollouts"]] == ["prod", "staging"]
    rollouts = await get_json(api, "/api/v1/rollouts", "staging-operator")
    assert [r["environment"] for r in rollouts["rollouts"]] == ["staging"]
    rollouts = await get_json(api, "/api/v1/rollouts", "eu-viewer")  # prod has eu clusters too: shown
    assert [r["environment"] for r in rollouts["rollouts"]] == ["prod", "staging"]
    assert await post_json(api, "/api/v1/rollouts/prod/inference/resume", None, "operator") == {"phase": "Progressing"}
    assert await post_json(api, "/api/v1/rollouts/prod/inference/abort", None, "operator") == {"phase": "Aborted"}
    error = await post_json(api, "/api/v1/rollouts/staging/inference/abort", None, "operator", 409)
    assert error["reason"] == "conflict" and "finished" in error["error"]
    error = await post_json(api, "/api/v1/rollouts/prod/other/resume", None, "operator", 404)
    assert error["reason"] == "unknown_rollout"
    error = await post_json(api, "/api/v1/rollouts/moon/inference/resume", None, "eu-operator", 404)
    assert error["reason"] == "unknown_environment"


async def test_rollback_and_promote_carry_the_token_name(api: Api) -> None:
    done = await post_json(api, "/api/v1/rollback", {"application": "inference", "cluster": "eu-1",
                                                     "reason": "latency"}, "eu-operator")
    assert done["reverted"] == "4f2a9c1"
    assert api.facade.calls[-1] == ("rollback", "inference", "eu-1", None, "latency", "eu-operator")
    body = {"environment": "staging", "overlay": "overlays/staging", "image": "inference", "tag": "1.2",
            "model_version": "m7"}
    done = await post_json(api, "/api/v1/promote", body, "eu-operator")
    assert done == {"commit": "7a6b5c4", "files": ["overlays/staging/kustomization.yaml"]}
    assert api.facade.calls[-1] == ("promote", PromoteRequest(**body), "eu-operator")


async def test_audit_query_parameters_and_scope(api: Api) -> None:
    entries = await get_json(api, "/api/v1/audit?kind=sync_result&since=2026-03-01&until=2026-05-31T12:00:00Z"
                                  "&limit=50")
    assert len(entries["entries"]) == 3
    assert api.facade.calls[-1] == ("audit_query", AuditQuery(
        kind="sync_result", since=datetime(2026, 3, 1, tzinfo=UTC), until=datetime(2026, 5, 31, 12, tzinfo=UTC),
        limit=50))
    entries = await get_json(api, "/api/v1/audit", "eu-viewer")
    assert [e["seq"] for e in entries["entries"]] == [1, 2]  # hub-wide and eu entries; not us-east
    assert api.facade.calls[-1][1].region == "eu"  # a one-region token queries its region
    error = await get_json(api, "/api/v1/audit?region=us-east", "eu-viewer", 403)
    assert error["reason"] == "out_of_scope"
    error = await get_json(api, "/api/v1/audit?cluster=us-east-1", "eu-viewer", 403)
    assert error["reason"] == "out_of_scope"


@pytest.mark.parametrize(("query", "words"), [
    ("limit=0", "from 1 to 10000"),
    ("limit=many", "from 1 to 10000"),
    ("since=March", "not a date"),
    ("since=2026-05-01&until=2026-03-01", "must be after"),
    ("regoin=eu", "unknown query parameter"),
])
async def test_bad_audit_queries_are_400(api: Api, query: str, words: str) -> None:
    error = await get_json(api, f"/api/v1/audit?{query}", status=400)
    assert words in error["error"] and error["reason"] == "invalid_parameter"


async def test_audit_verify(api: Api) -> None:
    assert (await get_json(api, "/api/v1/audit/verify", "viewer"))["ok"] is True


async def test_audit_report_formats(api: Api) -> None:
    report = await get_json(api, "/api/v1/audit/report?region=eu&since=2026-03-01", "eu-viewer")
    assert report["region"] == "eu"
    response = await api.client.get("/api/v1/audit/report?since=2026-03-01&format=csv", headers=api.auth("eu-viewer"))
    assert response.status == 200 and response.content_type == "text/csv"
    assert (await response.text()).startswith("cluster,revision")
    assert api.facade.calls[-1][1] == "eu"  # the token's only region
    response = await api.client.get("/api/v1/audit/report?region=eu&since=2026-03-01&format=html",
                                    headers=api.auth("viewer"))
    assert response.content_type == "text/html" and "<h1>eu</h1>" in await response.text()
    error = await get_json(api, "/api/v1/audit/report?region=eu", status=400)
    assert error["reason"] == "missing_parameter" and "since" in error["error"]
    error = await get_json(api, "/api/v1/audit/report?since=2026-03-01", status=400)
    assert error["reason"] == "missing_parameter" and "region" in error["error"]
    error = await get_json(api, "/api/v1/audit/report?region=eu&since=2026-03-01&format=pdf", status=400)
    assert "json, csv, html" in error["error"]
    error = await get_json(api, "/api/v1/audit/report?region=us-east&since=2026-03-01", "eu-viewer", 403)
    assert error["reason"] == "out_of_scope"
    error = await get_json(api, "/api/v1/audit/report?region=eu&since=2026-03-01", "staging-operator", 403)
    assert "environment scope" in error["error"]


async def test_facade_failure_is_a_500_without_details(api: Api) -> None:
    api.facade.fail_with = RuntimeError("database is locked at /var/lib/fleetline/hub.db")
    error = await get_json(api, "/api/v1/fleet", status=500)
    assert error == {"error": "internal error: the hub's log has the details", "reason": "internal"}


async def test_readyz_says_what_is_not_ready(api: Api) -> None:
    assert await get_json(api, "/readyz") == {"status": "ready"}
    api.facade.not_ready = ["pipeline: not started"]
    response = await api.client.get("/readyz")
    assert response.status == 503
    body = await response.json()
    assert body["not_ready"] == ["pipeline: not started"] and "pipeline: not started" in body["error"]
    assert await get_json(api, "/healthz") == {"status": "ok"}


async def test_metrics_renders_every_registry(api: Api) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from hub.api.app import build_app

    first, second = CollectorRegistry(), CollectorRegistry()
    Counter("fleetline_one", "one", registry=first).inc()
    Counter("fleetline_two", "two", registry=second).inc(2)
    app = build_app(api.facade, api.store, metrics_registries=[first, second])
    async with TestClient(TestServer(app)) as client:
        await client.get("/api/v1/fleet")
        response = await client.get("/metrics")
        text = await response.text()
    assert response.status == 200 and response.content_type == "text/plain"
    assert "fleetline_one_total 1.0" in text and "fleetline_two_total 2.0" in text
    assert 'fleetline_api_refused_total{reason="missing_token"} 1.0' in text
    assert 'fleetline_api_requests_total{code="401",method="GET",route="/api/v1/fleet"} 1.0' in text


async def test_tokens_create_list_revoke(api: Api) -> None:
    created = await post_json(api, "/api/v1/tokens", {"name": "ci", "role": "viewer", "environments": ["staging"]},
                              status=201)
    assert created["token"].startswith("flt_") and created["name"] == "ci" and created["environments"] == ["staging"]
    assert (await api.client.get("/api/v1/fleet", headers={"Authorization": f"Bearer {created['token']}"})).status \
        == 200
    listed = await get_json(api, "/api/v1/tokens")
    assert "ci" in [t["name"] for t in listed["tokens"]]
    assert all("token" not in t and "sha256" not in t for t in listed["tokens"])
    error = await post_json(api, "/api/v1/tokens", {"name": "ci", "role": "viewer"}, status=409)
    assert error["reason"] == "name_taken"
    error = await post_json(api, "/api/v1/tokens", {"name": "x", "role": "root"}, status=400)
    assert "viewer, operator, admin" in error["error"]
    response = await api.client.delete("/api/v1/tokens/ci", headers=api.auth("admin"))
    assert response.status == 200 and (await response.json())["revoked"] is True
    assert (await api.client.get("/api/v1/fleet", headers={"Authorization": f"Bearer {created['token']}"})).status \
        == 401
    response = await api.client.delete("/api/v1/tokens/nobody", headers=api.auth("admin"))
    assert response.status == 404
    assert api.facade.token_changes == [("admin", "created", "ci"), ("admin", "revoked", "ci")]


async def test_scoped_admin_manages_only_tokens_inside_its_scope(api: Api) -> None:
    error = await post_json(api, "/api/v1/tokens", {"name": "wide", "role": "admin"}, "eu-admin", 403)
    assert error["reason"] == "out_of_scope"
    await post_json(api, "/api/v1/tokens", {"name": "eu-ci", "role": "viewer", "regions": ["eu"]}, "eu-admin", 201)
    listed = await get_json(api, "/api/v1/tokens", "eu-admin")
    assert sorted(t["name"] for t in listed["tokens"]) == ["eu-admin", "eu-ci", "eu-operator", "eu-viewer"]
    response = await api.client.delete("/api/v1/tokens/admin", headers=api.auth("eu-admin"))
    assert response.status == 403
    assert api.facade.refused[-1] == ("eu-admin", "DELETE", "/api/v1/tokens/admin", 403, "out_of_scope")
