"""Authentication, roles and scopes: 401 for a missing, malformed, unknown or revoked token, 403 for a role or a
scope that does not allow the call, and every refusal audited through the facade."""

from __future__ import annotations

import pytest

from tests.hub.api.conftest import Api

SYNC = "/api/v1/clusters/{}/applications/inference/sync"


@pytest.mark.parametrize(("headers", "reason"), [
    ({}, "missing_token"),
    ({"Authorization": "Basic YWRtaW46YWRtaW4="}, "malformed_token"),
    ({"Authorization": "Bearer"}, "malformed_token"),
    ({"Authorization": "Bearer flt_not-a-token"}, "unknown_token"),
])
async def test_401_without_a_valid_token(api: Api, headers: dict, reason: str) -> None:
    response = await api.client.get("/api/v1/fleet", headers=headers)
    assert response.status == 401
    body = await response.json()
    assert body["reason"] == reason and body["error"]
    assert api.facade.refused == [(None, "GET", "/api/v1/fleet", 401, reason)]


async def test_revoked_token_is_refused_and_named_in_the_audit(api: Api) -> None:
    response = await api.client.get("/api/v1/fleet", headers=api.auth("gone"))
    assert response.status == 401
    body = await response.json()
    assert body["reason"] == "revoked_token" and "'gone' was revoked" in body["error"]
    assert api.facade.refused == [("gone", "GET", "/api/v1/fleet", 401, "revoked_token")]


async def test_token_revoked_while_the_hub_runs_stops_working(api: Api) -> None:
    assert (await api.client.get("/api/v1/fleet", headers=api.auth("viewer"))).status == 200
    api.store.revoke("viewer")
    assert (await api.client.get("/api/v1/fleet", headers=api.auth("viewer"))).status == 401


async def test_viewer_cannot_sync(api: Api) -> None:
    response = await api.client.post(SYNC.format("eu-1"), json={}, headers=api.auth("viewer"))
    assert response.status == 403
    body = await response.json()
    assert body["reason"] == "insufficient_role"
    assert "role viewer" in body["error"] and "needs role operator" in body["error"]
    assert api.facade.refused == [("viewer", "POST", SYNC.format("eu-1"), 403, "insufficient_role")]
    assert not [c for c in api.facade.calls if c[0] == "sync"]


async def test_operator_cannot_manage_tokens(api: Api) -> None:
    response = await api.client.get("/api/v1/tokens", headers=api.auth("operator"))
    assert response.status == 403
    assert "needs role admin" in (await response.json())["error"]
    assert api.facade.refused[-1][4] == "insufficient_role"


async def test_eu_operator_cannot_sync_a_us_east_cluster(api: Api) -> None:
    response = await api.client.post(SYNC.format("us-east-1"), json={}, headers=api.auth("eu-operator"))
    assert response.status == 403
    body = await response.json()
    assert body["reason"] == "out_of_scope"
    assert "region(s) eu" in body["error"] and "us-east-1" in body["error"] and "us-east" in body["error"]
    assert api.facade.refused == [("eu-operator", "POST", SYNC.format("us-east-1"), 403, "out_of_scope")]
    assert not [c for c in api.facade.calls if c[0] == "sync"]


async def test_eu_operator_syncs_an_eu_cluster(api: Api) -> None:
    response = await api.client.post(SYNC.format("eu-1"), json={"prune": True}, headers=api.auth("eu-operator"))
    assert response.status == 202
    assert api.facade.calls == [("sync", "eu-1", "inference", None, True, "eu-operator")]
    assert api.facade.refused == []


async def test_eu_operator_cannot_approve_us_east(api: Api) -> None:
    body = {"environment": "prod", "application": "inference", "revision": "4f2a9c1", "region": "us-east"}
    response = await api.client.post("/api/v1/approvals", json=body, headers=api.auth("eu-operator"))
    assert response.status == 403
    assert (await response.json())["reason"] == "out_of_scope"
    assert api.facade.refused == [("eu-operator", "POST", "/api/v1/approvals", 403, "out_of_scope")]
    assert not [c for c in api.facade.calls if c[0] == "approve"]


