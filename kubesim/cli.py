"""`fleetline sim`: start simulated clusters, write their kubeconfigs, run until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the simulator is imported when `sim` runs, so that other commands start fast
    from kubesim.cluster import ClusterOptions


def add_sim_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("sim", help="run simulated Kubernetes clusters (kubesim)",
                            description="Start one simulated Kubernetes cluster per name, on consecutive ports.")
    parser.add_argument("--clusters", required=True, help="comma-separated cluster names, e.g. us-east-1,eu-west-1")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="first port; 0 picks free ports (default 0)")
    parser.add_argument("--kubeconfig-dir", type=Path, default=Path(".kubesim"),
                        help="where NAME.kubeconfig files are written (default ./.kubesim)")
    parser.add_argument("--speed", type=float, default=1.0, help="simulated time runs this many times faster")
    parser.add_argument("--nodes", type=int, default=3, help="nodes per cluster (default 3)")
    parser.add_argument("--gpus-per-node", type=int, default=0, help="nvidia.com/gpu per node (default 0)")
    parser.add_argument("--plain-http", action="store_true",
                        help="serve plain HTTP instead of HTTPS (kubectl then sends no token and gets 401; the "
                             "Python client still works)")
    parser.set_defaults(run=run_sim)


def parse_names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise SystemExit("fleetline sim: --clusters needs at least one name, e.g. --clusters us-east-1")
    if len(set(names)) != len(names):
        raise SystemExit(f"fleetline sim: --clusters names a cluster twice: {text}")
    return names


async def serve(names: list[str], options: ClusterOptions) -> None:
    import asyncio

    from kubesim.cluster import SimFleet

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with SimFleet(names, options) as fleet:
        for cluster in fleet.clusters:
            print(f"cluster {cluster.name} ready at {cluster.url} kubeconfig={cluster.kubeconfig_path}", flush=True)
        first = fleet.clusters[0]
        print(f"try: kubectl --kubeconfig {first.kubeconfig_path} get nodes", flush=True)
        await stop.wait()


def run_sim(args: argparse.Namespace) -> int:
    names = parse_names(args.clusters)
    if args.speed <= 0:
        raise SystemExit("fleetline sim: --speed must be greater than 0")
    from kubesim.cluster import ClusterOptions

    options = ClusterOptions(host=args.host, port=args.port, kubeconfig_dir=args.kubeconfig_dir, speed=args.speed,
                             nodes=args.nodes, gpus_per_node=args.gpus_per_node,
                             tls=not args.plain_http)
    try:
        import asyncio

        asyncio.run(serve(names, options))
    except OSError as exc:
        print(f"fleetline sim: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0
