"""fleetline.certs and `fleetline certs`: identities, chains, key file modes, and a real grpc.aio mTLS handshake."""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import shutil
import stat
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from fleetline import certs, certs_cli


@dataclass
class Pki:
    ca_cert: bytes
    ca_key: bytes
    cluster_cert: bytes
    cluster_key: bytes
    server_cert: bytes
    server_key: bytes


def make_pki(cluster: str = "us-east-1") -> Pki:
    ca_cert, ca_key = certs.create_ca("fleetline test CA")
    cluster_cert, cluster_key = certs.issue_cluster_certificate(ca_cert, ca_key, cluster)
    server_cert, server_key = certs.issue_server_certificate(ca_cert, ca_key, ["localhost", "127.0.0.1"])
    return Pki(ca_cert, ca_key, cluster_cert, cluster_key, server_cert, server_key)


@pytest.fixture(scope="module")
def pki() -> Pki:
    return make_pki()


@pytest.fixture(scope="module")
def other_pki() -> Pki:
    return make_pki()


def load(pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem)


# ---- identities -------------------------------------------------------------------------------------------


def test_cluster_certificate_carries_spiffe_san_and_cn(pki: Pki) -> None:
    cert = load(pki.cluster_cert)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == ["spiffe://fleetline/cluster/us-east-1"]
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "us-east-1"
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH in eku
    assert certs.identity_of(pki.cluster_cert) == "us-east-1"
    assert certs.identity_of(pki.cluster_cert.decode()) == "us-east-1"


def self_signed(common_name: str | None, uris: list[str]) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)] if common_name else []
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(attrs))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "x")]))
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
    )
    if uris:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(u) for u in uris]), critical=False
        )
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def test_identity_prefers_spiffe_san_over_cn() -> None:
    pem = self_signed("cn-name", ["https://example.com/x", "spiffe://fleetline/cluster/san-name"])
    assert certs.identity_of(pem) == "san-name"


def test_identity_falls_back_to_cn() -> None:
    assert certs.identity_of(self_signed("eu-west-1", [])) == "eu-west-1"
    # a SPIFFE ID of another trust domain or shape is not a cluster identity
    assert certs.identity_of(self_signed("eu-west-1", ["spiffe://other/cluster/x"])) == "eu-west-1"
    assert certs.identity_of(self_signed("eu-west-1", ["spiffe://fleetline/cluster/a/b"])) == "eu-west-1"


def test_identity_of_nothing_is_none() -> None:
    assert certs.identity_of(self_signed(None, [])) is None
    assert certs.identity_of(b"not a certificate") is None


def test_server_certificate_names_hosts_and_ips(pki: Pki) -> None:
    cert = load(pki.server_cert)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    with pytest.raises(ValueError):
        certs.issue_server_certificate(pki.ca_cert, pki.ca_key, [])


@pytest.mark.parametrize("name", ["", "US-East", "a/b", "../x", "-a", "a-", "a..b", "a b", "x" * 300])
def test_invalid_cluster_names_are_refused(pki: Pki, name: str) -> None:
    with pytest.raises(ValueError, match="not valid"):
        certs.issue_cluster_certificate(pki.ca_cert, pki.ca_key, name)


def test_validity_and_mismatched_ca_key(pki: Pki, other_pki: Pki) -> None:
    cert, _ = certs.issue_cluster_certificate(pki.ca_cert, pki.ca_key, "eu-1", days=30)
    lifetime = load(cert).not_valid_after_utc - load(cert).not_valid_before_utc
    assert datetime.timedelta(days=30) <= lifetime <= datetime.timedelta(days=30, minutes=10)
    with pytest.raises(ValueError, match="does not belong"):
        certs.issue_cluster_certificate(pki.ca_cert, other_pki.ca_key, "eu-1")
    with pytest.raises(ValueError, match="days"):
        certs.issue_cluster_certificate(pki.ca_cert, pki.ca_key, "eu-1", days=0)


def test_fingerprints_are_stable_and_distinct(pki: Pki) -> None:
    again, _ = certs.issue_cluster_certificate(pki.ca_cert, pki.ca_key, "us-east-1")
    fingerprint = certs.certificate_fingerprint(pki.cluster_cert)
    assert fingerprint == certs.certificate_fingerprint(pki.cluster_cert.decode())
    assert fingerprint.startswith("sha256:") and len(fingerprint) == 7 + 64
    assert fingerprint != certs.certificate_fingerprint(again)


