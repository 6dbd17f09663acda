"""The OpenAPI 3.1 document of the REST API, written by hand as Python data and served at /api/v1/openapi.json.

Every route of hub.api.handlers is here with its role (`x-fleetline-role`), parameters, request body (with an
`example` the tests send), and the schema of each answer. A test validates the document with
openapi-spec-validator and calls every route to check that it answers as documented.
"""

from __future__ import annotations

import json

JSON = "application/json"

STR = {"type": "string"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
ANY: dict = {}
NSTR = {"type": ["string", "null"]}
NINT = {"type": ["integer", "null"]}
TIME = {"type": ["string", "null"], "format": "date-time", "description": "RFC 3339, UTC"}
STRS = {"type": "array", "items": STR}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict, required: list[str] | None = None, description: str | None = None) -> dict:
    schema = {"type": "object", "properties": properties,
              "required": list(properties) if required is None else required}
    if description:
        schema["description"] = description
    return schema


def array(items: dict) -> dict:
    return {"type": "array", "items": items}


ERROR_TEXT = {
    400: "The request is malformed: a body field or query parameter is missing, unknown or of the wrong type.",
    401: "Missing, malformed, unknown or revoked token (reasons missing_token, malformed_token, unknown_token, "
         "revoked_token). Audited.",
    403: "The token's role or scope does not allow it (reasons insufficient_role, out_of_scope, region_required); "
         "the message names what is needed. Audited.",
    404: "The cluster, application, environment, rollout or token named does not exist.",
    409: "The state does not allow it now (e.g. resuming a rollout that is not paused, a token name taken).",
    422: "Well formed, but it cannot be carried out (e.g. the overlay of a promotion does not exist).",
    503: "A part of the hub the request needs is not running (or the token file cannot be read).",
}

