"""`fleetline hub` (serve the hub-agent wire) and `fleetline hub-token` (issue and revoke cluster tokens).

Owns the command line only: flags, logging, loading desired state from `--desired-state DIR` (one
`<cluster>.json|yaml` per cluster, pushed at start and again on SIGHUP; a bad file is reported and that
cluster keeps its last good state), the `/metrics` endpoint (aiohttp) and signal handling.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sqlite3
import sys
from pathlib import Path

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from fleetline.logs import add_logging_arguments, configure_logging
from fleetline.protocol import DEFAULT_HEARTBEAT_INTERVAL, DEFAULT_MAX_MESSAGE_BYTES
from hub.sessions.server import HubHandle, TlsFiles, split_host_port, start_hub
from hub.sessions.service import kv
from hub.sessions.statefiles import load_state_dir
from hub.sessions.tokens import TokenStore, TokenStoreError, normalize_fingerprint, token_hash
from hub.store import StoreError, localaudit
from hub.store import kinds as audit

log = logging.getLogger("hub.sessions.cli")

VIA = "fleetline hub-token"


def add_hub_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register `fleetline hub` and `fleetline hub-token`; returns the `hub` parser."""
    parser = sub.add_parser(
        "hub", help="serve the hub-agent gRPC wire",
        description="Accept agent sessions (FleetHub.Connect), authenticate them by client certificate or bearer "
                    "token, and push each cluster its desired state: rendered from the Git repository --repo "
                    "(watched, rolled out and gated as fleet.yaml says), or read from --desired-state DIR.")
    parser.add_argument("--listen", metavar="HOST:PORT", default="127.0.0.1:7443",
                        help="address to listen on (port 0 picks a free one; default 127.0.0.1:7443)")
    parser.add_argument("--data-dir", metavar="DIR", required=True,
                        help="where the hub keeps per-cluster session state (last pushed state, event sequence)")
    parser.add_argument("--tls-cert", metavar="FILE", help="the hub's serving certificate (PEM)")
    parser.add_argument("--tls-key", metavar="FILE", help="its private key (PEM)")
    parser.add_argument("--client-ca", metavar="FILE",
                        help="CA that signs agents' client certificates (mTLS; identity from the SAN URI "
                             "spiffe://fleetline/cluster/<name>, else the CN)")
    parser.add_argument("--tokens", metavar="FILE", help="per-cluster bearer tokens (hashes; see hub-token)")
    parser.add_argument("--insecure", action="store_true",
                        help="plain text, no TLS: only allowed on a loopback address, for development")
    parser.add_argument("--desired-state", metavar="DIR",
                        help="directory of <cluster>.json|yaml desired states, pushed at start and on SIGHUP")
    source = parser.add_argument_group("Git pipeline")
    source.add_argument("--repo", metavar="URL|PATH",
                        help="the fleet repository (fleet.yaml at its root): mirrored under --data-dir, watched")
    source.add_argument("--fleet-ref", default="HEAD",
                        help="the ref whose fleet.yaml says which ref each environment tracks (default HEAD)")
    source.add_argument("--poll-interval", metavar="SECONDS", type=float, default=60.0,
                        help="fetch the repository this often (default 60); the webhook fetches at once")
    source.add_argument("--repo-credentials", metavar="FILE",
                        help="a token, or username:/password:/token: lines, for the repository (else the "
                             "FLEETLINE_GIT_* environment variables); never logged")
    source.add_argument("--webhook-secret-file", metavar="FILE",
                        help="the shared secret of POST /api/v1/webhooks/git (GitHub X-Hub-Signature-256)")
    source.add_argument("--admin-token-file", metavar="FILE",
                        help="a secret (16+ characters) to register at start as an admin API token (the first "
                             "admin, e.g. from a Kubernetes Secret); idempotent, a revoked one stays revoked")
    source.add_argument("--admin-token-name", metavar="NAME", default="admin",
                        help="the name of that token in the audit log (default admin)")
    source.add_argument("--trusted-keys", metavar="FILE", nargs="*", default=[],
                        help="armored GPG public keys of signers (environments[].signatures.trustedKeys)")
    source.add_argument("--http-listen", metavar="HOST:PORT", default="127.0.0.1:7080",
                        help="the hub's HTTP side: REST API, webhook, /metrics, /healthz (default 127.0.0.1:7080)")
    source.add_argument("--config", metavar="FILE",
                        help="the hub's config file (its `notifications:` section: sinks, subscriptions, templates)")
    parser.add_argument("--metrics-port", metavar="PORT", type=int,
                        help="serve Prometheus /metrics on this port (on the --listen host)")
    parser.add_argument("--heartbeat-interval", metavar="SECONDS", type=float, default=DEFAULT_HEARTBEAT_INTERVAL,
                        help=f"heartbeat interval announced to agents (default {DEFAULT_HEARTBEAT_INTERVAL:g})")
    parser.add_argument("--max-message-bytes", metavar="N", type=int, default=DEFAULT_MAX_MESSAGE_BYTES,
                        help="largest message sent or accepted; desired state is chunked below it")
    add_logging_arguments(parser)
    parser.set_defaults(run=run_hub)

    tokens = sub.add_parser("hub-token", help="issue or revoke per-cluster tokens and client certificates",
                            description="Manage the hub's token file. A token is printed once and only its "
                                        "SHA-256 is stored; a running hub picks changes up at the next connect.")
    tokens.add_argument("action", choices=("issue", "revoke", "revoke-cert"))
    tokens.add_argument("subject", metavar="CLUSTER|FINGERPRINT",
                        help="the cluster (issue, revoke) or a certificate's SHA-256 fingerprint (revoke-cert)")
    tokens.add_argument("--tokens", metavar="FILE", required=True, help="the hub's token file")
    tokens.add_argument("--data-dir", metavar="DIR",
                        help="the hub's data directory, whose audit log records the issue or revocation (default: "
                             "the token file's directory when it holds the hub's fleetline.db)")
    tokens.set_defaults(run=run_hub_token)
    return parser