async def test_region_scoped_approval_must_name_its_region(api: Api) -> None:
    body = {"environment": "prod", "application": "inference", "revision": "4f2a9c1"}
    response = await api.client.post("/api/v1/approvals", json=body, headers=api.auth("eu-operator"))
    assert response.status == 403
    error = await response.json()
    assert error["reason"] == "region_required" and '"region": "eu"' in error["error"]
    assert api.facade.refused[-1] == ("eu-operator", "POST", "/api/v1/approvals", 403, "region_required")

    response = await api.client.post("/api/v1/approvals", json={**body, "region": "eu"},
                                     headers=api.auth("eu-operator"))
    assert response.status == 200
    assert api.facade.calls == [("approve", "prod", "inference", "4f2a9c1", "eu-operator", "eu")]


async def test_environment_scope_refuses_other_environments(api: Api) -> None:
    body = {"environment": "prod", "application": "inference", "revision": "4f2a9c1"}
    response = await api.client.post("/api/v1/approvals", json=body, headers=api.auth("staging-operator"))
    assert response.status == 403 and (await response.json())["reason"] == "out_of_scope"
    response = await api.client.post(SYNC.format("eu-1"), json={}, headers=api.auth("staging-operator"))
    assert response.status == 403
    response = await api.client.post(SYNC.format("eu-2"), json={}, headers=api.auth("staging-operator"))
    assert response.status == 202
    assert len(api.facade.refused) == 2


async def test_eu_operator_cannot_act_on_an_environment_spanning_regions(api: Api) -> None:
    """prod has clusters in eu and us-east: resuming its rollout acts on us-east too."""
    response = await api.client.post("/api/v1/rollouts/prod/inference/resume", headers=api.auth("eu-operator"))
    assert response.status == 403
    error = await response.json()
    assert error["reason"] == "out_of_scope" and "us-east" in error["error"]
    # staging's clusters are all in eu
    response = await api.client.post("/api/v1/rollouts/staging/inference/resume", headers=api.auth("eu-operator"))
    assert response.status == 200
    response = await api.client.post("/api/v1/rollback", headers=api.auth("eu-operator"),
                                     json={"application": "inference", "environment": "prod", "reason": "bad"})
    assert response.status == 403
    response = await api.client.post("/api/v1/promote", headers=api.auth("eu-operator"),
                                     json={"environment": "prod", "overlay": "o", "image": "i", "tag": "t",
                                           "model_version": "m"})
    assert response.status == 403
    assert [r[4] for r in api.facade.refused] == ["out_of_scope"] * 3


async def test_scoped_viewer_cannot_read_an_out_of_scope_cluster(api: Api) -> None:
    for path in ("/api/v1/clusters/us-east-1", "/api/v1/clusters/us-east-1/applications/inference/diff"):
        response = await api.client.get(path, headers=api.auth("eu-viewer"))
        assert response.status == 403
    assert [r[:4] for r in api.facade.refused] == [
        ("eu-viewer", "GET", "/api/v1/clusters/us-east-1", 403),
        ("eu-viewer", "GET", "/api/v1/clusters/us-east-1/applications/inference/diff", 403)]


async def test_public_routes_need_no_token(api: Api) -> None:
    for path in ("/healthz", "/readyz", "/metrics", "/api/v1/openapi.json"):
        response = await api.client.get(path)
        assert response.status == 200, path
    assert api.facade.refused == []


async def test_unreadable_token_file_refuses_every_call_and_keeps_the_file(api: Api) -> None:
    api.store.path.write_text('{"version": 1, "tokens": [{"name": "x"}]}')
    response = await api.client.get("/api/v1/fleet", headers=api.auth("admin"))
    assert response.status == 503
    body = await response.json()
    assert body["reason"] == "tokens_unavailable"
    assert str(api.store.path) not in body["error"]  # the path and the parse error go to the log only
    assert api.store.path.read_text() == '{"version": 1, "tokens": [{"name": "x"}]}'
