"""The OpenAPI document: valid OpenAPI 3.1, naming exactly the app's routes with their roles, and every documented
route answering as documented (status, content type, body schema and top-level keys) against the fake facade."""

from __future__ import annotations

import json

import pytest
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

from hub.api.handlers import Handlers
from hub.api.openapi import openapi_document
from tests.hub.api.conftest import Api

DOC = openapi_document()
PATH_VALUES = {"cluster": "eu-1", "application": "inference", "environment": "prod", "name": "gone"}
QUERY_VALUES = {"region": "eu", "since": "2026-03-01"}
OPERATIONS = [(path, method.upper(), op) for path, item in DOC["paths"].items() for method, op in item.items()]


def resolve(schema: dict) -> dict:
    """A schema's properties and required keys, through $ref and allOf."""
    if "$ref" in schema:
        return resolve(DOC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]])
    properties, required = dict(schema.get("properties", {})), list(schema.get("required", []))
    for part in schema.get("allOf", []):
        resolved = resolve(part)
        properties.update(resolved["properties"])
        required += resolved["required"]
    return {"properties": properties, "required": required}


def check_body(schema: dict, body: object) -> None:
    OAS31Validator({**schema, "components": DOC["components"]}).validate(body)
    resolved = resolve(schema)
    if resolved["properties"]:
        assert set(resolved["required"]) <= set(body) <= set(resolved["properties"]), sorted(body)


def fill(path: str) -> str:
    for name, value in PATH_VALUES.items():
        path = path.replace("{" + name + "}", value)
    return path


def test_document_is_valid_openapi_3_1() -> None:
    validate(DOC)
    assert DOC["openapi"] == "3.1.0"


def test_document_names_exactly_the_routes_and_their_roles() -> None:
    handlers = Handlers(None, None, openapi=b"", registries=(), keepalive=1.0, stopping=None)  # type: ignore[arg-type]
    served = {(route.method, route.path): route.role for route in handlers.routes()}
    documented = {(method, path): op["x-fleetline-role"] for path, method, op in OPERATIONS}
    assert documented == served
    for path, method, op in OPERATIONS:
        assert (op.get("security") == []) == (op["x-fleetline-role"] is None), (method, path)


async def test_served_document_is_the_document(api: Api) -> None:
    response = await api.client.get("/api/v1/openapi.json")
    assert response.content_type == "application/json"
    assert await response.json() == DOC


@pytest.mark.parametrize(("path", "method", "op"), OPERATIONS, ids=[f"{m} {p}" for p, m, _ in OPERATIONS])
async def test_route_answers_as_documented(api: Api, path: str, method: str, op: dict) -> None:
    query = {p["name"]: QUERY_VALUES[p["name"]] for p in op.get("parameters", ()) if p["in"] == "query"
             and p["required"]}
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("example")
    response = await api.client.request(method, fill(path), params=query,
                                        data=None if body is None else json.dumps(body), headers=api.auth("admin"))
    successes = [code for code in op["responses"] if code.startswith("2")]
    assert [str(response.status)] == successes, await response.text()
    content = op["responses"][successes[0]]["content"]
    assert response.content_type in content
    schema = content[response.content_type]["schema"]
    if response.content_type == "text/event-stream":
        response.close()
    elif response.content_type == "application/json":
        check_body(schema, await response.json())
    else:
        assert isinstance(await response.text(), str)


@pytest.mark.parametrize(("path", "method", "op"), [o for o in OPERATIONS if o[2]["x-fleetline-role"]],
                         ids=[f"{m} {p}" for p, m, o in OPERATIONS if o["x-fleetline-role"]])
async def test_refusals_answer_as_documented(api: Api, path: str, method: str, op: dict) -> None:
    response = await api.client.request(method, fill(path))
    assert response.status == 401 and "401" in op["responses"]
    check_body(op["responses"]["401"]["content"]["application/json"]["schema"], await response.json())
    weaker = {"viewer": None, "operator": "viewer", "admin": "operator"}[op["x-fleetline-role"]]
    if weaker is not None:
        response = await api.client.request(method, fill(path), headers=api.auth(weaker))
        assert response.status == 403 and "403" in op["responses"]
        check_body(op["responses"]["403"]["content"]["application/json"]["schema"], await response.json())
