"""Fixtures of the CLI's tests: a running fake of the hub's REST API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.hub.client.fakehub import FakeHubApi


@pytest.fixture
def hub() -> Iterator[FakeHubApi]:
    fake = FakeHubApi().start()
    try:
        yield fake
    finally:
        fake.stop()
