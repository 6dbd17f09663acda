"""Every GET route of the hub's OpenAPI document answers on the running hub (the real facade over sessions,
pipeline, source and store), with a 200 and the documented top-level keys."""

from __future__ import annotations

import json

from aiohttp import ClientSession

from hub.api.openapi import openapi_document
from tests.hub.operator.conftest import STAGING_FLEET
from tests.hub.pipeline.conftest import deployment_yaml, kustomization

FLEET = STAGING_FLEET
VALUES = {"cluster": "stg-1", "app": "inference", "application": "inference", "env": "staging",
          "environment": "staging", "name": "ops"}
QUERIES = {"/api/v1/audit/report": "?region=eu&since=2020-01-01&format=json"}


async def test_every_documented_get_route_answers_on_the_running_hub(operator_stack) -> None:
    stack = operator_stack(["stg-1"])
    first = stack.commit({"fleet.yaml": FLEET, "apps/inference/deployment.yaml": deployment_yaml(),
                          "apps/inference/kustomization.yaml": kustomization("v1")}, "v1")
    await stack.start(interval=0.3)
    await stack.eventually(lambda: stack.runs("stg-1", "inference", first), timeout=30, message="v1 synced")
    admin = stack.token("ops", "admin")
    document = openapi_document()
    checked = []
    async with ClientSession() as client:
        for template, item in document["paths"].items():
            get = item.get("get")
            if get is None or template == "/api/v1/events":  # the event stream never ends; tested elsewhere
                continue
            path = template
            for key, value in VALUES.items():
                path = path.replace("{" + key + "}", value)
            url = stack.api_url + path + QUERIES.get(template, "")
            async with client.get(url, headers={"Authorization": f"Bearer {admin}"}) as response:
                text = await response.text()
                assert response.status == 200, f"GET {path}: {response.status} {text[:300]}"
                schema = get["responses"]["200"].get("content", {}).get("application/json", {}).get("schema", {})
                keys = _keys(document, schema)
                if keys and response.content_type == "application/json":
                    body = json.loads(text)
                    if isinstance(body, dict):
                        assert keys <= set(body), f"GET {path}: {sorted(keys - set(body))} missing"
            checked.append(template)
    assert "/api/v1/fleet" in checked and "/api/v1/clusters/{cluster}/applications/{application}/diff" in checked


def _keys(document: dict, schema: dict) -> set[str]:
    """The required top-level keys of a response schema (following one $ref)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = document["components"]["schemas"][name]
    return set(schema.get("required", []))


async def test_the_hub_metrics_carry_the_argo_cd_names_with_values(operator_stack) -> None:
    stack = operator_stack(["stg-1"])
    first = stack.commit({"fleet.yaml": FLEET, "apps/inference/deployment.yaml": deployment_yaml(),
                          "apps/inference/kustomization.yaml": kustomization("v1")}, "v1")
    await stack.start(interval=0.3)
    await stack.eventually(lambda: stack.runs("stg-1", "inference", first), timeout=30, message="v1 synced")

    async def scrape() -> str:
        async with ClientSession() as client, client.get(stack.api_url + "/metrics") as response:
            return await response.text()

    needles = ('fleetline_app_info{', 'sync_status="Synced"', 'fleetline_cluster_connected{cluster="stg-1"',
               'fleetline_app_sync_total{', 'fleetline_git_request_total{result="success",type="fetch"}',
               'fleetline_git_fetch_seconds_count', 'fleetline_render_seconds_count',
               'fleetline_revision_age_seconds{', 'fleetline_hub_connected_agents 1.0')
    # sessions are noticed by the recorder's half-second look at the registry: wait for every series
    await stack.eventually(lambda: _has_all(scrape(), needles), timeout=10, message="every metric")


async def _has_all(text_coroutine, needles: tuple[str, ...]) -> bool:
    text = await text_coroutine
    return all(needle in text for needle in needles)