# ---- chains -----------------------------------------------------------------------------------------------


def test_chains_verify_against_their_ca(pki: Pki, other_pki: Pki) -> None:
    store = Store([load(pki.ca_cert)])
    client = PolicyBuilder().store(store).build_client_verifier().verify(load(pki.cluster_cert), [])
    assert [str(s.value) for s in client.subjects] == ["spiffe://fleetline/cluster/us-east-1"]
    for host in (x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))):
        chain = PolicyBuilder().store(store).build_server_verifier(host).verify(load(pki.server_cert), [])
        assert chain[-1] == load(pki.ca_cert)
    with pytest.raises(VerificationError):
        PolicyBuilder().store(store).build_client_verifier().verify(load(other_pki.cluster_cert), [])
    with pytest.raises(VerificationError):
        PolicyBuilder().store(store).build_server_verifier(x509.DNSName("hub.example.com")).verify(
            load(pki.server_cert), []
        )


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not on PATH")
def test_openssl_verifies_the_chain(tmp_path: Path, pki: Pki, other_pki: Pki) -> None:
    (tmp_path / "ca.crt").write_bytes(pki.ca_cert)
    (tmp_path / "client.crt").write_bytes(pki.cluster_cert)
    (tmp_path / "foreign.crt").write_bytes(other_pki.cluster_cert)
    ok = subprocess.run(["openssl", "verify", "-CAfile", "ca.crt", "-purpose", "sslclient", "client.crt"],
                        cwd=tmp_path, capture_output=True, text=True, timeout=10)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = subprocess.run(["openssl", "verify", "-CAfile", "ca.crt", "foreign.crt"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=10)
    assert bad.returncode != 0


# ---- command line -----------------------------------------------------------------------------------------


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="fleetline")
    sub = parser.add_subparsers(dest="command")
    certs_cli.add_certs_parser(sub)
    args = parser.parse_args(list(argv))
    return args.run(args)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_cli_init_and_issue(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = tmp_path / "pki"
    assert run_cli("certs", "init", "--dir", str(directory)) == 0
    assert sorted(p.name for p in directory.iterdir()) == ["ca.crt", "ca.key", "hub.crt", "hub.key"]
    assert mode(directory / "ca.key") == 0o600 and mode(directory / "hub.key") == 0o600
    assert certs.identity_of((directory / "hub.crt").read_bytes()) == "localhost"

    assert run_cli("certs", "issue", "eu-west-1", "--dir", str(directory), "--days", "10") == 0
    assert mode(directory / "eu-west-1.key") == 0o600
    cert = (directory / "eu-west-1.crt").read_bytes()
    assert certs.identity_of(cert) == "eu-west-1"
    store = Store([load((directory / "ca.crt").read_bytes())])
    PolicyBuilder().store(store).build_client_verifier().verify(load(cert), [])
    assert "spiffe://fleetline/cluster/eu-west-1" in capsys.readouterr().out


def test_cli_init_hostnames(tmp_path: Path) -> None:
    argv = ["certs", "init", "--dir", str(tmp_path), "--hostname", "hub.fleet.internal", "--hostname", "10.0.0.5"]
    assert run_cli(*argv) == 0
    san = load((tmp_path / "hub.crt").read_bytes()).extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert san.value.get_values_for_type(x509.DNSName) == ["hub.fleet.internal"]
    assert [str(ip) for ip in san.value.get_values_for_type(x509.IPAddress)] == ["10.0.0.5"]


def test_cli_refuses_to_replace_a_ca_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("certs", "init", "--dir", str(tmp_path)) == 0
    original = (tmp_path / "ca.crt").read_bytes()
    assert run_cli("certs", "init", "--dir", str(tmp_path)) == 1
    assert "a CA already exists" in capsys.readouterr().err
    assert (tmp_path / "ca.crt").read_bytes() == original
    assert run_cli("certs", "init", "--dir", str(tmp_path), "--force") == 0
    assert (tmp_path / "ca.crt").read_bytes() != original
    assert mode(tmp_path / "ca.key") == 0o600


def test_cli_issue_errors_name_the_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("certs", "issue", "us-east-1", "--dir", str(tmp_path)) == 1
    assert "fleetline certs init --dir" in capsys.readouterr().err
    assert run_cli("certs", "init", "--dir", str(tmp_path)) == 0
    assert run_cli("certs", "issue", "Bad/Name", "--dir", str(tmp_path)) == 1
    assert "not valid" in capsys.readouterr().err
    assert not list(tmp_path.glob("*Name*"))


def test_write_file_leaves_no_temporary_files(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "x.key"
    certs_cli.write_file(target, b"one", 0o600)
    certs_cli.write_file(target, b"two", 0o600)
    assert target.read_bytes() == b"two" and mode(target) == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["x.key"]


# ---- grpc.aio mutual TLS ----------------------------------------------------------------------------------


@dataclass
class MtlsServer:
    port: int
    seen: list[dict[str, list[bytes]]]


@pytest.fixture
async def mtls_server(pki: Pki) -> AsyncIterator[MtlsServer]:
    seen: list[dict[str, list[bytes]]] = []

    async def who_am_i(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        auth = {key: list(values) for key, values in context.auth_context().items()}
        seen.append(auth)
        return (certs.identity_from_auth_context(auth) or "").encode()

    server = grpc.aio.server()
    handlers = {"WhoAmI": grpc.unary_unary_rpc_method_handler(who_am_i)}
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("test.Identity", handlers)])
    credentials = grpc.ssl_server_credentials(
        [(pki.server_key, pki.server_cert)], root_certificates=pki.ca_cert, require_client_auth=True
    )
    port = server.add_secure_port("127.0.0.1:0", credentials)
    await server.start()
    try:
        yield MtlsServer(port, seen)
    finally:
        await server.stop(None)


async def call(port: int, credentials: grpc.ChannelCredentials, target_host: str = "127.0.0.1") -> bytes:
    async with grpc.aio.secure_channel(f"{target_host}:{port}", credentials) as channel:
        return await channel.unary_unary("/test.Identity/WhoAmI")(b"", timeout=5)


async def test_mtls_identity_is_readable_server_side(mtls_server: MtlsServer, pki: Pki) -> None:
    credentials = grpc.ssl_channel_credentials(pki.ca_cert, pki.cluster_key, pki.cluster_cert)
    assert await call(mtls_server.port, credentials) == b"us-east-1"
    assert await call(mtls_server.port, credentials, target_host="localhost") == b"us-east-1"
    auth = mtls_server.seen[0]
    # what the hub's servicer reads (documented for hub.sessions):
    assert auth["transport_security_type"] == [b"ssl"]
    assert auth[certs.AUTH_COMMON_NAME] == [b"us-east-1"]
    assert auth["x509_subject_alternative_name"] == [b"spiffe://fleetline/cluster/us-east-1"]
    assert auth[certs.AUTH_SPIFFE_ID] == [b"spiffe://fleetline/cluster/us-east-1"]
    (pem,) = auth[certs.AUTH_PEM_CERT]
    assert certs.identity_of(pem) == "us-east-1"
    assert certs.certificate_fingerprint(certs.peer_certificate_pem(auth)) == certs.certificate_fingerprint(
        pki.cluster_cert
    )


async def test_mtls_refuses_a_foreign_client_certificate(mtls_server: MtlsServer, pki: Pki, other_pki: Pki) -> None:
    foreign = grpc.ssl_channel_credentials(pki.ca_cert, other_pki.cluster_key, other_pki.cluster_cert)
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await call(mtls_server.port, foreign)
    assert error.value.code() == grpc.StatusCode.UNAVAILABLE
    anonymous = grpc.ssl_channel_credentials(pki.ca_cert)
    with pytest.raises(grpc.aio.AioRpcError):
        await call(mtls_server.port, anonymous)
    assert mtls_server.seen == []


async def test_client_refuses_a_hub_it_does_not_trust(mtls_server: MtlsServer, pki: Pki, other_pki: Pki) -> None:
    wrong_ca = grpc.ssl_channel_credentials(other_pki.ca_cert, pki.cluster_key, pki.cluster_cert)
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await call(mtls_server.port, wrong_ca)
    assert error.value.code() == grpc.StatusCode.UNAVAILABLE
    assert mtls_server.seen == []


def test_identity_from_auth_context_fallbacks() -> None:
    assert certs.identity_from_auth_context({}) is None
    assert certs.identity_from_auth_context({"peer_spiffe_id": [b"spiffe://fleetline/cluster/a"]}) == "a"
    assert certs.identity_from_auth_context({"peer_spiffe_id": [b"spiffe://x/y"], "x509_common_name": [b"b"]}) == "b"
    assert certs.peer_certificate_pem({}) is None
