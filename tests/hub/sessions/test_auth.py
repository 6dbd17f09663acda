"""Authentication, identity, revocation, version skew and fencing of hub sessions, over real loopback gRPC."""

from __future__ import annotations

import logging
from pathlib import Path

import grpc
import pytest

from fleetline import certs
from fleetline.wire import fleet_pb2
from hub.sessions.server import TlsFiles, start_hub
from hub.sessions.tokens import TokenStore
from tests.hub.sessions.conftest import FakeAgent, refused


def target(hub) -> str:
    return f"127.0.0.1:{hub.port}"


async def test_valid_token_gets_welcome_and_is_registered(hub, tokens, agents):
    token = tokens.issue("us-east-1")
    agent = await FakeAgent(target(hub), "us-east-1", token).connect()
    agents.append(agent)
    welcome = (await agent.expect("welcome")).welcome
    assert welcome.heartbeat_interval_ms == 500 and welcome.protocol.major == 1
    await hub.hub.wait_for(lambda: len(hub.hub.registry()) == 1, 5)
    [info] = hub.hub.registry()
    assert (info.cluster, info.session_id, info.auth, info.protocol) == ("us-east-1", welcome.session_id, "token",
                                                                       "1.0")
    assert info.peer.startswith("ipv4:127.0.0.1") or "127.0.0.1" in info.peer
    assert hub.hub.metrics.registry.get_sample_value("fleetline_hub_connected_agents") == 1


async def test_wrong_and_missing_token_refused_with_reason_metric_and_log(hub, tokens, agents, caplog):
    tokens.issue("us-east-1")
    caplog.set_level(logging.WARNING, logger="hub.sessions.service")
    for token, reason in (("not-a-token", "bad_token"), (None, "no_credentials")):
        agent = await FakeAgent(target(hub), "us-east-1", token).connect()
        agents.append(agent)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await agent.read()
        assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert refused(hub, reason) == 1
    lines = [r.getMessage() for r in caplog.records if "event=session_refused" in r.getMessage()]
    assert any("reason=bad_token" in line for line in lines) and any("reason=no_credentials" in line for line in lines)
    assert not any("not-a-token" in line for line in lines), "a presented token must never be logged"


async def test_revoke_closes_live_session_and_refuses_next_connect(hub, tokens, agents):
    token = tokens.issue("eu-1")
    agent = await FakeAgent(target(hub), "eu-1", token).connect()
    agents.append(agent)
    await agent.expect("welcome")
    await hub.hub.revoke("eu-1")
    goodbye = (await agent.expect("goodbye")).goodbye
    assert goodbye.reason == fleet_pb2.REVOKED
    assert await agent.read() is None
    again = await FakeAgent(target(hub), "eu-1", token).connect()
    agents.append(again)
    goodbye = (await again.expect("goodbye")).goodbye
    assert goodbye.reason == fleet_pb2.REVOKED and "revoked" in goodbye.message
    assert refused(hub, "revoked") == 1
    assert TokenStore(tokens.path).verify(token) is None


async def test_token_revoked_by_another_process_closes_the_live_session(hub, tokens, agents):
    token = tokens.issue("eu-1")
    agent = await FakeAgent(target(hub), "eu-1", token).connect()
    agents.append(agent)
    await agent.expect("welcome")
    TokenStore(tokens.path).revoke("eu-1")  # as `fleetline hub-token revoke` does, from outside the hub
    goodbye = (await agent.expect("goodbye")).goodbye  # noticed at the next heartbeat
    assert goodbye.reason == fleet_pb2.REVOKED


async def test_cluster_name_must_match_the_credential(hub, tokens, agents):
    token = tokens.issue("us-west-1")
    agent = await FakeAgent(target(hub), "eu-1", token).connect()
    agents.append(agent)
    goodbye = (await agent.expect("goodbye")).goodbye
    assert goodbye.reason == fleet_pb2.IDENTITY_MISMATCH
    assert "eu-1" in goodbye.message and "us-west-1" in goodbye.message
    assert refused(hub, "identity_mismatch") == 1
    assert hub.hub.registry() == []


