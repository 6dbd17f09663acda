"""`fleetline agent`: run the agent (hub session, cluster access, reconciler) from the command line.

Owns the flags and process wiring: the cluster (a kubeconfig, or the pod's service account when run in a
cluster, as the Helm chart does), credentials for the hub from files, the reconciler's tunables, logging,
SIGTERM/SIGINT, and the HTTP port (/metrics, /healthz, /readyz: agent/endpoints.py).
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import ctypes.util
import logging
import signal
import sys
from pathlib import Path

from aiohttp import web
from prometheus_client import CollectorRegistry

from agent.cluster import ClusterAccess, ConfigError
from agent.endpoints import Readiness, build_app, serve
from agent.reconcile import Settings
from agent.runtime import Agent
from agent.session.client import Credentials, SessionRefused, TlsCredentials, TokenCredentials
from fleetline.logs import add_logging_arguments, configure_logging

log = logging.getLogger("agent.cli")


def add_agent_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = sub.add_parser("agent", help="run the agent: apply this cluster's desired state, heal drift, report",
                            description="Dial the hub, receive this cluster's desired state, apply it to the "
                                        "cluster in waves, prune, self-heal drift, and report status and events.")
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
    parser.add_argument("--metrics-port", type=int, metavar="PORT",
                        help="the agent's HTTP port: Prometheus /metrics, /healthz (liveness), /readyz (readiness)")
    add_logging_arguments(parser)
    parser.add_argument("--outbox-capacity", type=int, default=10_000, help="events kept while the hub is away")
    cluster = parser.add_argument_group("cluster access")
    cluster.add_argument("--kubeconfig", type=Path, help="kubeconfig of the cluster to manage (default: the pod's "
                         "service account in a cluster, else $KUBECONFIG or ~/.kube/config)")
    cluster.add_argument("--context", help="kubeconfig context (default: the current one)")
    cluster.add_argument("--qps", type=float, default=100.0,
                         help="client-side requests per second to the API server (default 100)")
    cluster.add_argument("--burst", type=int, default=300,
                         help="client-side burst (default 300, as Flux's kustomize-controller)")
    sync = parser.add_argument_group("reconciler")
    sync.add_argument("--wave-timeout", type=float, default=300.0,
                      help="seconds a sync waits for a wave to become healthy (default 300)")
    sync.add_argument("--gpu-grace", type=float, default=600.0,
                      help="seconds a pod may wait for nvidia.com/gpu capacity before it is Degraded (default 600)")
    sync.add_argument("--sync-loop-threshold", type=int, default=3,
                      help="reverts of one field by one other manager that make a sync loop (default 3)")
    sync.add_argument("--sync-loop-window", type=float, default=600.0,
                      help="seconds in which those reverts count (default 600)")
    sync.add_argument("--self-heal-backoff", type=float, nargs=3, default=(2.0, 3.0, 300.0),
                      metavar=("BASE", "FACTOR", "CAP"),
                      help="per-object self-heal backoff: 0 s, then BASE, BASE*FACTOR, ... up to CAP seconds "
                           "(default 2 3 300, Argo CD's)")
    sync.add_argument("--resync-interval", type=float, default=600.0,
                      help="seconds between full drift checks, the safety net behind the watches (default 600)")
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


async def serve_metrics(registry: CollectorRegistry, port: int, readiness: Readiness | None = None) -> web.AppRunner:
    """The agent's HTTP port: /metrics, /healthz, and /readyz with `readiness` (agent/endpoints.py)."""
    return await serve(build_app(registry, readiness), port)


def agent_readiness(agent: Agent) -> Readiness:
    """/readyz of this agent: connected to its cluster and the API server answering; the hub is not asked."""
    return Readiness(agent.cluster_ready.is_set, agent.access.ping, lambda: str(agent.session.state))


async def _main(args: argparse.Namespace) -> int:
    try:
        access = ClusterAccess.auto(args.kubeconfig, args.context, qps=args.qps, burst=args.burst)
        settings = Settings(wave_timeout=args.wave_timeout, gpu_grace_seconds=args.gpu_grace,
                            loop_threshold=args.sync_loop_threshold, loop_window=args.sync_loop_window,
                            heal_backoff_base=args.self_heal_backoff[0], heal_backoff_factor=args.self_heal_backoff[1],
                            heal_backoff_cap=args.self_heal_backoff[2])
        agent = Agent(access, args.hub, args.cluster, args.region, args.cache_dir, credentials_from_args(args),
                      insecure=args.insecure, settings=settings, outbox_capacity=args.outbox_capacity,
                      resync_interval=args.resync_interval)
    except (OSError, ValueError, ConfigError) as exc:
        print(f"fleetline agent: {exc}", file=sys.stderr)
        return 2
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, agent.stop)
    runner = None
    if args.metrics_port is not None:
        try:
            runner = await serve_metrics(agent.registry, args.metrics_port, agent_readiness(agent))
        except OSError as exc:
            print(f"fleetline agent: --metrics-port {args.metrics_port}: cannot listen: {exc}", file=sys.stderr)
            return 2
        log.info("event=http_listening port=%d paths=/metrics,/healthz,/readyz", runner.addresses[0][1])
    try:
        await agent.run()
    except SessionRefused as exc:
        print(f"fleetline agent: {exc}", file=sys.stderr)
        return 3
    finally:
        if runner is not None:
            await runner.cleanup()
    return 0


def limit_malloc_arenas(arenas: int = 2) -> None:
    """glibc gives every thread that allocates its own malloc arena; the agent runs a thread per watch and per
    API call, and the arenas' slack was a third of its memory. Two arenas (what MALLOC_ARENA_MAX=2 would set)
    keep it down at no measurable cost. No-op where glibc's mallopt is not available."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-8, arenas)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass


def run_agent(args: argparse.Namespace) -> int:
    limit_malloc_arenas()
    configure_logging(args.log_level, args.log_format)
    return asyncio.run(_main(args))
