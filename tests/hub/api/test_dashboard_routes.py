"""The web dashboard's routes on the API app: the page and its assets without a token (content types, no-cache,
ETags, nothing outside the static directory), the API still behind its token, and `GET /api/v1/whoami` for each
role and scope. The browser tests of the page itself are in tests/dashboard/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hub.dashboard.routes import CONTENT_TYPES, STATIC_DIR
from tests.hub.api.conftest import Api

ASSETS = sorted(p.relative_to(STATIC_DIR).as_posix() for p in STATIC_DIR.rglob("*") if p.is_file())
IMPORT = re.compile(r"""(?:^|\n)\s*import\s[^;]*?from\s+["'](\.{1,2}/[^"']+)["']""")


async def test_the_page_is_served_at_the_root_without_a_token(api: Api) -> None:
    response = await api.client.get("/")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-cache"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    page = await response.text()
    assert '<script type="module" src="/ui/js/main.js">' in page
    for testid in ("nav-fleet", "nav-drift", "nav-rollouts", "nav-approvals", "nav-audit", "logout",
                   "connection-banner"):
        assert f'data-testid="{testid}"' in page, testid
    assert api.facade.refused == [], "a public page is not a refused call"


async def test_head_answers_without_a_body(api: Api) -> None:
    response = await api.client.head("/ui/app.css")
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/css")


@pytest.mark.parametrize("asset", ASSETS)
async def test_every_asset_is_served_with_its_content_type(api: Api, asset: str) -> None:
    response = await api.client.get(f"/ui/{asset}")
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"] == CONTENT_TYPES[Path(asset).suffix]
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert await response.read() == (STATIC_DIR / asset).read_bytes()


async def test_an_unchanged_asset_is_not_sent_again(api: Api) -> None:
    first = await api.client.get("/ui/js/main.js")
    etag = first.headers["ETag"]
    again = await api.client.get("/ui/js/main.js", headers={"If-None-Match": etag})
    assert again.status == 304 and await again.read() == b""
    other = await api.client.get("/ui/js/main.js", headers={"If-None-Match": '"something-else"'})
    assert other.status == 200


@pytest.mark.parametrize("path", ["/ui/missing.js", "/ui/js/../../routes.py", "/ui/%2e%2e/routes.py",
                                  "/ui/..%2froutes.py", "/ui/.hidden.js", "/ui/js", "/ui/index.txt",
                                  "/ui/app%00.css", "/ui/js/%00/main.js"])
async def test_nothing_outside_the_assets_is_served(api: Api, path: str) -> None:
    response = await api.client.get(path)
    assert response.status == 404, path
    body = await response.json()
    assert body["reason"] == "not_found"


def test_every_module_import_of_the_page_resolves() -> None:
    modules = sorted(STATIC_DIR.rglob("*.js"))
    assert modules
    for module in modules:
        for target in IMPORT.findall(module.read_text()):
            assert (module.parent / target).resolve().is_file(), f"{module.relative_to(STATIC_DIR)} imports {target}"


@pytest.mark.parametrize("path", ["/api/v1/fleet", "/api/v1/whoami", "/api/v1/events", "/api/v1/approvals"])
async def test_the_api_still_needs_a_token(api: Api, path: str) -> None:
    response = await api.client.get(path)
    assert response.status == 401
    assert (await response.json())["reason"] == "missing_token"


@pytest.mark.parametrize(("name", "expected"), [
    ("viewer", {"name": "viewer", "role": "viewer", "regions": [], "environments": []}),
    ("operator", {"name": "operator", "role": "operator", "regions": [], "environments": []}),
    ("eu-operator", {"name": "eu-operator", "role": "operator", "regions": ["eu"], "environments": []}),
    ("staging-operator", {"name": "staging-operator", "role": "operator", "regions": [],
                          "environments": ["staging"]}),
    ("admin", {"name": "admin", "role": "admin", "regions": [], "environments": []}),
])
async def test_whoami_names_the_caller_with_its_role_and_scopes(api: Api, name: str, expected: dict) -> None:
    response = await api.client.get("/api/v1/whoami", headers=api.auth(name))
    assert response.status == 200
    assert await response.json() == expected


async def test_whoami_refuses_a_revoked_token_and_unknown_parameters(api: Api) -> None:
    response = await api.client.get("/api/v1/whoami", headers=api.auth("gone"))
    assert response.status == 401 and (await response.json())["reason"] == "revoked_token"
    response = await api.client.get("/api/v1/whoami?verbose=1", headers=api.auth("viewer"))
    assert response.status == 400