SCHEMAS: dict = {
    "Error": {**obj({"error": {**STR, "description": "what is wrong and how to fix it"},
                     "reason": {**STR, "description": "a machine word, e.g. out_of_scope"}}),
              "additionalProperties": True},
    "AppSummary": obj({"name": STR, "sync_status": NSTR, "health": NSTR, "revision": NSTR, "message": NSTR,
                       "operation_phase": NSTR}),
    "ClusterSummary": obj({"name": STR, "region": STR, "environment": STR, "connected": BOOL, "last_seen": TIME,
                           "agent_version": NSTR, "revision": {**NSTR, "description": "the desired state's revision"},
                           "generation": NINT, "applications": array(ref("AppSummary"))}),
    "Region": obj({"name": STR, "clusters": array(ref("ClusterSummary"))}),
    "Fleet": obj({"regions": array(ref("Region"))}),
    "ClusterDetail": {"allOf": [ref("ClusterSummary"),
                                obj({"session": {"type": ["object", "null"],
                                                 "description": "the live session's registry info"}})]},
    "Resource": obj({"group": STR, "version": STR, "kind": STR, "namespace": NSTR, "name": STR,
                     "sync_status": NSTR, "health": NSTR, "message": NSTR, "sync_wave": INT}),
    "Drift": obj({"drifted_resources": INT, "drifted_fields": INT, "fields": array(ANY)}),
    "ApplicationDetail": {"allOf": [ref("AppSummary"),
                                    obj({"resources": array(ref("Resource")), "drift": ref("Drift"),
                                         "conditions": array(ANY)})]},
    "DiffField": obj({"object": STR, "path": STR, "desired": ANY, "live": ANY, "manager": NSTR}),
    "ReleaseField": obj({"object": {**STR, "description": "Kind namespace/name"},
                         "path": {**STR, "description": "the field; \"\" for a whole object added or removed"},
                         "from": {**ANY, "description": "what the cluster runs now (null: absent)"},
                         "to": {**ANY, "description": "what the waiting revision sets (null: removed)"}}),
    "PendingRelease": obj({"revision": STR, "from_revision": {**STR, "description": "\"\": nothing ran before"},
                           "waiting_on": {"enum": ["approval", "sync window", "rollout"]}, "reason": STR,
                           "fields": array(ref("ReleaseField"))},
                          description="a newer revision waiting for the cluster, compared with the one it runs; "
                                      "Secret values redacted"),
    "Diff": obj({"fields": array(ref("DiffField")), "as_of": TIME,
                 "pending": {"oneOf": [ref("PendingRelease"), {"type": "null"}]}}, required=["fields", "as_of"]),
    "SyncAccepted": obj({"request_id": STR, "revision": NSTR}),
    "HistoryEntry": obj({"revision": STR, "generation": NINT, "pushed_at": TIME, "author": NSTR, "subject": NSTR,
                         "result": {"enum": ["Succeeded", "Failed", None]}, "finished_at": TIME}),
    "History": obj({"entries": array(ref("HistoryEntry"))}),
    "PendingApproval": obj({"environment": STR, "region": NSTR, "cluster": NSTR, "application": STR,
                            "revision": STR, "approvers": STRS, "required": INT,
                            "held": {**NSTR, "description": "why the release is held besides approvals, if it is"},
                            "from_revision": {**NSTR, "description": "the revision the cluster runs now"},
                            "diff": {**STR, "description": "the path of the diff route showing what it changes"}},
                           required=["environment", "region", "cluster", "application", "revision", "approvers",
                                     "required", "held"]),
    "Approvals": obj({"pending": array(ref("PendingApproval"))}),
    "ApprovalState": obj({"approvers": STRS, "required": INT, "satisfied": BOOL}),
    "Rollout": obj({"environment": STR, "application": STR, "revision": NSTR, "previous_revision": NSTR,
                    "phase": NSTR, "step": NINT, "waiting_on": NSTR, "halted_reason": NSTR, "released": STRS,
                    "rolled_back": STRS, "steps": {"type": "array", "description": "each step's clusters"}}),
    "Rollouts": obj({"rollouts": array(ref("Rollout"))}),
    "Phase": obj({"phase": STR}),
    "RollbackDone": obj({"commit": STR, "reverted": STR, "message": STR}),
    "PromotionDone": obj({"commit": STR, "files": STRS}),
    "AuditEntry": {"type": "object", "description": "one entry of the hash-chained audit log (the store's shape: "
                   "at least its sequence, time, kind, actor, region, environment and hashes)",
                   "properties": {"region": NSTR, "environment": NSTR, "cluster": NSTR, "kind": STR}},
    "AuditEntries": obj({"entries": array(ref("AuditEntry"))}),
    "AuditVerification": obj({"ok": BOOL, "entries": INT, "last_hash": NSTR, "first_broken": NINT,
                              "reason": NSTR}),
    "AuditReport": {"type": "object", "description": "the region's compliance report (docs/audit.md)"},
    "Token": obj({"name": STR, "role": {"enum": ["viewer", "operator", "admin"]}, "regions": STRS,
                  "environments": STRS, "created_at": TIME, "revoked": BOOL, "revoked_at": TIME}),
    "CreatedToken": {"allOf": [obj({"token": {**STR, "description": "the secret: shown once, never again"}}),
                               ref("Token")]},
    "Tokens": obj({"tokens": array(ref("Token"))}),
    "Caller": obj({"name": STR, "role": {"enum": ["viewer", "operator", "admin"]},
                   "regions": {**STRS, "description": "the token's regions; empty: every region"},
                   "environments": {**STRS, "description": "the token's environments; empty: every environment"}}),
    "SyncRequest": obj({"revision": {**STR, "description": "default: the desired state's revision"},
                        "prune": {**BOOL, "description": "delete objects no longer in Git"}}, required=[]),
    "ApproveRequest": obj({"environment": STR, "application": STR, "revision": STR,
                           "region": {**STR, "description": "required for a region-scoped token; the approval "
                                                            "then counts for that region's clusters only"}},
                          required=["environment", "application", "revision"]),
    "RollbackRequest": {**obj({"application": STR, "cluster": STR, "environment": STR, "reason": STR},
                              required=["application", "reason"]),
                        "description": "exactly one of cluster and environment"},
    "PromoteRequest": obj({"environment": STR, "overlay": STR, "image": STR, "tag": STR, "model_version": STR,
                           "configmap": STR, "key": STR},
                          required=["environment", "overlay", "image", "tag", "model_version"]),
    "TokenRequest": obj({"name": STR, "role": {"enum": ["viewer", "operator", "admin"]}, "regions": STRS,
                         "environments": STRS}, required=["name", "role"]),
}