def run_hub_token(args: argparse.Namespace) -> int:
    """Issue or revoke a cluster credential, recorded in the hub's audit log (credential_issued/revoked) when
    there is one: the log is opened first, and an issued token is printed only once its entry is written (a
    token never printed cannot be used: only its hash is kept)."""
    data_dir = args.data_dir or localaudit.data_dir_beside(args.tokens)
    try:
        audit_log = localaudit.open_audit(data_dir, "every cluster credential issued or revoked") \
            if data_dir is not None else None
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if audit_log is None:
        print(f"warning: no hub data directory with an audit log beside {args.tokens}: this {args.action} is not "
              "recorded (pass --data-dir)", file=sys.stderr)
    try:
        store = TokenStore(args.tokens)
        if args.action == "issue":
            token = store.issue(args.subject)
            entry = localaudit.draft(audit.CREDENTIAL_ISSUED, {"credential": "cluster-token", "via": VIA,
                                                              "token_sha256": token_hash(token)[:12]},
                                     cluster=args.subject)
            message, code = token, 0
        elif args.action == "revoke":
            count = store.revoke(args.subject)
            entry = localaudit.draft(audit.CREDENTIAL_REVOKED, {"credential": "cluster-token", "via": VIA,
                                                               "tokens": count}, cluster=args.subject) \
                if count else None  # nothing revoked: nothing to record
            message, code = f"revoked {count} token(s) of cluster {args.subject}", 0 if count else 1
        else:
            fingerprint = normalize_fingerprint(args.subject)
            store.revoke_certificate(fingerprint)
            entry = localaudit.draft(audit.CREDENTIAL_REVOKED, {"credential": "client-certificate", "via": VIA,
                                                               "fingerprint": fingerprint})
            message, code = f"revoked certificate {args.subject}", 0
        if audit_log is not None and entry is not None:
            try:
                audit_log.append_audit([entry])
            except (StoreError, OSError, sqlite3.Error) as exc:
                print(f"error: {audit_log.where}: cannot record the {args.action} in the audit log ({exc})"
                      + ("; the new token is not shown, so it cannot be used: fix the data directory and issue "
                         "another" if args.action == "issue" else "; it took effect: record it by hand"),
                      file=sys.stderr)
                return 2
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        if audit_log is not None:
            audit_log.close()
    print(message)
    return code


