"""kubesim's TLS material and kubeconfig: real handshakes on loopback, the official client and kubectl."""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import os
import shutil
import socket
import ssl
import stat
import tempfile
from pathlib import Path

import pytest
import yaml
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes.client.rest import ApiException

from kubesim.kubeconfig import render_kubeconfig, write_kubeconfig
from kubesim.tls import make_ca, make_serving_cert, server_ssl_context

TOKEN = "s3cr3t-token"
VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.4-kubesim", "gitCommit": "0" * 40,
           "gitTreeState": "clean", "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.23.6",
           "compiler": "gc", "platform": "linux/amd64"}


@pytest.fixture(scope="module")
def ca() -> tuple[bytes, bytes]:
    return make_ca("kubesim-test-ca")


@pytest.fixture(scope="module")
def serving(ca: tuple[bytes, bytes]) -> tuple[bytes, bytes]:
    return make_serving_cert(ca[0], ca[1], ["127.0.0.1", "localhost", "::1"])


def client_context(ca_pem: bytes) -> ssl.SSLContext:
    return ssl.create_default_context(cadata=ca_pem.decode())


# --- certificates -----------------------------------------------------------------------------------------

def test_ca_and_serving_certificate_fields(ca: tuple[bytes, bytes], serving: tuple[bytes, bytes]) -> None:
    ca_cert = x509.load_pem_x509_certificate(ca[0])
    cert = x509.load_pem_x509_certificate(serving[0])
    assert ca_cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1"),
                                                        ipaddress.ip_address("::1")]
    assert sans.get_values_for_type(x509.DNSName) == ["localhost"]
    assert cert.issuer == ca_cert.subject
    cert.verify_directly_issued_by(ca_cert)  # raises if the CA did not sign it
    key = cert.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1"
    assert b"PRIVATE KEY" in serving[1] and b"ENCRYPTED" not in serving[1]


def test_serving_cert_is_not_issued_by_another_ca(serving: tuple[bytes, bytes]) -> None:
    other = x509.load_pem_x509_certificate(make_ca("someone-else")[0])
    with pytest.raises((ValueError, TypeError)):
        x509.load_pem_x509_certificate(serving[0]).verify_directly_issued_by(other)


def test_a_serving_cert_needs_a_host(ca: tuple[bytes, bytes]) -> None:
    with pytest.raises(ValueError, match="at least one host"):
        make_serving_cert(ca[0], ca[1], [])


def test_server_context_leaves_no_key_on_disk(serving: tuple[bytes, bytes], tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    ctx = server_ssl_context(*serving)
    assert isinstance(ctx, ssl.SSLContext) and ctx.minimum_version >= ssl.TLSVersion.TLSv1_2
    assert list(tmp_path.iterdir()) == []


# --- real handshakes --------------------------------------------------------------------------------------

async def _echo_over_tls(server_ctx: ssl.SSLContext, client_ctx: ssl.SSLContext, hostname: str) -> bytes:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            writer.write(await reader.readline())
            await writer.drain()
        except (ssl.SSLError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0, ssl=server_ctx)
    port = server.sockets[0].getsockname()[1]
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", port, ssl=client_ctx, server_hostname=hostname), timeout=10)
        writer.write(b"ping\n")
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), timeout=10)
        writer.close()
        return line
    finally:
        server.close()
        await server.wait_closed()


async def test_loopback_handshake_verifies_against_the_ca(ca, serving) -> None:
    assert await _echo_over_tls(server_ssl_context(*serving), client_context(ca[0]), "127.0.0.1") == b"ping\n"
    assert await _echo_over_tls(server_ssl_context(*serving), client_context(ca[0]), "localhost") == b"ping\n"


async def test_handshake_fails_with_another_ca(serving) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        await _echo_over_tls(server_ssl_context(*serving), client_context(make_ca("other")[0]), "127.0.0.1")


async def test_handshake_fails_for_a_host_not_in_the_certificate(ca) -> None:
    only_dns = make_serving_cert(ca[0], ca[1], ["kubesim.local"])
    with pytest.raises(ssl.SSLCertVerificationError):
        await _echo_over_tls(server_ssl_context(*only_dns), client_context(ca[0]), "127.0.0.1")


# --- kubeconfig -------------------------------------------------------------------------------------------

def test_kubeconfig_with_ca(ca) -> None:
    doc = yaml.safe_load(render_kubeconfig("eu-1", "https://127.0.0.1:6443", TOKEN, ca[0]))
    assert doc["current-context"] == "eu-1"
    assert doc["clusters"] == [{"name": "eu-1", "cluster": {
        "server": "https://127.0.0.1:6443",
        "certificate-authority-data": base64.b64encode(ca[0]).decode()}}]
    assert doc["users"] == [{"name": "eu-1", "user": {"token": TOKEN}}]
    assert doc["contexts"] == [{"name": "eu-1", "context": {"cluster": "eu-1", "user": "eu-1"}}]
    assert base64.b64decode(doc["clusters"][0]["cluster"]["certificate-authority-data"]) == ca[0]