def path_param(name: str, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": STR, "description": description}


def query_param(name: str, description: str, schema: dict | None = None, required: bool = False) -> dict:
    return {"name": name, "in": "query", "required": required, "schema": schema or STR, "description": description}


CLUSTER = path_param("cluster", "the cluster's name")
APPLICATION = path_param("application", "the application's name")
ENVIRONMENT = path_param("environment", "the environment's name")


def operation(summary: str, role: str | None, ok: tuple[int, str, dict | None], errors: tuple[int, ...] = (),
              *, params: tuple[dict, ...] = (), body: tuple[str, dict] | None = None, tag: str = "fleet",
              description: str | None = None, content_type: str = JSON, alternatives: dict | None = None) -> dict:
    """One operation: its role (None: public), success answer (status, description, schema; `alternatives`: more
    content types of it) and error statuses."""
    status, text, schema = ok
    success: dict = {"description": text}
    if schema is not None:
        success["content"] = {content_type: {"schema": schema}}
        for other, other_schema in (alternatives or {}).items():
            success["content"][other] = {"schema": other_schema}
    responses = {str(status): success}
    codes = set(errors) | ({401, 403} if role else set())
    for code in sorted(codes):
        responses[str(code)] = {"description": ERROR_TEXT[code], "content": {JSON: {"schema": ref("Error")}}}
    op: dict = {"summary": summary, "tags": [tag], "responses": responses, "x-fleetline-role": role}
    if description:
        op["description"] = description
    if role is None:
        op["security"] = []
    if params:
        op["parameters"] = list(params)
    if body is not None:
        name, example = body
        op["requestBody"] = {"required": True, "content": {JSON: {"schema": ref(name), "example": example}}}
    return op


AUDIT_PARAMS = (
    query_param("region", "only this region's entries (default for a token scoped to one region: that region)"),
    query_param("cluster", "only this cluster's entries"),
    query_param("kind", "only entries of this kind"),
    query_param("since", "from this date or RFC 3339 time", {"type": "string", "format": "date-time"}),
    query_param("until", "before this date or time", {"type": "string", "format": "date-time"}),
    query_param("limit", "at most this many entries (1-10000, default 100)",
                {"type": "integer", "minimum": 1, "maximum": 10000}),
)
REPORT_PARAMS = (
    query_param("region", "the region reported on (a token scoped to one region may leave it out)", required=True),
    query_param("since", "from this date or RFC 3339 time", {"type": "string", "format": "date-time"},
                required=True),
    query_param("until", "before this date or time (default: now)", {"type": "string", "format": "date-time"}),
    query_param("format", "json (default), csv or html", {"enum": ["json", "csv", "html"]}),
)
APP = "/api/v1/clusters/{cluster}/applications/{application}"
ROLLOUT = "/api/v1/rollouts/{environment}/{application}"

PATHS: dict = {
    "/healthz": {"get": operation("Liveness", None, (200, "the process answers", obj({"status": STR})),
                                  tag="operations")},
    "/readyz": {"get": operation("Readiness: the session server and the pipeline run", None,
                                 (200, "ready", obj({"status": STR})), (503,), tag="operations")},
    "/metrics": {"get": operation("Prometheus metrics of the hub (no token, like Argo CD's metrics port)", None,
                                  (200, "Prometheus text exposition format", {"type": "string"}),
                                  tag="operations", content_type="text/plain")},
    "/api/v1/openapi.json": {"get": operation("This document", None, (200, "the OpenAPI 3.1 document",
                                                                      {"type": "object"}), tag="operations")},
    "/api/v1/whoami": {"get": operation("The calling token: its name, role and scopes (what it may see and do)",
                                        "viewer", (200, "the caller", ref("Caller")), tag="tokens")},
    "/api/v1/fleet": {"get": operation("Clusters by region: connection, sync, health, revision", "viewer",
                                       (200, "the clusters in the token's scope", ref("Fleet")))},
    "/api/v1/clusters/{cluster}": {
        "get": operation("One cluster, with its session", "viewer", (200, "the cluster", ref("ClusterDetail")),
                         (404,), params=(CLUSTER,))},
    APP: {"get": operation("One application on one cluster: resources, drift, conditions", "viewer",
                           (200, "the application", ref("ApplicationDetail")), (404,),
                           params=(CLUSTER, APPLICATION))},
    APP + "/diff": {"get": operation("The live field-level diff, and what a waiting release changes (Secret values "
                                     "redacted)", "viewer",
                                     (200, "declared fields whose live value differs; `pending`: the waiting "
                                           "revision's changes against the one the cluster runs", ref("Diff")),
                                     (404,),
                                     params=(CLUSTER, APPLICATION))},
    APP + "/sync": {"post": operation("Ask the agent to sync the application", "operator",
                                      (202, "requested; follow it on /api/v1/events", ref("SyncAccepted")),
                                      (400, 404, 409, 503), params=(CLUSTER, APPLICATION),
                                      body=("SyncRequest", {"prune": True}))},
    APP + "/history": {"get": operation("Revisions pushed to the cluster for the application, newest first",
                                        "viewer", (200, "the history", ref("History")), (404,),
                                        params=(CLUSTER, APPLICATION))},
    "/api/v1/approvals": {
        "get": operation("Releases waiting for approvals", "viewer", (200, "pending approvals", ref("Approvals")),
                         tag="pipeline"),
        "post": operation("Approve a revision of an application in an environment (the approver is the token's "
                          "name)", "operator", (200, "the approval's state", ref("ApprovalState")),
                          (400, 404, 409), tag="pipeline",
                          body=("ApproveRequest", {"environment": "prod", "application": "inference",
                                                   "revision": "4f2a9c1", "region": "eu"}))},
    "/api/v1/rollouts": {"get": operation("Rollouts: phase, step, what they wait on", "viewer",
                                          (200, "the rollouts", ref("Rollouts")), tag="pipeline")},
    ROLLOUT + "/resume": {"post": operation("Resume a paused or halted rollout", "operator",
                                            (200, "its phase now", ref("Phase")), (404, 409),
                                            params=(ENVIRONMENT, APPLICATION), tag="pipeline")},
    ROLLOUT + "/abort": {"post": operation("Abort a rollout", "operator", (200, "its phase now", ref("Phase")),
                                           (404, 409), params=(ENVIRONMENT, APPLICATION), tag="pipeline")},
    "/api/v1/rollback": {"post": operation("Revert the commit that last changed the application (a Git commit; "
                                           "the author is the token's name)", "operator",
                                           (200, "the revert commit", ref("RollbackDone")), (400, 404, 409, 422),
                                           tag="pipeline",
                                           body=("RollbackRequest", {"application": "inference", "cluster": "eu-1",
                                                                     "reason": "p99 latency regression"}))},
    "/api/v1/promote": {"post": operation("Promote an image tag and its model version into an environment (a Git "
                                          "commit)", "operator", (200, "the promotion commit", ref("PromotionDone")),
                                          (400, 404, 409, 422), tag="pipeline",
                                          body=("PromoteRequest", {"environment": "prod", "overlay": "overlays/prod",
                                                                   "image": "registry.example/inference",
                                                                   "tag": "1.4.2", "model_version": "2026-03-01"}))},
    "/api/v1/audit": {"get": operation("Query the audit log", "viewer", (200, "matching entries, oldest first",
                                                                         ref("AuditEntries")), (400, 404),
                                       params=AUDIT_PARAMS, tag="audit")},
    "/api/v1/audit/verify": {"get": operation("Verify the audit log's hash chain", "viewer",
                                              (200, "the verification", ref("AuditVerification")), tag="audit")},
    "/api/v1/audit/report": {"get": operation("A region's compliance report", "viewer",
                                              (200, "the report", ref("AuditReport")), (400, 404),
                                              params=REPORT_PARAMS, tag="audit",
                                              alternatives={"text/csv": STR, "text/html": STR},
                                              description="format=csv answers text/csv, format=html text/html")},
    "/api/v1/events": {"get": operation(
        "Server-Sent Events: `event: status|event|pipeline|session`, `data: <JSON>`, `: keep-alive` every 15 s",
        "viewer",
        (200, "an endless text/event-stream, filtered to the token's scope", {"type": "string"}),
        tag="fleet", content_type="text/event-stream")},
    "/api/v1/tokens": {
        "get": operation("API tokens (never their secrets)", "admin", (200, "the tokens", ref("Tokens")),
                         tag="tokens"),
        "post": operation("Create an API token; its secret is in the answer, once", "admin",
                          (201, "the token and its secret", ref("CreatedToken")), (400, 409), tag="tokens",
                          body=("TokenRequest", {"name": "eu-ops", "role": "operator", "regions": ["eu"]}))},
    "/api/v1/tokens/{name}": {"delete": operation("Revoke an API token", "admin",
                                                  (200, "the revoked token", ref("Token")), (404,), tag="tokens",
                                                  params=(path_param("name", "the token's name"),))},
}


def openapi_document() -> dict:
    """The OpenAPI 3.1 document (a new dict each call)."""
    return json.loads(json.dumps({
        "openapi": "3.1.0",
        "info": {"title": "Fleetline hub API", "version": "1",
                 "description": "The hub's operator interface. Authenticate with `Authorization: Bearer <token>` "
                                "(created by `fleetline tokens create`). Roles: viewer (every GET), operator "
                                "(+ sync, approve, rollouts, rollback, promote), admin (+ tokens). Tokens may be "
                                "scoped to regions and environments. See docs/api.md."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "tags": [{"name": name} for name in ("fleet", "pipeline", "audit", "tokens", "operations")],
        "paths": PATHS,
        "components": {"schemas": SCHEMAS,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                                      "description": "an API token"}}},
    }))


def openapi_bytes() -> bytes:
    return json.dumps(openapi_document(), indent=1).encode("utf-8")
