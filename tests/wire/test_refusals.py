"""Every refusal of the issue 4 acceptance list, end to end over loopback gRPC against the real hub: each is
refused with its reason on the wire (a Goodbye, or a gRPC status before Hello is read), counted in
`fleetline_hub_refused_connections_total{reason=...}` and logged as one `event=session_refused reason=...`
line; the real agent stops with the reason instead of retrying (docs/protocol.md sections 6 and 7).

The exception is a client certificate from another CA: it fails in the TLS handshake, inside gRPC, before any
code of the hub runs, so the hub has nothing to count or log. The test asserts what each side does observe:
the agent's UNAVAILABLE failures and reconnects, and a hub whose refusal metric and log stay silent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import grpc
import pytest

from agent.session.client import SessionRefused, SessionState, TlsCredentials
from fleetline import certs
from fleetline import protocol as protocol_module
from fleetline.wire import fleet_pb2, fleet_pb2_grpc
from hub.sessions.server import HubHandle, TlsFiles, start_hub
from hub.sessions.tokens import TokenStore
from tests.wire.support import HEARTBEAT, TIMEOUT, A, B, Fleet, connected, start_agent

HUB_LOGGER = "hub.sessions.service"
AGENT_LOGGER = "agent.session.client"
SERVED = "1.0-1.1"


def version(major: int, minor: int) -> fleet_pb2.ProtocolVersion:
    return fleet_pb2.ProtocolVersion(major=major, minor=minor)


def refusals(registry_owner: Fleet | HubHandle) -> dict[str, float]:
    """Every non-zero `fleetline_hub_refused_connections_total` sample, by reason."""
    handle = registry_owner.hub if isinstance(registry_owner, Fleet) else registry_owner
    counted: dict[str, float] = {}
    for family in handle.hub.metrics.registry.collect():
        for sample in family.samples:
            if sample.name == "fleetline_hub_refused_connections_total" and sample.value:
                counted[sample.labels["reason"]] = sample.value
    return counted


def refusal_lines(caplog: pytest.LogCaptureFixture, reason: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == HUB_LOGGER
            and "event=session_refused" in r.getMessage() and f"reason={reason} " in r.getMessage()]


def agent_refusal_lines(caplog: pytest.LogCaptureFixture, reason: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == AGENT_LOGGER
            and "event=session_refused" in r.getMessage() and f"reason={reason} " in r.getMessage()]


async def eventually(predicate: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    """Poll `predicate` (metrics and logs notify no one) until it holds; AssertionError at the deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "the condition did not hold within the deadline"
        await asyncio.sleep(0.02)


async def raw_session(address: str, hello: fleet_pb2.Hello, token: str | None = None,
                      credentials: grpc.ChannelCredentials | None = None) -> list[fleet_pb2.HubMessage]:
    """Dial with the generated stubs, send Hello, read until the hub ends the stream: the replies, or the
    AioRpcError the hub ended it with (raised)."""
    channel = (grpc.aio.secure_channel(address, credentials) if credentials is not None
               else grpc.aio.insecure_channel(address))
    async with channel:
        metadata = (("authorization", f"Bearer {token}"),) if token is not None else None
        call = fleet_pb2_grpc.FleetHubStub(channel).Connect(metadata=metadata)
        with contextlib.suppress(grpc.aio.AioRpcError):  # refused before Hello was read: read() raises it
            await call.write(fleet_pb2.AgentMessage(hello=hello))
        replies = []
        async with asyncio.timeout(TIMEOUT):
            while (reply := await call.read()) is not grpc.aio.EOF:
                replies.append(reply)
                if reply.WhichOneof("body") == "welcome":
                    call.cancel()
                    break
        return replies


def goodbye_of(replies: list[fleet_pb2.HubMessage]) -> fleet_pb2.Goodbye:
    assert [r.WhichOneof("body") for r in replies] == ["goodbye"], replies
    return replies[0].goodbye


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger=HUB_LOGGER)
    caplog.set_level(logging.INFO, logger=AGENT_LOGGER)
    return caplog


# ---- bearer tokens ------------------------------------------------------------------------------------------


