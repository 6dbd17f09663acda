"""What each application was last synced to, kept on the agent's disk: `<cache_dir>/synced.json` (the marks)
and `<cache_dir>/synced/<app>.pb` (the synced bundle, for applications whose newer desired state waits behind a
manual gate: self-heal keeps enforcing the bundle synced last).

An automated sync runs once per (revision, content hash) of an application; the mark survives an agent restart,
so a restarted agent checks for drift instead of syncing everything again. A file that cannot be read is set
aside with a warning (every application then syncs once), never a crash.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from google.protobuf.message import DecodeError

from fleetline.atomicfile import atomic_write
from fleetline.wire import fleet_pb2

log = logging.getLogger(__name__)


class SyncMarks:
    """application -> "revision|content hash" of its last successful sync."""

    def __init__(self, directory: str | Path | None) -> None:
        self.path = Path(directory) / "synced.json" if directory is not None else None
        self._marks: dict[str, str] = {}
        if self.path is not None and self.path.exists():
            try:
                loaded = json.loads(self.path.read_text(encoding="utf-8"))
                if not isinstance(loaded, dict) or not all(isinstance(v, str) for v in loaded.values()):
                    raise ValueError("expected an object of strings")
                self._marks = loaded
            except (OSError, ValueError) as exc:
                aside = self.path.with_suffix(".corrupt")
                log.warning("event=sync_marks_unreadable file=%s error=%r action=moved to %s; every application "
                            "syncs once", self.path, str(exc), aside)
                self.path.replace(aside)

    def get(self, app: str) -> str | None:
        return self._marks.get(app)

    def set(self, app: str, mark: str) -> None:
        self._marks[app] = mark
        self._save()

    def forget(self, app: str) -> None:
        if self._marks.pop(app, None) is not None:
            self._save()

    def _save(self) -> None:
        if self.path is not None:
            atomic_write(self.path, json.dumps(self._marks, indent=1, sort_keys=True).encode("utf-8"))

    def save_bundle(self, app: str, bundle: fleet_pb2.ApplicationBundle) -> None:
        if self.path is not None:
            atomic_write(self._bundle_path(app), bundle.SerializeToString(deterministic=True))

    def load_bundle(self, app: str) -> fleet_pb2.ApplicationBundle | None:
        if self.path is None:
            return None
        path = self._bundle_path(app)
        try:
            bundle = fleet_pb2.ApplicationBundle()
            bundle.ParseFromString(path.read_bytes())
            return bundle
        except FileNotFoundError:
            return None
        except (OSError, DecodeError) as exc:
            log.warning("event=synced_bundle_unreadable file=%s error=%r action=ignored", path, str(exc))
            return None

    def _bundle_path(self, app: str) -> Path:
        assert self.path is not None
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in app)
        return self.path.parent / "synced" / f"{safe}.pb"
