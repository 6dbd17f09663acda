"""`fleetline demo [--workdir DIR] [--check]`: the command line of the demo (see the package docstring).

Without `--check` it starts everything, waits for the fleet to be Synced and Healthy, prints the tour and runs
until Ctrl-C (SIGINT) or SIGTERM, then stops every process it started and exits 0. With `--check` it runs the
tour itself (`hub.demo.check`), prints each step's latency and exits 0, or 1 with the step that failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "overlays-example"


def add_demo_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        "demo", help="run the whole fleet on this machine: simulated clusters, the hub, agents, a Git repository",
        description="Make a Git working copy of overlays-example in DIR/repo, start one kubesim cluster per "
                    "cluster of its fleet, the hub (following DIR/repo) and one agent per cluster with its own "
                    "mTLS certificate, wait until everything is Synced and Healthy, and print a short tour. "
                    "Ctrl-C stops everything. See docs/demo.md.",
        epilog="examples:\n  fleetline demo                      # state in .demo/\n"
               "  fleetline demo --check --workdir /tmp/demo   # the tour, non-interactively, timed",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", metavar="DIR", type=Path, default=Path(".demo"),
                        help="where the demo keeps its state: repo/, kubeconfig/, demo.json, logs/ (default .demo)")
    parser.add_argument("--check", action="store_true",
                        help="run the tour non-interactively, print each step's latency, exit non-zero on failure")
    parser.add_argument("--example", metavar="DIR", type=Path, default=EXAMPLE,
                        help="the fleet repository to start from on the first run (default: overlays-example)")
    parser.add_argument("--speed", type=_positive, default=20.0,
                        help="kubesim's simulated time runs this many times faster (default 20)")
    parser.add_argument("--gpus-per-node", type=int, default=4, help="nvidia.com/gpu per simulated node (default 4)")
    parser.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"),
                        help="log level of the hub and agents (their logs are in DIR/logs)")
    parser.set_defaults(run=run_demo)
    return parser


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number such as 20, found {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number greater than 0, found {text!r}")
    return value


def say(line: str) -> None:
    print(line, flush=True)


async def _serve(args: argparse.Namespace) -> int:
    from hub.demo.check import Check, report
    from hub.demo.stack import DemoOptions, DemoStack
    from hub.demo.tour import tour

    # --check: the hub polls hourly, so only the post-commit hook's webhook can bring a commit in time
    stack = DemoStack(DemoOptions(args.workdir, args.example, speed=args.speed, gpus_per_node=args.gpus_per_node,
                                  poll_interval=3600.0 if args.check else 60.0, log_level=args.log_level), say)
    try:
        await stack.start()
        async with stack.client() as client:
            if args.check:
                say(report(await Check(stack, client).run()))
                return 0
            await stack.wait_converged(client, timeout=300, approve_first=True)
            say(f"{stack.elapsed()} everything is Synced and Healthy")
            say(tour(json.loads(stack.workdir.demo_json.read_text())))
            while True:  # until SIGINT or SIGTERM cancels this task
                stack.check_processes()
                await asyncio.sleep(1.0)
    finally:
        say("stopping the agents, the hub and the clusters ...")
        await stack.stop()
        say("stopped")


async def _main(args: argparse.Namespace) -> int:
    from hub.client.errors import ClientError
    from hub.demo.processes import ProcessError
    from hub.demo.stack import DemoError
    from hub.demo.workdir import WorkdirError

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    task = asyncio.create_task(_serve(args))
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait([task, stopper], return_when=asyncio.FIRST_COMPLETED)
    if not task.done():  # SIGINT or SIGTERM: the task stops every process it started on its way out
        task.cancel()
    stopper.cancel()
    try:
        code = await task
    except asyncio.CancelledError:
        if args.check:
            print("fleetline demo --check: interrupted", file=sys.stderr)
            return 130
        return 0
    except (DemoError, WorkdirError, ProcessError, ClientError) as exc:
        print(f"fleetline demo: FAILED: {exc}", file=sys.stderr)
        return 1
    return code


def run_demo(args: argparse.Namespace) -> int:
    return asyncio.run(_main(args))