async def test_a_wrong_token_is_refused_unauthenticated_counted_and_logged(fleet, agents, logs):
    hello = fleet_pb2.Hello(cluster=A, protocol=protocol_module.our_version())
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await raw_session(fleet.hub.address, hello, token="not-a-token")
    # refused from the metadata, before Hello is read: a gRPC status (no stream to say Goodbye on yet)
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "not known to this hub" in (raised.value.details() or "")
    assert refusals(fleet) == {"bad_token": 1}
    [line] = refusal_lines(logs, "bad_token")
    assert "peer=" in line and "not-a-token" not in line  # never the presented token

    agent = start_agent(fleet, agents, A, "another-wrong-token", "a")
    with pytest.raises(SessionRefused) as refused:
        await asyncio.wait_for(agent.task, TIMEOUT)
    assert refused.value.reason == "UNAUTHENTICATED"
    assert agent_refusal_lines(logs, "UNAUTHENTICATED")
    # the real agent stops at once; gRPC may surface the hub's abort as INTERNAL when it races the write of
    # Hello, which costs a retry or two, never a stream of them (see test_end_to_end)
    assert 2 <= refusals(fleet)["bad_token"] <= 4
    assert set(refusals(fleet)) == {"bad_token"}
    assert fleet.hub.hub.registry() == []


async def test_a_missing_credential_is_refused_unauthenticated_counted_and_logged(fleet, logs):
    hello = fleet_pb2.Hello(cluster=A, protocol=protocol_module.our_version())
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await raw_session(fleet.hub.address, hello)
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert refusals(fleet) == {"no_credentials": 1}
    assert len(refusal_lines(logs, "no_credentials")) == 1


async def test_a_cluster_that_does_not_match_the_token_is_refused_identity_mismatch(fleet, agents, logs):
    hello = fleet_pb2.Hello(cluster=B, protocol=protocol_module.our_version())
    goodbye = goodbye_of(await raw_session(fleet.hub.address, hello, token=fleet.tokens[A]))
    assert goodbye.reason == fleet_pb2.IDENTITY_MISMATCH
    assert repr(B) in goodbye.message and repr(A) in goodbye.message
    assert refusals(fleet) == {"identity_mismatch": 1}
    [line] = refusal_lines(logs, "identity_mismatch")
    assert f"cluster={B}" in line

    impostor = start_agent(fleet, agents, B, fleet.tokens[A], "impostor")
    with pytest.raises(SessionRefused) as refused:
        await asyncio.wait_for(impostor.task, TIMEOUT)
    assert refused.value.reason == "IDENTITY_MISMATCH"
    assert agent_refusal_lines(logs, "IDENTITY_MISMATCH")
    assert refusals(fleet) == {"identity_mismatch": 2}  # a Goodbye is fatal to the agent: no retry
    assert impostor.received.empty()


async def test_a_revoked_token_is_refused_revoked(fleet, agents, logs):
    # revoked by another process (`fleetline hub-token revoke`): the running hub reads the file again
    assert TokenStore(fleet.root / "tokens").revoke(A) == 1
    hello = fleet_pb2.Hello(cluster=A, protocol=protocol_module.our_version())
    goodbye = goodbye_of(await raw_session(fleet.hub.address, hello, token=fleet.tokens[A]))
    assert goodbye.reason == fleet_pb2.REVOKED
    assert A in goodbye.message and "revoked" in goodbye.message
    assert refusals(fleet) == {"revoked": 1}
    [line] = refusal_lines(logs, "revoked")
    assert f"cluster={A}" in line

    agent = start_agent(fleet, agents, A, fleet.tokens[A], "a")
    with pytest.raises(SessionRefused) as refused:
        await asyncio.wait_for(agent.task, TIMEOUT)
    assert refused.value.reason == "REVOKED"
    assert agent_refusal_lines(logs, "REVOKED")
    assert refusals(fleet) == {"revoked": 2}
    # B's token is untouched
    other = start_agent(fleet, agents, B, fleet.tokens[B], "b")
    await connected(fleet, other)


# ---- protocol versions (this hub speaks 1.0 and serves 1.0-1.1) ------------------------------------------------