def run_hub(args: argparse.Namespace) -> int:
    configure_logging(args.log_level, args.log_format)
    try:
        return asyncio.run(serve(args))
    except (ValueError, OSError, TokenStoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


async def push_directory(handle: HubHandle, directory: Path) -> int:
    """Push every usable file of `directory`; returns how many files were refused (each logged)."""
    states, errors = await asyncio.to_thread(load_state_dir, directory)
    for error in errors:
        log.error(kv(event="desired_state_file_refused", error=error, action="cluster keeps its last good state"))
    for cluster, state in states.items():
        await handle.hub.push(cluster, state)
    return len(errors)


async def _start_metrics(handle: HubHandle, host: str, port: int) -> web.AppRunner:
    async def metrics(_: web.Request) -> web.Response:
        body = generate_latest(handle.hub.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


async def serve(args: argparse.Namespace) -> int:
    if bool(args.tls_cert) != bool(args.tls_key):
        raise ValueError("--tls-cert and --tls-key go together")
    if args.client_ca and not args.tls_cert:
        raise ValueError("--client-ca needs --tls-cert and --tls-key")
    tls = TlsFiles.from_paths(args.tls_cert, args.tls_key, args.client_ca) if args.tls_cert else None
    tokens = TokenStore(args.tokens) if args.tokens else None
    if args.repo and args.desired_state:
        raise ValueError("give --repo (desired state from Git) or --desired-state (from files), not both")
    if args.admin_token_file:
        register_admin_token(args)
    if tls is not None and tls.client_ca is None and tokens is None:
        raise ValueError("with TLS, authenticate agents with --client-ca (client certificates) and/or --tokens")
    handle = await start_hub(args.listen, args.data_dir, tokens, tls, args.insecure, args.heartbeat_interval,
                             args.max_message_bytes)
    host, _ = split_host_port(args.listen)
    runner = await _start_metrics(handle, host, args.metrics_port) if args.metrics_port is not None else None
    log.info(kv(event="hub_listening", address=handle.address, port=handle.port,
                tls=tls is not None, tokens=tokens is not None, metrics_port=args.metrics_port))
    print(f"fleetline hub listening on {handle.address}", flush=True)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    reload = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    loop.add_signal_handler(signal.SIGHUP, reload.set)
    directory = Path(args.desired_state) if args.desired_state else None
    pipeline = await _start_pipeline(handle, args) if args.repo else None
    try:
        if directory is not None:
            await push_directory(handle, directory)
        while not stop.is_set():
            waiters = [asyncio.create_task(stop.wait()), asyncio.create_task(reload.wait())]
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
            if reload.is_set() and not stop.is_set():
                reload.clear()
                if directory is not None:
                    log.info(kv(event="desired_state_reload", directory=directory))
                    await push_directory(handle, directory)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            with contextlib.suppress(ValueError):
                loop.remove_signal_handler(signum)
        if pipeline is not None:
            await pipeline.stop()  # type: ignore[attr-defined]
        await handle.stop(2.0)
        if runner is not None:
            await runner.cleanup()
    return 0


def register_admin_token(args: argparse.Namespace) -> None:
    """`--admin-token-file`: the secret in that file becomes the admin API token `--admin-token-name`, once. The
    secret is never logged. ValueError (exit 2) naming the file and the fix when it cannot be."""
    from hub.api.tokens import ApiTokenStore, TokenError

    if not args.repo:
        raise ValueError("--admin-token-file needs --repo: API tokens exist on the hub's HTTP API only")
    path = Path(args.admin_token_file)
    secret = path.read_text(encoding="utf-8").strip()
    if not secret:
        raise ValueError(f"{path}: the admin token file is empty (put a secret in it, e.g. `openssl rand -hex 24`)")
    try:
        outcome, token = ApiTokenStore.in_data_dir(args.data_dir).ensure(args.admin_token_name, "admin", secret)
    except TokenError as exc:
        raise ValueError(f"{path} (--admin-token-file): {exc}") from None
    if outcome == "revoked":
        log.warning(kv(event="admin_token_revoked", token=token.name, file=path,
                       action="not re-enabled; to bootstrap again, put a new secret in the file and a new "
                              "--admin-token-name"))
    elif token.role != "admin":
        log.warning(kv(event="admin_token_not_admin", token=token.name, role=token.role, file=path,
                       action="this secret is an existing token with another role; it is left as it is"))
    else:
        log.info(kv(event="admin_token_registered" if outcome == "created" else "admin_token_present",
                    token=token.name, role=token.role))


async def _start_pipeline(handle: HubHandle, args: argparse.Namespace) -> object:
    """The hub's operator side for `--repo`: store, pipeline and Git source, recorder, notifications, REST API.
    This command is the hub's composition point: the operator side sits on top of the session layer, so it is
    imported here."""
    from hub.operator.server import start_operator
    from hub.source import load_credentials

    secret = Path(args.webhook_secret_file).read_bytes().strip() if args.webhook_secret_file else None
    host, port = split_host_port(args.http_listen)
    operator = await start_operator(
        handle, args.data_dir, args.repo, http_host=host, http_port=port,
        credentials=load_credentials(args.repo_credentials), poll_interval=args.poll_interval,
        fleet_ref=args.fleet_ref, webhook_secret=secret, trusted_keys=list(args.trusted_keys),
        config=args.config)
    print(f"fleetline hub pipeline on http://{host}:{operator.port}/api/v1/pipeline", flush=True)
    return operator


def main(argv: list[str] | None = None) -> int:
    """`python -m hub.sessions.cli hub ...`: the same commands without the `fleetline` entry point."""
    parser = argparse.ArgumentParser(prog="fleetline")
    sub = parser.add_subparsers(dest="command", required=True)
    add_hub_parser(sub)
    args = parser.parse_args(argv)
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
