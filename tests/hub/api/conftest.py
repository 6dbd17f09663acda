"""Fixtures of the API tests: a token store with one token per role and scope, the fake facade, and a test
client of the app over them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hub.api.app import build_app
from hub.api.tokens import ApiTokenStore
from tests.hub.api.fakes import FakeFacade

# name -> (role, regions, environments)
TOKENS = {
    "admin": ("admin", (), ()),
    "viewer": ("viewer", (), ()),
    "operator": ("operator", (), ()),
    "eu-operator": ("operator", ("eu",), ()),
    "eu-viewer": ("viewer", ("eu",), ()),
    "staging-operator": ("operator", (), ("staging",)),
    "eu-admin": ("admin", ("eu",), ()),
    "gone": ("admin", (), ()),
}


@dataclass
class Api:
    client: TestClient
    facade: FakeFacade
    store: ApiTokenStore
    secrets: dict[str, str]

    def auth(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets[name]}"}


@pytest.fixture
def store(tmp_path: Path) -> ApiTokenStore:
    return ApiTokenStore.in_data_dir(tmp_path, fsync=False)


@pytest.fixture
async def api(store: ApiTokenStore) -> AsyncIterator[Api]:
    secrets = {name: store.create(name, role, regions, envs) for name, (role, regions, envs) in TOKENS.items()}
    store.revoke("gone")
    facade = FakeFacade()
    app = build_app(facade, store, sse_keepalive=0.05)
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        yield Api(client, facade, store, secrets)
    finally:
        await client.close()