@pytest.mark.parametrize(("major", "minor", "upgrade"), [(0, 9, "agent"), (1, 2, "hub"), (2, 0, "hub")])
async def test_protocol_outside_the_served_range_is_refused_naming_versions(hub, tokens, agents, major, minor,
                                                                            upgrade):
    token = tokens.issue("eu-1")
    agent = await FakeAgent(target(hub), "eu-1", token,
                            protocol=fleet_pb2.ProtocolVersion(major=major, minor=minor)).connect()
    agents.append(agent)
    goodbye = (await agent.expect("goodbye")).goodbye
    assert goodbye.reason == fleet_pb2.UNSUPPORTED_PROTOCOL
    assert f"{major}.{minor}" in goodbye.message and "1.0" in goodbye.message and f"upgrade the {upgrade}" in \
        goodbye.message
    assert refused(hub, "unsupported_protocol") == 1


async def test_one_minor_version_newer_is_served(hub, tokens, agents):
    token = tokens.issue("eu-1")
    agent = await FakeAgent(target(hub), "eu-1", token, protocol=fleet_pb2.ProtocolVersion(major=1, minor=1)).connect()
    agents.append(agent)
    await agent.expect("welcome")


async def test_second_session_fences_the_first(hub, tokens, agents):
    token = tokens.issue("eu-1")
    first = await FakeAgent(target(hub), "eu-1", token).connect()
    agents.append(first)
    await first.expect("welcome")
    second = await FakeAgent(target(hub), "eu-1", token).connect()
    agents.append(second)
    welcome = (await second.expect("welcome")).welcome
    goodbye = (await first.expect("goodbye")).goodbye
    assert goodbye.reason == fleet_pb2.FENCED and welcome.session_id in goodbye.message
    assert await first.read() is None
    await hub.hub.wait_for(lambda: [i.session_id for i in hub.hub.registry()] == [welcome.session_id], 5)
    assert hub.hub.metrics.registry.get_sample_value("fleetline_hub_connected_agents") == 1


async def test_plain_text_only_on_loopback_and_only_when_asked(tmp_path: Path):
    with pytest.raises(ValueError, match="loopback"):
        await start_hub("0.0.0.0:0", tmp_path, insecure=True)
    with pytest.raises(ValueError, match="TLS"):
        await start_hub("127.0.0.1:0", tmp_path)


async def test_mtls_identity_from_certificate_and_certificate_revocation(tmp_path: Path, agents):
    ca_cert, ca_key = certs.create_ca("fleetline test CA")
    server_cert, server_key = certs.issue_server_certificate(ca_cert, ca_key, ["localhost", "127.0.0.1"])
    client_cert, client_key = certs.issue_cluster_certificate(ca_cert, ca_key, "eu-1")
    handle = await start_hub("127.0.0.1:0", tmp_path, tls=TlsFiles(server_cert, server_key, ca_cert),
                             heartbeat_interval=0.5)
    try:
        creds = grpc.ssl_channel_credentials(ca_cert, client_key, client_cert)
        agent = await FakeAgent(f"localhost:{handle.port}", "eu-1", credentials=creds).connect()
        agents.append(agent)
        await agent.expect("welcome")
        assert [i.auth for i in handle.hub.registry()] == ["certificate"]
        impostor = await FakeAgent(f"localhost:{handle.port}", "us-east-1", credentials=creds).connect()
        agents.append(impostor)
        assert (await impostor.expect("goodbye")).goodbye.reason == fleet_pb2.IDENTITY_MISMATCH
        handle.hub.revoke_certificate(certs.certificate_fingerprint(client_cert))
        assert (await agent.expect("goodbye")).goodbye.reason == fleet_pb2.REVOKED
        again = await FakeAgent(f"localhost:{handle.port}", "eu-1", credentials=creds).connect()
        agents.append(again)
        assert (await again.expect("goodbye")).goodbye.reason == fleet_pb2.REVOKED
        no_cert = FakeAgent(f"localhost:{handle.port}", "eu-1", credentials=grpc.ssl_channel_credentials(ca_cert))
        agents.append(no_cert)
        await no_cert.connect()
        with pytest.raises(grpc.aio.AioRpcError):  # refused in the TLS handshake: the client CA requires one
            await no_cert.read()
    finally:
        await handle.stop(0.5)
