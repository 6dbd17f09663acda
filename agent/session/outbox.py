"""The agent's event outbox: events kept on local disk, in sequence order, until the hub acknowledges them.

Each event gets the next sequence number, which is persisted with it and never reused, even across restarts or
after everything was acknowledged. The file is an append-only log of checksummed lines (`E` an event, `A` an
acknowledgement up to a sequence, `D` dropped sequences, `N` the next sequence), compacted by an atomic rewrite
when it holds more dead lines than live ones; a torn or corrupt line (a crash mid-append) is skipped with a
warning.

The outbox is bounded. When it is full, the oldest status-class entries (HEALTH_CHANGED) are dropped in a batch
and one OUTBOX_GAP event records how many and the sequence range; a gap event still pending is folded into the
next one (listed in its `replaces_gaps`), so a flood leaves a single gap, not a queue of them. Drift, sync, hook,
sync-loop and applied events are never dropped: if only those remain, the capacity is exceeded and a warning is
logged.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from google.protobuf.message import DecodeError

from fleetline.atomicfile import atomic_write
from fleetline.wire import fleet_pb2

log = logging.getLogger(__name__)

FILENAME = "outbox.log"
DROPPABLE_TYPES = frozenset({fleet_pb2.HEALTH_CHANGED})


@dataclass(frozen=True)
class GapRecord:
    """What one overflow dropped."""

    dropped: int
    first_sequence: int
    last_sequence: int


def _line(body: str) -> bytes:
    return f"{body} {zlib.crc32(body.encode()):08x}\n".encode()


def _now_ms() -> int:
    return int(time.time() * 1000)


class Outbox:
    """A persisted, bounded queue of events awaiting the hub's acknowledgement."""

    def __init__(self, directory: str | os.PathLike[str], capacity: int = 10_000) -> None:
        if capacity < 2:
            raise ValueError("outbox capacity must be at least 2")
        self.directory = Path(directory)
        self.path = self.directory / FILENAME
        self.capacity = capacity
        self._events: dict[int, fleet_pb2.Event] = {}  # insertion order is sequence order
        self._next = 1
        self._acked = 0
        self._lines = 0
        self._over_capacity_warned = False
        self.directory.mkdir(parents=True, exist_ok=True)
        self._load()
        self._fh = open(self.path, "ab")  # noqa: SIM115 - held open for appends, closed by close()

    # ---- public -------------------------------------------------------------------------------------

    @property
    def next_sequence(self) -> int:
        return self._next

    @property
    def acked_sequence(self) -> int:
        return self._acked

    def __len__(self) -> int:
        return len(self._events)

    def add(self, event: fleet_pb2.Event) -> fleet_pb2.Event:
        """Store a copy of `event` with the next sequence (and a timestamp when it has none); returns the copy."""
        stored = fleet_pb2.Event()
        stored.CopyFrom(event)
        if len(self._events) >= self.capacity:
            self._overflow()
        stored.sequence = self._take_sequence()
        if not stored.occurred_at_ms:
            stored.occurred_at_ms = _now_ms()
        self._append_event(stored)
        self._maybe_compact()
        return stored

    def pending(self, after: int = 0) -> list[fleet_pb2.Event]:
        """Unacknowledged events in sequence order (only those with sequence > `after`)."""
        return [e for seq, e in self._events.items() if seq > after]

    def ack(self, up_to: int) -> int:
        """The hub holds every event up to `up_to`: forget them. Returns how many were dropped."""
        if up_to <= self._acked:
            return 0
        gone = [seq for seq in self._events if seq <= up_to]
        for seq in gone:
            del self._events[seq]
        self._acked = up_to
        self._append(_line(f"A {up_to}"))
        if up_to >= self._next:
            # the hub has seen sequences we no longer remember (a wiped cache): never reuse them
            self._next = up_to + 1
            self._append(_line(f"N {self._next}"))
        self._maybe_compact()
        return len(gone)

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()

    # ---- internals ----------------------------------------------------------------------------------

    def _take_sequence(self) -> int:
        seq = self._next
        self._next += 1
        return seq

    def _overflow(self) -> None:
        droppable = [seq for seq, e in self._events.items() if e.type in DROPPABLE_TYPES]
        if not droppable:
            if not self._over_capacity_warned:
                log.warning("event=outbox_over_capacity depth=%d capacity=%d (only drift, sync and hook events "
                            "remain; they are never dropped)", len(self._events), self.capacity)
                self._over_capacity_warned = True
            return
        # drop a batch (a tenth of the capacity) so that a flood yields few overflows, not one per event
        batch = droppable[: max(1, self.capacity // 10)]
        # earlier gap events still pending are folded into the new one, so there is only ever one pending gap
        folded = [seq for seq, e in self._events.items() if e.type == fleet_pb2.OUTBOX_GAP]
        dropped, first, last = len(batch), batch[0], batch[-1]
        for seq in folded:
            try:
                details = json.loads(self._events[seq].details_json)
                dropped += int(details["dropped"])
                first = min(first, int(details["first_sequence"]))
                last = max(last, int(details["last_sequence"]))
            except (ValueError, KeyError, TypeError):
                log.warning("event=outbox_gap_unreadable sequence=%d", seq)
        for seq in batch + folded:
            del self._events[seq]
        self._append(_line("D " + ",".join(str(s) for s in batch + folded)))
        gap = GapRecord(dropped=dropped, first_sequence=first, last_sequence=last)
        log.warning("event=outbox_overflow dropped=%d first_sequence=%d last_sequence=%d capacity=%d",
                    gap.dropped, gap.first_sequence, gap.last_sequence, self.capacity)
        event = fleet_pb2.Event(
            type=fleet_pb2.OUTBOX_GAP,
            sequence=self._take_sequence(),
            occurred_at_ms=_now_ms(),
            message=f"outbox full: dropped {gap.dropped} status events "
                    f"(sequences {gap.first_sequence}-{gap.last_sequence})",
            # replaces_gaps: earlier gap events this one includes; a consumer that already saw them counts once
            details_json=json.dumps({"dropped": gap.dropped, "first_sequence": gap.first_sequence,
                                     "last_sequence": gap.last_sequence, "type": "HEALTH_CHANGED",
                                     "replaces_gaps": folded}),
        )
        self._append_event(event)

    def _append_event(self, event: fleet_pb2.Event) -> None:
        self._events[event.sequence] = event
        data = base64.b64encode(event.SerializeToString(deterministic=True)).decode()
        self._append(_line(f"E {event.sequence} {data}"))
        if len(self._events) <= self.capacity:
            self._over_capacity_warned = False

    def _append(self, line: bytes) -> None:
        self._fh.write(line)
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._lines += 1

    def _maybe_compact(self) -> None:
        if self._lines > 64 and self._lines > 2 * (len(self._events) + 1):
            self._compact()

    def _compact(self) -> None:
        parts = [_line(f"N {self._next}"), _line(f"A {self._acked}")]
        for seq, event in self._events.items():
            data = base64.b64encode(event.SerializeToString(deterministic=True)).decode()
            parts.append(_line(f"E {seq} {data}"))
        self._fh.close()
        atomic_write(self.path, b"".join(parts))
        self._lines = len(parts)
        self._fh = open(self.path, "ab")  # noqa: SIM115

    def _load(self) -> None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return
        bad = 0
        for lineno, line in enumerate(raw.split(b"\n"), start=1):
            if not line:
                continue
            self._lines += 1
            try:
                self._replay(line.decode())
            except (ValueError, binascii.Error, DecodeError, UnicodeDecodeError) as exc:
                bad += 1
                log.warning("event=outbox_line_skipped path=%s line=%d reason=%r", self.path, lineno, str(exc))
        if bad:
            # rewrite without the bad lines so that appends never follow a torn one
            self._fh = open(self.path, "ab")  # noqa: SIM115
            self._compact()
            self._fh.close()

    def _replay(self, line: str) -> None:
        body, _, crc = line.rpartition(" ")
        if not body or f"{zlib.crc32(body.encode()):08x}" != crc:
            raise ValueError("checksum mismatch (torn or altered line)")
        kind, _, rest = body.partition(" ")
        if kind == "E":
            seq_text, _, data = rest.partition(" ")
            seq = int(seq_text)
            event = fleet_pb2.Event()
            event.ParseFromString(base64.b64decode(data, validate=True))
            if event.sequence != seq:
                raise ValueError("sequence mismatch")
            self._next = max(self._next, seq + 1)
            if seq > self._acked:
                self._events[seq] = event
        elif kind == "A":
            up_to = int(rest)
            self._acked = max(self._acked, up_to)
            self._next = max(self._next, up_to + 1)
            for seq in [s for s in self._events if s <= up_to]:
                del self._events[seq]
        elif kind == "D":
            for seq_text in rest.split(","):
                self._events.pop(int(seq_text), None)
        elif kind == "N":
            self._next = max(self._next, int(rest))
        else:
            raise ValueError(f"unknown record kind {kind!r}")
