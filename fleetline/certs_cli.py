"""`fleetline certs`: create a fleet CA with a hub serving certificate, and issue per-cluster client certificates.

Owns the certificate directory layout: ca.crt, ca.key, hub.crt, hub.key and one <cluster>.crt/<cluster>.key per
agent. Keys are written 0600, every file atomically (temporary file, fsync, rename). Never overwrites an existing
CA (that would orphan every certificate it issued) unless asked with --force; the certificate contents come from
`fleetline.certs`.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from fleetline import certs
from fleetline.atomicfile import atomic_write

DEFAULT_HUB_HOSTNAMES = ["localhost", "127.0.0.1"]


class CertsError(Exception):
    """A user error: the message names the file and the fix."""


@dataclass
class IssuedFiles:
    """The files one command wrote."""

    cert: Path
    key: Path


def write_file(path: Path, data: bytes, mode: int) -> None:
    """Write `data` to `path` atomically with permission bits `mode` (set before any byte is written)."""
    atomic_write(path, data, mode)


def init_ca_dir(
    directory: Path, hostnames: list[str] | None = None, force: bool = False
) -> tuple[IssuedFiles, IssuedFiles]:
    """Create ca.crt/ca.key and hub.crt/hub.key (for `hostnames`, default localhost and 127.0.0.1) in `directory`."""
    ca = IssuedFiles(directory / "ca.crt", directory / "ca.key")
    hub = IssuedFiles(directory / "hub.crt", directory / "hub.key")
    if not force and (ca.cert.exists() or ca.key.exists()):
        raise CertsError(
            f"{ca.key}: a CA already exists here; replacing it invalidates every certificate it issued "
            "(use `fleetline certs issue` to add a cluster, or --force to start over)"
        )
    ca_cert, ca_key = certs.create_ca("fleetline CA")
    hub_cert, hub_key = certs.issue_server_certificate(ca_cert, ca_key, hostnames or DEFAULT_HUB_HOSTNAMES)
    write_file(ca.key, ca_key, 0o600)
    write_file(ca.cert, ca_cert, 0o644)
    write_file(hub.key, hub_key, 0o600)
    write_file(hub.cert, hub_cert, 0o644)
    return ca, hub


def issue_cluster_files(directory: Path, cluster: str, days: int = 365) -> IssuedFiles:
    """Issue <cluster>.crt/<cluster>.key in `directory`, signed by the CA found there."""
    try:
        certs.validate_cluster_name(cluster)
    except ValueError as exc:
        raise CertsError(str(exc)) from exc
    ca_cert_path, ca_key_path = directory / "ca.crt", directory / "ca.key"
    if not ca_cert_path.exists() or not ca_key_path.exists():
        raise CertsError(f"{ca_key_path}: no CA here; create one first with `fleetline certs init --dir {directory}`")
    try:
        cert, key = certs.issue_cluster_certificate(ca_cert_path.read_bytes(), ca_key_path.read_bytes(), cluster, days)
    except ValueError as exc:
        raise CertsError(f"{ca_cert_path}: {exc}") from exc
    issued = IssuedFiles(directory / f"{cluster}.crt", directory / f"{cluster}.key")
    write_file(issued.key, key, 0o600)
    write_file(issued.cert, cert, 0o644)
    return issued


def run_init(args: argparse.Namespace) -> int:
    try:
        ca, hub = init_ca_dir(Path(args.dir), args.hostname or None, force=args.force)
    except CertsError as exc:
        print(f"fleetline certs init: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {ca.cert}, {ca.key} (keep it secret), {hub.cert}, {hub.key}")
    return 0


def run_issue(args: argparse.Namespace) -> int:
    try:
        issued = issue_cluster_files(Path(args.dir), args.cluster, args.days)
    except CertsError as exc:
        print(f"fleetline certs issue: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {issued.cert}, {issued.key} (identity spiffe://fleetline/cluster/{args.cluster})")
    return 0


def add_certs_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("certs", help="create the fleet CA and per-cluster certificates for mutual TLS",
                            description="Certificates for the hub-agent wire (mutual TLS).")
    certs_sub = parser.add_subparsers(dest="certs_command", metavar="SUBCOMMAND")
    certs_sub.required = True

    init = certs_sub.add_parser("init", help="create ca.crt/ca.key and the hub's hub.crt/hub.key",
                                description="Create a fleet CA and a hub serving certificate in --dir.")
    init.add_argument("--dir", required=True, type=Path, help="directory to write the files into")
    init.add_argument("--hostname", action="append", default=[], metavar="NAME",
                      help="DNS name or IP address the hub is reached at (repeatable; default localhost, 127.0.0.1)")
    init.add_argument("--force", action="store_true", help="replace an existing CA (invalidates what it issued)")
    init.set_defaults(run=run_init)

    issue = certs_sub.add_parser("issue", help="issue CLUSTER.crt/CLUSTER.key for one agent",
                                 description="Issue a client certificate whose identity is the cluster name.")
    issue.add_argument("cluster", metavar="CLUSTER", help="cluster name, e.g. us-east-1")
    issue.add_argument("--dir", required=True, type=Path, help="directory holding ca.crt and ca.key")
    issue.add_argument("--days", type=int, default=365, help="validity in days (default 365)")
    issue.set_defaults(run=run_issue)