@pytest.mark.parametrize(("major", "minor", "upgrade"), [(0, 9, "agent"), (1, 2, "hub"), (2, 0, "hub")])
async def test_a_protocol_outside_the_served_range_is_refused_naming_the_versions(fleet, logs, major, minor,
                                                                                  upgrade):
    assert protocol_module.our_version() == version(1, 0)
    hello = fleet_pb2.Hello(cluster=A, protocol=version(major, minor))
    goodbye = goodbye_of(await raw_session(fleet.hub.address, hello, token=fleet.tokens[A]))
    assert goodbye.reason == fleet_pb2.UNSUPPORTED_PROTOCOL
    assert f"protocol {major}.{minor} is not supported" in goodbye.message
    assert f"speaks 1.0 and serves agents {SERVED}" in goodbye.message
    assert f"upgrade the {upgrade}" in goodbye.message
    assert refusals(fleet) == {"unsupported_protocol": 1}
    [line] = refusal_lines(logs, "unsupported_protocol")
    assert f"cluster={A}" in line and SERVED in line
    assert fleet.hub.hub.registry() == []


async def test_the_real_agent_speaking_a_too_new_protocol_stops_with_the_reason(fleet, agents, logs, monkeypatch):
    # the agent's Hello says 1.2; the hub (whose Welcome still says 1.0) refuses it and the agent gives up
    monkeypatch.setattr(protocol_module, "our_version", lambda: version(1, 2))
    agent = start_agent(fleet, agents, A, fleet.tokens[A], "a")
    with pytest.raises(SessionRefused) as refused:
        await asyncio.wait_for(agent.task, TIMEOUT)
    assert refused.value.reason == "UNSUPPORTED_PROTOCOL"
    assert SERVED in refused.value.message
    assert agent_refusal_lines(logs, "UNSUPPORTED_PROTOCOL")
    assert refusals(fleet) == {"unsupported_protocol": 1}


@pytest.mark.parametrize("minor", [0, 1])
async def test_one_minor_version_either_side_is_served(fleet, minor):
    hello = fleet_pb2.Hello(cluster=A, protocol=version(1, minor))
    [reply] = await raw_session(fleet.hub.address, hello, token=fleet.tokens[A])
    assert reply.WhichOneof("body") == "welcome"
    assert reply.welcome.protocol == version(1, 0)  # the hub says what it speaks; the agent judges the skew
    assert refusals(fleet) == {}


# ---- client certificates ----------------------------------------------------------------------------------


@pytest.fixture
async def mtls_hub(tmp_path: Path) -> AsyncIterator[tuple[HubHandle, dict[str, bytes]]]:
    """A hub that authenticates by client certificate only (no token file), and the PEMs around it."""
    ca_cert, ca_key = certs.create_ca("fleetline test CA")
    other_cert, other_key = certs.create_ca("some other CA")
    hub_cert, hub_key = certs.issue_server_certificate(ca_cert, ca_key, ["localhost", "127.0.0.1"])
    cert_a, key_a = certs.issue_cluster_certificate(ca_cert, ca_key, A)
    foreign_a, foreign_key_a = certs.issue_cluster_certificate(other_cert, other_key, A)
    handle = await start_hub("127.0.0.1:0", tmp_path / "hub", tls=TlsFiles(hub_cert, hub_key, ca_cert),
                             heartbeat_interval=HEARTBEAT, fsync=False)
    try:
        yield handle, {"ca": ca_cert, "cert_a": cert_a, "key_a": key_a, "foreign_a": foreign_a,
                       "foreign_key_a": foreign_key_a}
    finally:
        await handle.stop(grace=0.5)


