"""An https hub whose certificate comes from a private CA: refused without `--ca` (exit 4, saying to give it),
trusted with it."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from fleetline.certs import create_ca, issue_server_certificate
from tests.hub.client.fakehub import FakeHubApi
from tests.hub.client.harness import run_cli


@pytest.fixture
def tls_hub(tmp_path: Path) -> Iterator[tuple[FakeHubApi, Path]]:
    ca_cert, ca_key = create_ca("test hub CA")
    cert, key = issue_server_certificate(ca_cert, ca_key, ["127.0.0.1"])
    for name, data in (("ca.crt", ca_cert), ("hub.crt", cert), ("hub.key", key)):
        (tmp_path / name).write_bytes(data)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tmp_path / "hub.crt", tmp_path / "hub.key")
    fake = FakeHubApi(context).start()
    try:
        yield fake, tmp_path / "ca.crt"
    finally:
        fake.stop()


def test_a_private_ca_is_trusted_with_ca(tls_hub: tuple[FakeHubApi, Path], tmp_path: Path) -> None:
    hub, ca = tls_hub
    untrusted = run_cli(hub, "status")
    assert untrusted.code == 4 and "give it with --ca FILE" in untrusted.err
    assert run_cli(hub, "status", "--ca", str(ca)).code == 0
    assert run_cli(hub, "status", env={"FLEETLINE_CA": str(ca)}).code == 0
    (tmp_path / "junk.pem").write_text("not a certificate")
    bad = run_cli(hub, "status", "--ca", str(tmp_path / "junk.pem"))
    assert bad.code == 2 and "junk.pem: not a readable PEM CA certificate" in bad.err
