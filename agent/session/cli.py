"""`fleetline agent`: run the agent's hub session from the command line.

Owns the flags and process wiring (credentials from files, logging, SIGTERM/SIGINT, the /metrics endpoint). Until
the reconciler exists (issue 5) the desired state is only logged, one line per application; nothing is written
to a cluster.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from agent.session.client import AgentSession, Credentials, SessionRefused, TlsCredentials, TokenCredentials
from fleetline.logs import add_logging_arguments, configure_logging
from fleetline.wire import fleet_pb2

log = logging.getLogger("agent.session")


def add_agent_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = sub.add_parser("agent", help="run the agent: keep a session with the hub and hold the desired state",
                            description="Dial the hub, receive this cluster's desired state, report events.")
    parser.add_argument("--hub", required=True, metavar="HOST:PORT", help="the hub's gRPC address")
    parser.add_argument("--cluster", required=True, help="this cluster's name (must match the credential)")
    parser.add_argument("--region", default="", help="this cluster's region")
    parser.add_argument("--cache-dir", required=True, type=Path,
                        help="where the last desired state and the event outbox are kept")
    parser.add_argument("--token-file", type=Path, help="file holding this cluster's bearer token")
    parser.add_argument("--tls-cert", type=Path, help="client certificate (PEM) issued for this cluster")
    parser.add_argument("--tls-key", type=Path, help="its private key (PEM)")
    parser.add_argument("--ca", type=Path, help="CA certificate (PEM) that signed the hub's certificate")
    parser.add_argument("--insecure", action="store_true",
                        help="plain text, no TLS (loopback hub addresses only; for tests and demos)")
    parser.add_argument("--metrics-port", type=int, help="serve Prometheus metrics on this port at /metrics")
    add_logging_arguments(parser)
    parser.add_argument("--outbox-capacity", type=int, default=10_000, help="events kept while the hub is away")
    parser.set_defaults(run=run_agent)
    return parser


def credentials_from_args(args: argparse.Namespace) -> Credentials:
    """The credential the flags name; ValueError with the fix when they are inconsistent."""
    cert_flags = [args.tls_cert, args.tls_key]
    if args.token_file and any(cert_flags):
        raise ValueError("give either --token-file or --tls-cert/--tls-key, not both")
    if any(cert_flags):
        if not all(cert_flags) or args.ca is None:
            raise ValueError("a client certificate needs --tls-cert, --tls-key and --ca")
        return TlsCredentials(args.tls_cert.read_bytes(), args.tls_key.read_bytes(), args.ca.read_bytes())
    if args.token_file:
        token = args.token_file.read_text().strip()
        if not token:
            raise ValueError(f"{args.token_file}: the token file is empty")
        return TokenCredentials(token, args.ca.read_bytes() if args.ca else None)
    return None


async def log_desired_state(state: fleet_pb2.DesiredState) -> None:
    """The stand-in reconciler: one line per application, nothing written to a cluster."""
    for app in state.applications:
        log.info("event=desired_application cluster=%s app=%s namespace=%s revision=%s generation=%d manifests=%d "
                 "hash=%s", state.cluster, app.name, app.namespace, app.revision or state.revision, state.generation,
                 len(app.manifests_json), app.content_hash)


async def serve_metrics(session: AgentSession, port: int) -> web.AppRunner:
    async def metrics(_request: web.Request) -> web.Response:
        body = generate_latest(session.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "0.0.0.0", port).start()
    return runner


async def _main(args: argparse.Namespace) -> int:
    try:
        session = AgentSession(args.hub, args.cluster, args.region, args.cache_dir, credentials_from_args(args),
                               insecure=args.insecure, on_desired_state=log_desired_state,
                               outbox_capacity=args.outbox_capacity)
    except (OSError, ValueError) as exc:
        print(f"fleetline agent: {exc}", file=sys.stderr)
        return 2
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, session.stop)
    runner = await serve_metrics(session, args.metrics_port) if args.metrics_port else None
    try:
        await session.run()
    except SessionRefused as exc:
        print(f"fleetline agent: {exc}", file=sys.stderr)
        return 3
    finally:
        if runner is not None:
            await runner.cleanup()
    return 0


def run_agent(args: argparse.Namespace) -> int:
    configure_logging(args.log_level, args.log_format)
    return asyncio.run(_main(args))
