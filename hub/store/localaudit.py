"""Audit entries written by commands run on the hub's machine rather than by the running hub: `fleetline tokens`,
`fleetline hub-token` and `fleetline certs issue`. They append to the same hash chain in
`<data-dir>/fleetline.db` (SQLite serializes them with the running hub's writer), with the local account
(`user@host`) as the actor. Secrets are never recorded: a token's entry carries a prefix of its SHA-256, a
certificate's its fingerprint.
"""

from __future__ import annotations

import getpass
import socket
from pathlib import Path

from hub.store import schema
from hub.store.records import AuditDraft, StoreError
from hub.store.sqlite import SqliteStore

DB_NAME = "fleetline.db"


def local_actor() -> str:
    """Who runs this command, as the audit log's actor: `user@host` of the local account."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        user = "unknown-user"
    return f"{user}@{socket.gethostname() or 'localhost'}"


def open_audit(data_dir: str | Path, what: str) -> SqliteStore:
    """The hub's store in `data_dir`, opened before anything is changed; StoreError saying that `what` (e.g.
    "every token created or revoked") is recorded there and that nothing was changed."""
    try:
        if (Path(data_dir) / DB_NAME).is_file():
            _check_not_older(data_dir)
        return SqliteStore.open(data_dir)
    except (StoreError, OSError) as exc:
        raise StoreError(f"{exc} (the audit log records {what}; nothing was changed)") from exc


def _check_not_older(data_dir: str | Path) -> None:
    """A command must not migrate the database of a hub older than itself (the hub, running or restarted, would
    then refuse a schema newer than it knows): that is the hub's upgrade to make."""
    existing = SqliteStore.open(data_dir, readonly=True)
    try:
        version = existing.schema_version
    finally:
        existing.close()
    if version < schema.LATEST:
        raise StoreError(f"{existing.where}: the hub's database is at schema version {version}, this fleetline "
                         f"at {schema.LATEST}: upgrade the hub first (it migrates the database when it starts), "
                         "or use the fleetline of the hub's own version")


def draft(kind: str, data: dict, *, cluster: str = "") -> AuditDraft:
    """An entry of `kind` by the local account."""
    return AuditDraft(kind, cluster=cluster, actor=local_actor(), data=data)


def data_dir_beside(path: str | Path) -> Path | None:
    """The hub data directory that holds `path` (a token file kept in it), when it has the hub's store."""
    parent = Path(path).resolve().parent
    return parent if (parent / DB_NAME).is_file() else None
