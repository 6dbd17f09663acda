"""Replacing a file atomically: the one writer of every state file of the hub, the agent and the CLI.

A reader, or a process restarted after SIGKILL, sees the old file or the new one whole, never a mix: the data
goes to a temporary file beside the target (its permission bits set before any byte is written, so a key is
never briefly world-readable), is fsynced, and is renamed over the target; the directory is then fsynced so
that the rename itself survives a power loss. `fsync=False` skips both fsyncs (benchmarks: the rename alone
already survives a SIGKILL).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def atomic_write(path: str | os.PathLike[str], data: bytes, mode: int = 0o644, fsync: bool = True) -> None:
    """Replace `path` with `data` (permission bits `mode`), creating its directory if needed."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if fsync:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if fsync:
        _fsync_directory(target.parent)


def _fsync_directory(directory: Path) -> None:
    """Make a rename in `directory` durable (best effort: some filesystems refuse fsync on a directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
