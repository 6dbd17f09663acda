"""A hub in its own process for the wire tests: serves on loopback, pushes a desired state from a file, and
prints what its consumers see, one line each, so that a test can SIGKILL it and start it again.

    python -m tests.wire.hub_process --port P --data-dir D --tokens F --state CLUSTER=FILE

stdout: `READY <port>`, then `EVENT <cluster> <sequence> <message>` for every event the hub publishes (its
consumers' view: exactly once) and `PUSHED <cluster> <generation>` after each push. stdin: `PUSH CLUSTER=FILE`
pushes another state (a serialized DesiredState).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from fleetline.wire import fleet_pb2
from hub.sessions.server import start_hub
from hub.sessions.service import SessionHub
from hub.sessions.tokens import TokenStore


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def push(hub: SessionHub, spec: str) -> None:
    cluster, _, path = spec.partition("=")
    state = fleet_pb2.DesiredState()
    state.ParseFromString(Path(path).read_bytes())
    stored = await hub.push(cluster, state)
    say(f"PUSHED {cluster} {stored.generation}")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--tokens", required=True)
    parser.add_argument("--state", required=True)
    parser.add_argument("--heartbeat-interval", type=float, default=1.0)
    args = parser.parse_args()
    handle = await start_hub(f"127.0.0.1:{args.port}", args.data_dir, tokens=TokenStore(args.tokens),
                             insecure=True, heartbeat_interval=args.heartbeat_interval)
    events = handle.hub.subscribe_events()

    async def print_events() -> None:
        async for cluster, event in events:
            say(f"EVENT {cluster} {event.sequence} {event.message}")

    printer = asyncio.create_task(print_events())
    await push(handle.hub, args.state)
    say(f"READY {handle.port}")
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        command, _, rest = line.strip().partition(" ")
        if command == "PUSH":
            await push(handle.hub, rest)
    printer.cancel()
    await handle.stop()


if __name__ == "__main__":
    asyncio.run(main())
