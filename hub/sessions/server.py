"""Starting and stopping the hub's gRPC server around a SessionHub: transport security and message limits.

TLS (1.2 or newer, gRPC's default) with a server certificate; with a client CA, client certificates are
verified against it and required (gRPC's Python server can require a client certificate or not ask for one,
never ask for an optional one); the token file then serves as the list of revoked certificates, and agents
with only a token need a hub without a client CA. Plain text only with `insecure=True`, and only on a loopback
address: anything else is a ValueError naming the fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import grpc

from fleetline.protocol import DEFAULT_HEARTBEAT_INTERVAL, DEFAULT_MAX_MESSAGE_BYTES, is_loopback_host
from fleetline.wire import fleet_pb2_grpc
from hub.sessions.metrics import HubMetrics
from hub.sessions.service import SessionHub
from hub.sessions.tokens import TokenStore

# Room for the protobuf framing around the largest message, so a message at the limit is never refused.
_GRPC_SLACK = 64 * 1024
# New calls gRPC may queue before the hub takes them: a whole fleet dialling at once.
_MAX_PENDING_CALLS = 100_000


@dataclass
class TlsFiles:
    """PEM contents: the hub's certificate and key, and the CA that signs agents' client certificates (or None)."""

    cert: bytes
    key: bytes
    client_ca: bytes | None = None

    @classmethod
    def from_paths(cls, cert: str | Path, key: str | Path, client_ca: str | Path | None) -> TlsFiles:
        return cls(Path(cert).read_bytes(), Path(key).read_bytes(),
                   Path(client_ca).read_bytes() if client_ca else None)


@dataclass
class HubHandle:
    """A running hub: its bound port, its SessionHub, and stop()."""

    server: grpc.aio.Server
    hub: SessionHub
    port: int
    address: str

    async def stop(self, grace: float = 1.0) -> None:
        await self.hub.close(grace)
        await self.server.stop(grace)

    async def wait(self) -> None:
        await self.server.wait_for_termination()


def split_host_port(address: str) -> tuple[str, int]:
    """"host:port" or "[v6]:port" -> (host, port); ValueError naming the expected form."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"listen address {address!r}: expected HOST:PORT, e.g. 127.0.0.1:7443")
    return host.strip("[]"), int(port)


async def start_hub(
    address: str,
    data_dir: str | Path,
    tokens: TokenStore | None = None,
    tls: TlsFiles | tuple[bytes, bytes, bytes | None] | None = None,
    insecure: bool = False,
    heartbeat_interval: float = DEFAULT_HEARTBEAT_INTERVAL,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    *,
    metrics: HubMetrics | None = None,
    fsync: bool = True,
) -> HubHandle:
    """Start serving FleetHub on `address` ("127.0.0.1:0" picks a free port); returns the running hub."""
    host, _ = split_host_port(address)
    if tls is not None and not isinstance(tls, TlsFiles):
        tls = TlsFiles(*tls)
    if tls is None and not insecure:
        raise ValueError("the hub needs TLS (--tls-cert/--tls-key, and --client-ca for client certificates); "
                         "plain text only with --insecure on a loopback address")
    if tls is not None and insecure:
        raise ValueError("choose TLS or --insecure, not both")
    if insecure and not is_loopback_host(host):
        raise ValueError(f"--insecure serves plain text and is only allowed on a loopback address, not {host!r}; "
                         "use TLS for anything else")
    hub = SessionHub(
        data_dir, tokens, require_credentials=tokens is not None or (tls is not None and tls.client_ca is not None),
        heartbeat_interval=heartbeat_interval, max_message_bytes=max_message_bytes, metrics=metrics, fsync=fsync)
    limit = max_message_bytes + _GRPC_SLACK
    server = grpc.aio.server(options=[
        ("grpc.max_receive_message_length", limit),
        ("grpc.max_send_message_length", limit),
        ("grpc.so_reuseport", 0),
        # gRPC core refuses new calls not yet taken by the server once 1,000 wait (some at random, all from
        # 3,000), and grpc.aio takes them one at a time: without a deeper queue, thousands of agents dialling at
        # once (a reconnect storm) see most attempts CANCELLED and retry for tens of seconds (bench/sessions.py).
        ("grpc.server.max_pending_requests", _MAX_PENDING_CALLS),
        ("grpc.server.max_pending_requests_hard_limit", _MAX_PENDING_CALLS),
    ])
    fleet_pb2_grpc.add_FleetHubServicer_to_server(hub, server)
    if tls is not None:
        credentials = grpc.ssl_server_credentials(
            [(tls.key, tls.cert)], root_certificates=tls.client_ca,
            require_client_auth=tls.client_ca is not None)
        port = server.add_secure_port(address, credentials)
    else:
        port = server.add_insecure_port(address)
    if port == 0:
        raise ValueError(f"cannot listen on {address}")
    await server.start()
    return HubHandle(server, hub, port, f"{host}:{port}" if ":" not in host else f"[{host}]:{port}")