def test_kubeconfig_without_ca_has_no_tls_fields() -> None:
    text = render_kubeconfig("local", "http://127.0.0.1:8080", TOKEN, None)
    cluster = yaml.safe_load(text)["clusters"][0]["cluster"]
    assert cluster == {"server": "http://127.0.0.1:8080"}
    assert "certificate-authority" not in text and "insecure" not in text


def test_write_kubeconfig_is_private_even_over_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "kube" / "config"
    path.parent.mkdir()
    path.write_text("old")
    path.chmod(0o644)
    assert write_kubeconfig(path, "local", "http://127.0.0.1:8080", TOKEN, None) == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert yaml.safe_load(path.read_text())["users"][0]["user"]["token"] == TOKEN
    assert sorted(p.name for p in path.parent.iterdir()) == ["config"]  # no temporary file left behind
    fresh = write_kubeconfig(tmp_path / "new" / "dir" / "config", "x", "http://127.0.0.1:1", TOKEN, None)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600


def test_official_client_loads_the_kubeconfig(ca, tmp_path: Path) -> None:
    path = write_kubeconfig(tmp_path / "config", "eu-1", "https://127.0.0.1:6443", TOKEN, ca[0])
    cfg = k8s_client.Configuration()
    k8s_config.load_kube_config(config_file=str(path), client_configuration=cfg)
    assert cfg.host == "https://127.0.0.1:6443"
    bearer = cfg.auth_settings()["BearerToken"]  # the header the client will send
    assert (bearer["key"], bearer["value"]) == ("authorization", f"Bearer {TOKEN}")
    assert cfg.verify_ssl is True
    assert Path(cfg.ssl_ca_cert).read_bytes() == ca[0]


# --- end to end: an HTTPS server, the official client and kubectl -----------------------------------------

@pytest.fixture
async def https_server(serving):
    """A tiny HTTPS API serving /version to bearer-token holders; yields its base URL."""
    async def version(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                      "message": "Unauthorized", "reason": "Unauthorized", "code": 401},
                                     status=401)
        return web.json_response(VERSION)

    app = web.Application()
    app.router.add_get("/version", version)
    app.router.add_get("/version/", version)  # the Python client asks for /version/
    runner = web.AppRunner(app)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    site = web.SockSite(runner, sock, ssl_context=server_ssl_context(*serving))
    await site.start()
    try:
        yield f"https://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        await runner.cleanup()


def _version_via_client(path: Path) -> str:
    cfg = k8s_client.Configuration()
    k8s_config.load_kube_config(config_file=str(path), client_configuration=cfg)
    with k8s_client.ApiClient(cfg) as api:
        return k8s_client.VersionApi(api).get_code(_request_timeout=20).git_version


async def test_official_client_talks_tls_with_the_token(https_server: str, ca, tmp_path: Path) -> None:
    good = write_kubeconfig(tmp_path / "good", "kubesim", https_server, TOKEN, ca[0])
    assert await asyncio.to_thread(_version_via_client, good) == "v1.32.4-kubesim"
    wrong_token = write_kubeconfig(tmp_path / "bad", "kubesim", https_server, "nope", ca[0])
    with pytest.raises(ApiException) as exc:
        await asyncio.to_thread(_version_via_client, wrong_token)
    assert exc.value.status == 401


def _kubectl() -> str | None:
    found = shutil.which("kubectl")
    if found is None:
        return None
    pinned = Path(os.path.realpath(found)).parent / "kubectl.1.32"  # skip the gcloud version dispatcher
    return str(pinned) if pinned.exists() else found


@pytest.mark.kubectl
@pytest.mark.skipif(_kubectl() is None, reason="kubectl is not on PATH")
async def test_kubectl_verifies_the_serving_cert(https_server: str, ca, tmp_path: Path) -> None:
    """Go's verifier is stricter than Python's (SANs only, no CN fallback): kubectl must accept it too."""
    path = write_kubeconfig(tmp_path / "config", "kubesim", https_server, TOKEN, ca[0])

    async def run(config: Path) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(
            _kubectl(), "--kubeconfig", str(config), "--request-timeout", "20s", "get", "--raw", "/version",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "HOME": str(tmp_path)})
        out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
        return proc.returncode, out.decode(), err.decode()

    code, out, err = await run(path)
    assert code == 0, err
    assert '"gitVersion":"v1.32.4-kubesim"' in out.replace(" ", "")
    untrusted = write_kubeconfig(tmp_path / "untrusted", "kubesim", https_server, TOKEN, make_ca("other")[0])
    code, _, err = await run(untrusted)
    assert code != 0 and "certificate" in err
