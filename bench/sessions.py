"""Hub session benchmarks: memory per idle session, push fan-out, event ingest, reconnect storm (issue 4).

Run with `make bench` (or `.venv/bin/python bench/sessions.py [--agents 1000,5000] [--quick]`). Prints the
figures and appends them, with the date and the commit, to bench/RESULTS.md (not with --quick or --no-record).

One hub process (`start_hub(..., insecure=True)` on loopback, no token store, default heartbeat interval and
fsync) serves N synthetic agents spread over a few agent processes (4 by default), each one asyncio loop.
A synthetic agent is not the real `AgentSession`: it is a raw `grpc.aio` stream on `FleetHubStub` with its own
channel (and so its own TCP connection) that speaks the protocol: Hello, Welcome, heartbeats, reassembles
desired-state chunks and answers with DesiredStateAck, sends events and reads EventAcks. The parent process
drives the hub and the agent processes over multiprocessing pipes; all times are `time.time()` on this one
machine, so they compare across processes.

Measured, per N:
1. hub memory per idle session: hub RSS (/proc/<pid>/statm) with N sessions connected and idle, minus its RSS
   before any agent connected, divided by N (target <= 100 KiB);
2. push fan-out: `push()` of a small desired state to every cluster at once (asyncio.gather inside the hub
   process); per agent, from just before the pushes to the arrival of the last chunk (p50/p99; target for
   1,000 agents: p99 <= 1 s);
3. event ingest, twice: every agent sends events as fast as it can, first one event per message with at most
   WINDOW unacknowledged (what an agent does with a hub that does not list "event-batches"), then in EventBatch
   messages with at most BATCH_WINDOW unacknowledged, all free room of the window in one message (what the
   agent does with whatever its outbox holds); one event in DUP_EVERY is sent twice (a deliberate duplicate); a
   `subscribe_events()`
   consumer in the hub process counts what it yields per second (target >= 5,000 unique events/s) and checks
   that each (cluster, sequence) comes out exactly once and that every event sent comes out;
4. reconnect storm: every agent's stream and channel is cancelled at once and every agent redials at once
   (full-jitter backoff, base 0.5 s, cap 30 s, only after a failed attempt: an error, or no Welcome within the
   real agent's HANDSHAKE_TIMEOUT); the time until the hub's registry shows N sessions, all new, and a check
   that each agent holds the session the registry names (target for 5,000: <= 30 s, none lost).

Not measured: TLS or token authentication (the hub runs insecure with no credentials), status reports, large
or multi-chunk desired states, the real agent's outbox and cache on disk (the synthetic agents keep
everything in memory).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import cProfile
import io
import logging
import multiprocessing
import os
import platform
import pstats
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import grpc

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.session.client import HANDSHAKE_TIMEOUT  # noqa: E402
from bench.measure import cpu_of, percentile  # noqa: E402
from bench.record import append, commit, ok  # noqa: E402
from fleetline import protocol  # noqa: E402
from fleetline.wire import fleet_pb2, fleet_pb2_grpc  # noqa: E402

# Why attempts failed in this agent process: "CODE: details" -> count.
FAILURES: collections.Counter[str] = collections.Counter()
WINDOW = 4  # unacknowledged events an agent may have in flight, one event per message (a protocol 1.0 hub)
BATCH_WINDOW = 64  # the same with EventBatch: every free slot of the window goes out in one message
DUP_EVERY = 10  # one event in 10 is sent twice
# Its own subchannel per channel: one TCP connection per agent, as with agents in separate clusters.
CHANNEL_OPTIONS = [("grpc.use_local_subchannel_pool", 1)]


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def rss_of(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def small_state() -> fleet_pb2.DesiredState:
    manifest = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"bench"},"data":{"k":"v"}}'
    return fleet_pb2.DesiredState(revision="bench", applications=[fleet_pb2.ApplicationBundle(
        name="bench", namespace="bench", revision="bench", manifests_json=[manifest])])


# -- the hub process ------------------------------------------------------------------------------------------
class _Ingest:
    """A subscribe_events() consumer: counts what it yields, per second, and any (cluster, sequence) seen twice."""

    def __init__(self, hub: object) -> None:
        self.start = time.time()
        self.seen: set[tuple[str, int]] = set()
        self.repeats = 0
        self.per_second: dict[int, int] = {}
        self.sub = hub.subscribe_events()
        self.task = asyncio.create_task(self._consume())

    async def _consume(self) -> None:
        async for cluster, event in self.sub:
            key = (cluster, event.sequence)
            if key in self.seen:
                self.repeats += 1
            self.seen.add(key)
            second = int(time.time() - self.start)
            self.per_second[second] = self.per_second.get(second, 0) + 1


async def _hub_commands(conn: object, data_dir: str, fsync: bool) -> None:
    from hub.sessions.server import start_hub

    handle = await start_hub("127.0.0.1:0", data_dir, insecure=True, fsync=fsync)
    hub = handle.hub
    conn.send(handle.port)
    ingest: _Ingest | None = None
    while True:
        command, *args = await asyncio.to_thread(conn.recv)
        if command == "sessions":
            conn.send({s.cluster: s.session_id for s in hub.registry()})
        elif command == "wait_sessions":  # (old session ids, n, timeout) -> time when n new sessions are live
            old, n, timeout = args
            deadline = time.time() + timeout
            while True:
                # registry() copies every session: read it only once the connected gauge could be complete
                live = hub.metrics.registry.get_sample_value("fleetline_hub_connected_agents") or 0
                fresh = sum(1 for s in hub.registry() if s.session_id not in old) if live >= n else 0
                if fresh >= n or time.time() > deadline:
                    conn.send((time.time(), fresh))
                    break
                await asyncio.sleep(0.25 if live >= n else 0.05)
        elif command == "push_all":
            clusters = [s.cluster for s in hub.registry()]
            state = small_state()
            started = time.time()
            stored = await asyncio.gather(*(hub.push(c, state) for c in clusters))
            conn.send((started, time.time(), stored[0].generation if stored else 0))
        elif command == "ingest_start":
            ingest = _Ingest(hub)
            dropped_before = hub.metrics.registry.get_sample_value("fleetline_hub_duplicate_events_total") or 0
            conn.send(ingest.start)
        elif command == "ingest_stop":  # (events expected, drain timeout)
            expected, timeout = args
            deadline = time.time() + timeout
            while len(ingest.seen) < expected and time.time() < deadline:
                await asyncio.sleep(0.1)
            ingest.sub.close()
            await ingest.task
            conn.send({"unique": len(ingest.seen), "repeats": ingest.repeats, "per_second": ingest.per_second,
                       "start": ingest.start,
                       "duplicates_dropped": (hub.metrics.registry.get_sample_value(
                           "fleetline_hub_duplicate_events_total") or 0) - dropped_before})
        elif command == "stop":
            await handle.stop(0.5)
            conn.send(None)
            return


def hub_main(conn: object, data_dir: str, fsync: bool, profile: str | None) -> None:
    raise_fd_limit()
    logging.basicConfig(level=logging.ERROR)
    if profile:
        cProfile.runctx("asyncio.run(_hub_commands(conn, data_dir, fsync))", globals(), locals(), profile)
    else:
        asyncio.run(_hub_commands(conn, data_dir, fsync))


# -- the agent processes --------------------------------------------------------------------------------------
class SyntheticAgent:
    """One cluster's agent, protocol only: a session task that redials (full jitter) until cancelled."""

    def __init__(self, cluster: str, address: str, rng: random.Random, handshake_timeout: float) -> None:
        self.cluster, self.address, self.rng = cluster, address, rng
        self.handshake_timeout = handshake_timeout
        self.next_sequence = 1
        self.acked = 0
        self.acked_changed = asyncio.Event()
        self.applied = fleet_pb2.DesiredState()
        self.arrivals: dict[int, float] = {}  # generation -> time.time() of its last chunk
        self.session_id = ""
        self.welcomed = asyncio.Event()
        self.failures = 0
        self.call: grpc.aio.StreamStreamCall | None = None
        self.write_lock = asyncio.Lock()
        self.task: asyncio.Task[None] | None = None
        self.dup_offset = rng.randrange(DUP_EVERY)  # which sequences this agent sends twice

    def start(self) -> None:
        self.welcomed.clear()
        self.task = asyncio.create_task(self._run())

    async def kill(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        self.call = None

    async def write(self, message: fleet_pb2.AgentMessage) -> None:
        async with self.write_lock:  # grpc.aio allows one write at a time per call
            await self.call.write(message)

    async def _run(self) -> None:
        attempt = 0
        while True:
            try:
                await self._session()
            except grpc.aio.AioRpcError as exc:
                FAILURES[f"{exc.code().name}: {exc.details()}"[:80]] += 1
            except (ConnectionError, TimeoutError, grpc.aio.UsageError, protocol.ProtocolError) as exc:
                FAILURES[f"{type(exc).__name__}: {exc}"[:80]] += 1
            self.failures += 1
            if self.welcomed.is_set():
                attempt = 0
            self.welcomed.clear()
            await asyncio.sleep(protocol.full_jitter_delay(attempt, 0.5, 30.0, self.rng))
            attempt += 1

    async def _session(self) -> None:
        async with grpc.aio.insecure_channel(self.address, options=CHANNEL_OPTIONS) as channel:
            self.call = fleet_pb2_grpc.FleetHubStub(channel).Connect()
            await self.write(fleet_pb2.AgentMessage(hello=fleet_pb2.Hello(
                cluster=self.cluster, region="bench", agent_version="bench", protocol=protocol.our_version(),
                applied_generation=self.applied.generation, applied_hash=self.applied.content_hash,
                capabilities=[protocol.CAPABILITY_CHUNKED_DESIRED_STATE], next_event_sequence=self.next_sequence)))
            first = await asyncio.wait_for(self.call.read(), self.handshake_timeout)
            if first is grpc.aio.EOF or first.WhichOneof("body") != "welcome":
                raise ConnectionError(f"expected Welcome, got {first}")
            welcome = first.welcome
            self.session_id = welcome.session_id
            self.acked = max(self.acked, welcome.acked_event_sequence)
            self.welcomed.set()
            heartbeats = asyncio.create_task(self._heartbeats(welcome.heartbeat_interval_ms / 1000))
            assembler = protocol.ChunkAssembler()
            try:
                while True:
                    message = await self.call.read()
                    arrived = time.time()
                    if message is grpc.aio.EOF:
                        raise ConnectionError("the hub closed the stream")
                    kind = message.WhichOneof("body")
                    if kind == "desired_state":
                        state = assembler.add(message.desired_state)
                        if state is not None:
                            self.arrivals[state.generation] = arrived
                            self.applied = state
                            await self.write(fleet_pb2.AgentMessage(desired_state_ack=fleet_pb2.DesiredStateAck(
                                generation=state.generation, content_hash=state.content_hash)))
                    elif kind == "event_ack":
                        self.acked = max(self.acked, message.event_ack.sequence)
                        self.acked_changed.set()
                    elif kind == "goodbye":
                        raise ConnectionError(f"goodbye {message.goodbye.message}")
            finally:
                heartbeats.cancel()

    async def _heartbeats(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            await self.write(fleet_pb2.AgentMessage(heartbeat=fleet_pb2.Heartbeat(sent_at_ms=int(time.time() * 1000))))

    async def send_events(self, until: float, batched: bool) -> tuple[int, int]:
        """Events as fast as the window allows until `until`; returns (unique events sent, duplicates sent).

        Single: one event per message, at most WINDOW unacknowledged. Batched: at most BATCH_WINDOW
        unacknowledged, and each time the window has room, all of that room goes out as one EventBatch (as the
        agent sends whatever its outbox holds). Either way one event in DUP_EVERY is sent twice.
        """
        unique = duplicates = 0
        window = BATCH_WINDOW if batched else WINDOW
        while time.time() < until:
            room = window - (self.next_sequence - 1 - self.acked)
            if room <= 0:
                self.acked_changed.clear()
                try:
                    await asyncio.wait_for(self.acked_changed.wait(), max(0.01, until - time.time()))
                except TimeoutError:
                    break
                continue
            events = []
            for _ in range(room if batched else 1):
                event = fleet_pb2.Event(
                    sequence=self.next_sequence, occurred_at_ms=int(time.time() * 1000),
                    type=fleet_pb2.DRIFT_DETECTED, application="bench", resource="bench:apps/Deployment:bench/web",
                    message="replicas changed")
                events.append(event)
                unique += 1
                if (self.next_sequence + self.dup_offset) % DUP_EVERY == 0:
                    events.append(event)
                    duplicates += 1
                self.next_sequence += 1
            if batched:
                await self.write(fleet_pb2.AgentMessage(events=fleet_pb2.EventBatch(events=events)))
            else:
                for event in events:
                    await self.write(fleet_pb2.AgentMessage(event=event))
        return unique, duplicates


async def _agent_commands(conn: object, address: str, clusters: list[str], seed: int, handshake: float) -> None:
    rng = random.Random(seed)
    agents = [SyntheticAgent(c, address, rng, handshake) for c in clusters]

    async def all_welcomed(timeout: float) -> dict:
        deadline = time.time() + timeout
        for agent in agents:
            with_timeout = max(0.0, deadline - time.time())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(agent.welcomed.wait(), with_timeout)
        return {"sessions": {a.cluster: a.session_id for a in agents if a.welcomed.is_set()},
                "failures": sum(a.failures for a in agents), "reasons": dict(FAILURES)}

    while True:
        command, *args = await asyncio.to_thread(conn.recv)
        if command == "connect":
            for agent in agents:
                agent.start()
            conn.send(await all_welcomed(args[0]))
        elif command == "arrivals":  # (generation, timeout) -> the arrival times of that generation
            generation, timeout = args
            deadline = time.time() + timeout
            while time.time() < deadline and any(generation not in a.arrivals for a in agents):
                await asyncio.sleep(0.05)
            conn.send([a.arrivals[generation] for a in agents if generation in a.arrivals])
        elif command == "events":
            results = await asyncio.gather(*(a.send_events(args[0], args[1]) for a in agents))
            conn.send((sum(r[0] for r in results), sum(r[1] for r in results)))
        elif command == "storm":  # kill every stream, then redial all at once
            for agent in agents:
                agent.task.cancel()
            await asyncio.gather(*(a.kill() for a in agents))
            FAILURES.clear()
            for agent in agents:
                agent.failures = 0
                agent.start()
            conn.send(time.time())
        elif command == "welcomed":
            conn.send(await all_welcomed(args[0]))
        elif command == "stop":
            await asyncio.gather(*(a.kill() for a in agents))
            conn.send(None)
            return


def agent_main(conn: object, address: str, clusters: list[str], seed: int, handshake: float) -> None:
    raise_fd_limit()
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(_agent_commands(conn, address, clusters, seed, handshake))


# -- the driver -----------------------------------------------------------------------------------------------
class Peer:
    """A child process and the parent's end of its command pipe."""

    def __init__(self, ctx: multiprocessing.context.BaseContext, target: object, *args: object) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=target, args=(child, *args), daemon=True)
        self.process.start()

    def call(self, *command: object, timeout: float = 600.0) -> object:
        self.conn.send(command)
        return self.recv(timeout)

    def recv(self, timeout: float = 600.0) -> object:
        if not self.conn.poll(timeout):
            raise TimeoutError(f"no answer from process {self.process.pid} in {timeout}s")
        return self.conn.recv()


class Cpu:
    """CPU seconds used by the hub and by all agent processes since this object was made."""

    def __init__(self, hub: Peer, agents: list[Peer]) -> None:
        self.hub, self.agents = hub.process.pid, [a.process.pid for a in agents]
        self.start = self._now()

    def _now(self) -> tuple[float, float]:
        return cpu_of(self.hub), sum(cpu_of(pid) for pid in self.agents)

    def split(self) -> tuple[float, float]:
        hub, agents = self._now()
        return round(hub - self.start[0], 1), round(agents - self.start[1], 1)


def call_all(peers: list[Peer], *command: object, timeout: float = 600.0) -> list[object]:
    for peer in peers:
        peer.conn.send(command)
    return [peer.recv(timeout) for peer in peers]


def ingest(n: int, mode: str, hub: Peer, agents: list[Peer], seconds: float) -> dict:
    """One ingest phase ("single": one event per message; "batched": EventBatch messages); its figures."""
    ingest_start = hub.call("ingest_start")
    until = time.time() + seconds
    sent = call_all(agents, "events", until, mode == "batched")
    unique_sent, dups_sent = sum(s[0] for s in sent), sum(s[1] for s in sent)
    stats = hub.call("ingest_stop", unique_sent, 120.0)
    window = range(int(until - ingest_start))
    # the full seconds of the sending window, the first one (ramp-up) left out
    steady = [stats["per_second"].get(s, 0) for s in window][1:]
    figures = dict(events_sent=unique_sent, duplicates_sent=dups_sent, events_unique=stats["unique"],
                   events_repeats=stats["repeats"], duplicates_dropped=stats["duplicates_dropped"],
                   events_per_s=statistics.mean(steady) if steady else float("nan"),
                   events_min_s=min(steady, default=0), ingest_seconds=len(steady))
    print(f"[{n}] ingest ({mode}): {figures['events_per_s']:,.0f} unique events/s (min second "
          f"{figures['events_min_s']:,}); sent {unique_sent:,} + {dups_sent:,} duplicates, consumer saw "
          f"{stats['unique']:,} unique, {stats['repeats']} twice, hub dropped {stats['duplicates_dropped']:.0f}"
          " duplicates", flush=True)
    return figures


def run(n: int, args: argparse.Namespace) -> dict:
    procs, profile = args.procs, args.profile
    ctx = multiprocessing.get_context("spawn")
    figures: dict = {"agents": n, "procs": procs}
    with tempfile.TemporaryDirectory(prefix="bench-sessions-") as data_dir:
        hub = Peer(ctx, hub_main, data_dir, args.fsync, profile)
        port = hub.recv(60)
        address = f"127.0.0.1:{port}"
        clusters = [f"bench-{i:05d}" for i in range(n)]
        agents = [Peer(ctx, agent_main, address, clusters[i::procs], i, args.handshake_timeout)
                  for i in range(procs)]
        try:
            time.sleep(1.0)
            rss_before = rss_of(hub.process.pid)
            cpu = Cpu(hub, agents)
            started = time.time()
            welcomed = call_all(agents, "connect", 120.0)
            connected_at, live = hub.call("wait_sessions", set(), n, 60.0)
            figures["connect_s"] = connected_at - started
            figures["connect_cpu"] = cpu.split()
            figures["connected"] = live
            figures["connect_failures"] = sum(w["failures"] for w in welcomed)
            figures["connect_reasons"] = sum((collections.Counter(w["reasons"]) for w in welcomed),
                                             collections.Counter())
            print(f"[{n}] {live} sessions in {figures['connect_s']:.1f}s ({figures['connect_failures']} failed "
                  f"attempts; CPU s hub/agents {figures['connect_cpu']})", flush=True)
            print(f"[{n}] why attempts failed: {figures['connect_reasons'].most_common(3)}", flush=True)
            time.sleep(args.idle_seconds)
            rss_idle = rss_of(hub.process.pid)
            figures["rss_before_mib"] = rss_before / 2**20
            figures["rss_idle_mib"] = rss_idle / 2**20
            figures["kib_per_session"] = (rss_idle - rss_before) / 1024 / n
            print(f"[{n}] memory: {figures['kib_per_session']:.1f} KiB per idle session", flush=True)

            pushed_at, persisted_at, generation = hub.call("push_all")
            arrivals = [t for times in call_all(agents, "arrivals", generation, 60.0) for t in times]
            latencies = [t - pushed_at for t in arrivals]
            figures.update(push_received=len(arrivals), push_p50=percentile(latencies, 0.5),
                           push_p99=percentile(latencies, 0.99), push_max=max(latencies, default=float("nan")),
                           push_persisted_s=persisted_at - pushed_at)
            print(f"[{n}] push: {len(arrivals)} received, p50 {figures['push_p50']:.3f}s, "
                  f"p99 {figures['push_p99']:.3f}s, push() calls done after {figures['push_persisted_s']:.3f}s",
                  flush=True)

            for mode in ("single", "batched"):
                figures[mode] = ingest(n, mode, hub, agents, args.ingest_seconds)

            before = hub.call("sessions")
            cpu = Cpu(hub, agents)
            storm_start = time.time()
            call_all(agents, "storm")
            all_back, fresh = hub.call("wait_sessions", set(before.values()), n, 120.0)
            figures["storm_cpu"] = cpu.split()
            back = call_all(agents, "welcomed", 60.0)
            time.sleep(2.0)  # any late fencing or drop would show in the registry now
            after = hub.call("sessions")
            agent_sessions = {c: s for b in back for c, s in b["sessions"].items()}
            lost = [c for c in clusters if c not in after or after[c] != agent_sessions.get(c)
                    or after[c] in before.values()]
            figures.update(storm_s=all_back - storm_start, storm_fresh=fresh, storm_lost=len(lost),
                           storm_failures=sum(b["failures"] for b in back),
                           storm_reasons=sum((collections.Counter(b["reasons"]) for b in back), collections.Counter()),
                           rss_after_storm_mib=rss_of(hub.process.pid) / 2**20)
            print(f"[{n}] reconnect storm: {fresh} new sessions after {figures['storm_s']:.1f}s, {len(lost)} lost, "
                  f"{figures['storm_failures']} failed attempts; CPU s hub/agents {figures['storm_cpu']}", flush=True)
            print(f"[{n}] why attempts failed: {figures['storm_reasons'].most_common(3)}", flush=True)
        finally:
            for peer in agents:
                try:
                    peer.call("stop", timeout=60)
                except (TimeoutError, OSError, EOFError):
                    peer.process.kill()
            try:
                hub.call("stop", timeout=60)
            except (TimeoutError, OSError, EOFError):
                hub.process.kill()
            for peer in [*agents, hub]:
                peer.process.join(10)
    if profile:
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(20)
        print(out.getvalue())
    return figures




def format_report(runs: list[dict], args: argparse.Namespace) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"## sessions: {now}, commit {commit()}",
             f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, grpcio {grpc.__version__}. "
             f"One hub process (insecure loopback, no token store, heartbeat 10 s, "
             f"fsync {'on' if args.fsync else 'off'}), synthetic agents in "
             f"{args.procs} processes; events for {args.ingest_seconds:g} s per mode, one event in "
             f"{DUP_EVERY} sent twice.", "", "| measure | figure | target |", "|---|---|---|"]
    for r in runs:
        n = r["agents"]
        lines.append(f"| hub memory per idle session, {n:,} agents (RSS {r['rss_before_mib']:.0f} -> "
                     f"{r['rss_idle_mib']:.0f} MiB) | {r['kib_per_session']:.1f} KiB | <= 100 KiB "
                     f"({ok(r['kib_per_session'] <= 100)}) |")
        target = f"p99 <= 1 s ({ok(r['push_p99'] <= 1)})" if n <= 1000 else "- (target is for 1,000)"
        lines.append(f"| push to all {n:,} agents ({r['push_received']:,} received; push() calls returned after "
                     f"{r['push_persisted_s']:.2f} s) | p50 {r['push_p50']:.3f} s, p99 {r['push_p99']:.3f} s | "
                     f"{target} |")
        for mode, how in (("single", f"one event per message, window {WINDOW}"),
                          ("batched", f"EventBatch messages, window {BATCH_WINDOW}")):
            e = r[mode]
            lines.append(f"| event ingest, {n:,} agents sending, {how} ({e['events_sent']:,} events + "
                         f"{e['duplicates_sent']:,} duplicates; consumer saw {e['events_unique']:,} unique, "
                         f"{e['events_repeats']} twice) | {e['events_per_s']:,.0f} unique events/s (slowest second "
                         f"{e['events_min_s']:,}) | >= 5,000 /s ({ok(e['events_per_s'] >= 5000)}) |")
        storm_ok = r["storm_lost"] == 0 and r["storm_s"] <= 30
        lines.append(f"| reconnect storm, {n:,} agents at once ({r['storm_failures']:,} failed attempts; CPU s "
                     f"hub {r['storm_cpu'][0]}, agents {r['storm_cpu'][1]}; first connect: {r['connect_s']:.1f} s, "
                     f"{r['connect_failures']:,} failed attempts) | {r['storm_s']:.1f} s, {r['storm_lost']} "
                     f"sessions lost | <= 30 s, none lost ({ok(storm_ok)}) |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", default="1000,5000", help="comma-separated agent counts (default 1000,5000)")
    parser.add_argument("--procs", type=int, default=4, help="agent processes (default 4)")
    parser.add_argument("--ingest-seconds", type=float, default=10.0)
    parser.add_argument("--idle-seconds", type=float, default=5.0, help="idle time before the RSS is read")
    parser.add_argument("--quick", action="store_true", help="100 agents, short phases, not recorded (< 60 s)")
    parser.add_argument("--no-fsync", dest="fsync", action="store_false",
                        help="start_hub(fsync=False): the hub's state files without fsync (the default fsyncs)")
    parser.add_argument("--handshake-timeout", type=float, default=HANDSHAKE_TIMEOUT,
                        help=f"seconds an attempt waits for Welcome (default {HANDSHAKE_TIMEOUT:g}, the real agent's)")
    parser.add_argument("--profile", metavar="FILE", help="cProfile the hub process into FILE and print its top")
    parser.add_argument("--no-record", action="store_true", help="print only; do not append to bench/RESULTS.md")
    args = parser.parse_args()
    raise_fd_limit()
    if args.quick:
        args.agents, args.ingest_seconds, args.idle_seconds, args.no_record = "100", 4.0, 2.0, True
    runs = [run(int(n), args) for n in args.agents.split(",")]
    report = format_report(runs, args)
    print(report)
    if not args.no_record:
        append(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
