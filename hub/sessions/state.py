"""What the session layer keeps across a hub restart (even a SIGKILL): per cluster, in the hub's data dir.

    <data_dir>/sessions/<cluster>/desired.pb        the last pushed DesiredState (serialized, with its generation
                                                    and content hash), so that an unchanged state is not
                                                    pushed again and generations keep increasing
    <data_dir>/sessions/<cluster>/pending_syncs.json  SyncRequests made while the cluster was disconnected, not
                                                    yet written to a session (a JSON list; removed when empty)
    <data_dir>/sessions/event_sequences             the highest event sequence the hub holds for each cluster
                                                    ("<cluster> <sequence>" lines), one file for all clusters,
                                                    written once per batch of events and before any consumer
                                                    sees them (exactly once); a per-cluster
                                                    <cluster>/event_sequence file of earlier hubs is still read

Files are replaced atomically (temporary file, rename; fsync unless `fsync=False`, which is for benchmarks:
the rename alone already survives a SIGKILL, only a power loss needs the fsync). A file that cannot be parsed
is reported and ignored (the hub then re-sends the desired state at the next push), never a crash.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from google.protobuf import json_format
from google.protobuf.message import DecodeError

from fleetline.atomicfile import atomic_write
from fleetline.wire import fleet_pb2
from hub.sessions.tokens import valid_cluster_name

log = logging.getLogger(__name__)


class SessionState:
    """Reads and writes the per-cluster files described in the module docstring."""

    def __init__(self, data_dir: str | Path, fsync: bool = True) -> None:
        self.root = Path(data_dir) / "sessions"
        self.root.mkdir(parents=True, exist_ok=True)
        self.fsync = fsync

    def _dir(self, cluster: str) -> Path:
        if not valid_cluster_name(cluster):
            raise ValueError(f"invalid cluster name {cluster!r}")
        return self.root / cluster

    def clusters(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and valid_cluster_name(p.name))

    def load_desired(self, cluster: str) -> fleet_pb2.DesiredState | None:
        path = self._dir(cluster) / "desired.pb"
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        state = fleet_pb2.DesiredState()
        try:
            state.ParseFromString(data)
        except DecodeError as exc:
            log.warning("event=state_file_unreadable file=%s error=%r action=ignored", path, str(exc))
            return None
        return state

    def save_desired(self, cluster: str, state: fleet_pb2.DesiredState) -> None:
        atomic_write(self._dir(cluster) / "desired.pb", state.SerializeToString(deterministic=True),
                     fsync=self.fsync)

    def load_event_sequence(self, cluster: str) -> int:
        path = self._dir(cluster) / "event_sequence"
        try:
            text = path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return 0
        try:
            return int(text)
        except ValueError:
            log.warning("event=state_file_unreadable file=%s action=ignored", path)
            return 0

    def load_event_sequences(self) -> dict[str, int]:
        """Every cluster's highest held event sequence from the combined file (bad lines are reported, skipped)."""
        path = self.root / "event_sequences"
        try:
            lines = path.read_text(encoding="ascii").splitlines()
        except FileNotFoundError:
            return {}
        except UnicodeDecodeError:
            log.warning("event=state_file_unreadable file=%s action=ignored", path)
            return {}
        sequences: dict[str, int] = {}
        for number, line in enumerate(lines, 1):
            name, _, value = line.partition(" ")
            if valid_cluster_name(name) and value.isdigit():
                sequences[name] = int(value)
            elif line.strip():
                log.warning("event=state_file_unreadable file=%s line=%d action=skipped", path, number)
        return sequences

    def save_event_sequences(self, sequences: dict[str, int]) -> None:
        """Replace the combined file with `sequences` (one atomic write for a whole batch of events)."""
        text = "".join(f"{name} {sequence}\n" for name, sequence in sorted(sequences.items()))
        atomic_write(self.root / "event_sequences", text.encode("ascii"), fsync=self.fsync)

    def load_pending_syncs(self, cluster: str) -> list[fleet_pb2.SyncRequest]:
        path = self._dir(cluster) / "pending_syncs.json"
        try:
            entries = json.loads(path.read_text(encoding="utf-8"))
            return [json_format.ParseDict(entry, fleet_pb2.SyncRequest()) for entry in entries]
        except FileNotFoundError:
            return []
        except (ValueError, TypeError, json_format.ParseError) as exc:
            log.warning("event=state_file_unreadable file=%s error=%r action=ignored", path, str(exc))
            return []

    def save_pending_syncs(self, cluster: str, requests: list[fleet_pb2.SyncRequest]) -> None:
        """Replace the cluster's pending sync requests (the file is removed when there are none)."""
        path = self._dir(cluster) / "pending_syncs.json"
        if not requests:
            path.unlink(missing_ok=True)
            return
        entries = [json_format.MessageToDict(request) for request in requests]
        atomic_write(path, json.dumps(entries, indent=1).encode("utf-8"), fsync=self.fsync)
