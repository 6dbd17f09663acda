"""The agent's durable copy of the last desired state, so that it keeps enforcing it while the hub is away.

One file, written atomically (temporary file, fsync, rename, fsync of the directory) with a header carrying the
payload's length and SHA-256. A file that is truncated, altered or not ours is discarded with a warning (kept
aside as `*.corrupt` for inspection) and `load()` answers None: a bad cache never crashes the agent.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from google.protobuf.message import DecodeError

from fleetline.atomicfile import atomic_write
from fleetline.wire import fleet_pb2

log = logging.getLogger(__name__)

MAGIC = b"fleetline-desired-state/v1"
FILENAME = "desired-state.bin"


class DesiredStateCache:
    """The last desired state the agent received, on local disk."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.path = self.directory / FILENAME

    def save(self, state: fleet_pb2.DesiredState) -> None:
        payload = state.SerializeToString(deterministic=True)
        digest = hashlib.sha256(payload).hexdigest()
        header = b"%s %d sha256:%s\n" % (MAGIC, len(payload), digest.encode())
        self.directory.mkdir(parents=True, exist_ok=True)
        atomic_write(self.path, header + payload)

    def load(self) -> fleet_pb2.DesiredState | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("event=cache_unreadable path=%s error=%r", self.path, str(exc))
            return None
        problem = self._check(raw)
        if isinstance(problem, fleet_pb2.DesiredState):
            return problem
        log.warning("event=cache_discarded path=%s reason=%r (the agent waits for the hub to resend its state)",
                    self.path, problem)
        try:
            os.replace(self.path, self.path.with_name(self.path.name + ".corrupt"))
        except OSError as exc:
            log.warning("event=cache_discard_failed path=%s error=%r", self.path, str(exc))
        return None

    @staticmethod
    def _check(raw: bytes) -> fleet_pb2.DesiredState | str:
        newline = raw.find(b"\n")
        if newline < 0:
            return "no header line"
        parts = raw[:newline].split(b" ")
        if len(parts) != 3 or parts[0] != MAGIC or not parts[2].startswith(b"sha256:"):
            return "not a fleetline desired-state cache file"
        try:
            length = int(parts[1])
        except ValueError:
            return "bad length in header"
        payload = raw[newline + 1:]
        if len(payload) != length:
            return f"truncated or extended: {len(payload)} bytes, header says {length}"
        if hashlib.sha256(payload).hexdigest().encode() != parts[2][len(b"sha256:"):]:
            return "checksum mismatch"
        state = fleet_pb2.DesiredState()
        try:
            state.ParseFromString(payload)
        except DecodeError as exc:
            return f"undecodable: {exc}"
        return state

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