async def test_a_client_certificate_from_another_ca_fails_the_handshake_which_the_hub_cannot_count(
        tmp_path: Path, mtls_hub, agents, logs):
    handle, pem = mtls_hub
    foreign = grpc.ssl_channel_credentials(pem["ca"], pem["foreign_key_a"], pem["foreign_a"])
    hello = fleet_pb2.Hello(cluster=A, protocol=protocol_module.our_version())
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await raw_session(f"localhost:{handle.port}", hello, credentials=foreign)
    # the TLS handshake fails inside gRPC: to the client it looks like a hub that cannot be reached
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE

    fleet = Fleet(handle, {}, tmp_path)
    agent = start_agent(fleet, agents, A, TlsCredentials(pem["foreign_a"], pem["foreign_key_a"], pem["ca"]),
                        "foreign", address=f"localhost:{handle.port}")
    # so the real agent cannot tell it from an outage: it keeps redialling with backoff, never connected
    await eventually(lambda: agent.sample("fleetline_agent_reconnects_total") >= 2)
    assert agent.session.state != SessionState.CONNECTED and agent.session.error is None
    lost = [r.getMessage() for r in logs.records if r.name == AGENT_LOGGER and "event=session_lost" in r.getMessage()]
    assert lost and all("code=UNAVAILABLE" in line for line in lost)
    # No servicer code ran, so the hub has nothing to count or log (a documented limitation): the refusal is
    # visible only in the agent's log and metrics and in gRPC's own handshake log line on the hub's stderr.
    assert refusals(handle) == {}
    assert not [r for r in logs.records if r.name == HUB_LOGGER and "event=session_refused" in r.getMessage()]
    assert handle.hub.registry() == []

    # the same hub accepts the right certificate, so the failure above was the foreign CA and nothing else
    good = grpc.ssl_channel_credentials(pem["ca"], pem["key_a"], pem["cert_a"])
    [reply] = await raw_session(f"localhost:{handle.port}", hello, credentials=good)
    assert reply.WhichOneof("body") == "welcome"


async def test_a_revoked_client_certificate_and_a_certificate_of_another_cluster_are_refused(mtls_hub, logs):
    handle, pem = mtls_hub
    creds = grpc.ssl_channel_credentials(pem["ca"], pem["key_a"], pem["cert_a"])
    address = f"localhost:{handle.port}"

    goodbye = goodbye_of(await raw_session(address, fleet_pb2.Hello(cluster=B, protocol=version(1, 0)),
                                           credentials=creds))
    assert goodbye.reason == fleet_pb2.IDENTITY_MISMATCH
    assert refusals(handle) == {"identity_mismatch": 1}
    assert len(refusal_lines(logs, "identity_mismatch")) == 1

    handle.hub.revoke_certificate(certs.certificate_fingerprint(pem["cert_a"]))
    goodbye = goodbye_of(await raw_session(address, fleet_pb2.Hello(cluster=A, protocol=version(1, 0)),
                                           credentials=creds))
    assert goodbye.reason == fleet_pb2.REVOKED
    assert "certificate" in goodbye.message
    assert refusals(handle) == {"identity_mismatch": 1, "revoked": 1}
    [line] = refusal_lines(logs, "revoked")
    assert f"cluster={A}" in line


async def test_a_hub_with_tokens_and_a_client_ca_requires_certificates(tmp_path: Path):
    # gRPC's Python server can require a client certificate or not ask for one, never ask for an optional one:
    # with a client CA certificates are required, and the token file holds the revoked certificates.
    ca_cert, ca_key = certs.create_ca("fleetline test CA")
    hub_cert, hub_key = certs.issue_server_certificate(ca_cert, ca_key, ["localhost", "127.0.0.1"])
    cert_a, key_a = certs.issue_cluster_certificate(ca_cert, ca_key, A)
    store = TokenStore(tmp_path / "tokens")
    token_b = store.issue(B)
    handle = await start_hub("127.0.0.1:0", tmp_path / "hub", tokens=store,
                             tls=TlsFiles(hub_cert, hub_key, ca_cert), heartbeat_interval=HEARTBEAT, fsync=False)
    try:
        creds = grpc.ssl_channel_credentials(ca_cert, key_a, cert_a)
        replies = await raw_session(f"localhost:{handle.port}", fleet_pb2.Hello(cluster=A, protocol=version(1, 0)),
                                    credentials=creds)
        assert [r.WhichOneof("body") for r in replies] == ["welcome"]
        with pytest.raises(grpc.aio.AioRpcError) as refused:  # a token alone is not enough here
            await raw_session(f"localhost:{handle.port}", fleet_pb2.Hello(cluster=B, protocol=version(1, 0)),
                              credentials=grpc.ssl_channel_credentials(ca_cert), token=token_b)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        await handle.stop(grace=0.5)
