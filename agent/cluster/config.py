"""Where the agent's cluster credentials come from: a kubeconfig file, or the service account Kubernetes
mounts into the agent's pod (what the Helm chart gives it), or `auto`: in-cluster when no kubeconfig is
named and the environment says we run in a pod, else the default kubeconfig loading rules ($KUBECONFIG,
then ~/.kube/config).

Returns `kubernetes.client.Configuration` objects; never touches the library's global default configuration.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path

import yaml
from kubernetes import client as k8s
from kubernetes import config as kube_config
from kubernetes.config.config_exception import ConfigException

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
HOST_ENV, PORT_ENV = "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"
TOKEN_REREAD_SECONDS = 60.0  # kubelet rotates projected service-account tokens; re-read the file this often


class ConfigError(Exception):
    """No usable cluster configuration: the message says which source was tried and what to fix."""


def running_in_pod(environ: Mapping[str, str] | None = None) -> bool:
    """True when Kubernetes has set the service host and port variables, as it does in every pod."""
    env = os.environ if environ is None else environ
    return bool(env.get(HOST_ENV)) and bool(env.get(PORT_ENV))


def kubeconfig_configuration(path: str | os.PathLike | None = None, context: str | None = None,
                             environ: Mapping[str, str] | None = None) -> k8s.Configuration:
    """From a kubeconfig file; without `path`, $KUBECONFIG (a list separated by ':' is merged) or ~/.kube/config."""
    env = os.environ if environ is None else environ
    source = str(path) if path is not None else env.get("KUBECONFIG") or "~/.kube/config"
    files = [os.path.expanduser(p) for p in source.split(os.pathsep) if p]
    if not any(os.path.exists(f) for f in files):
        raise ConfigError(f"kubeconfig {source} does not exist: pass --kubeconfig PATH or set KUBECONFIG")
    config = k8s.Configuration()
    try:
        kube_config.load_kube_config(config_file=source, context=context, client_configuration=config,
                                     persist_config=False)
    except (ConfigException, yaml.YAMLError, OSError) as exc:
        raise ConfigError(f"kubeconfig {source}{f' context {context}' if context else ''}: {exc}") from exc
    return config


class _TokenFile:
    """A bearer token read from a file, re-read once a minute (kubelet rotates it)."""

    def __init__(self, path: Path, reread_seconds: float) -> None:
        self.path, self.reread_seconds = path, reread_seconds
        self._lock = threading.Lock()
        self._token, self._read_at = self._read(), time.monotonic()

    def _read(self) -> str:
        token = self.path.read_text().strip()
        if not token:
            raise ConfigError(f"service account token {self.path} is empty")
        return token

    def current(self) -> str:
        with self._lock:
            if time.monotonic() - self._read_at >= self.reread_seconds:
                # on a failed read keep the previous token; the server will say 401 if it really expired
                with contextlib.suppress(OSError, ConfigError):
                    self._token = self._read()
                self._read_at = time.monotonic()
            return self._token


def in_cluster_configuration(environ: Mapping[str, str] | None = None,
                             service_account_dir: str | os.PathLike = SERVICE_ACCOUNT_DIR,
                             reread_seconds: float = TOKEN_REREAD_SECONDS) -> k8s.Configuration:
    """From the pod's service account: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT, the mounted
    token (re-read as kubelet rotates it) and CA."""
    env = os.environ if environ is None else environ
    if not running_in_pod(env):
        raise ConfigError(f"not running in a pod: {HOST_ENV} and {PORT_ENV} are not set "
                          "(outside a cluster, pass --kubeconfig)")
    sa_dir = Path(service_account_dir)
    token_path, ca_path = sa_dir / "token", sa_dir / "ca.crt"
    for path in (token_path, ca_path):
        if not path.is_file() or path.stat().st_size == 0:
            raise ConfigError(f"service account file {path} is missing or empty: is automountServiceAccountToken "
                              "disabled for the agent's pod?")
    host = env[HOST_ENV]
    if ":" in host:  # an IPv6 address, as net.JoinHostPort brackets it
        host = f"[{host}]"
    token = _TokenFile(token_path, reread_seconds)
    config = k8s.Configuration()
    config.host = f"https://{host}:{env[PORT_ENV]}"
    config.ssl_ca_cert = str(ca_path)
    config.api_key["BearerToken"] = token.current()
    config.api_key_prefix["BearerToken"] = "Bearer"

    def refresh(cfg: k8s.Configuration) -> None:
        cfg.api_key["BearerToken"] = token.current()

    config.refresh_api_key_hook = refresh
    return config


def auto_configuration(kubeconfig: str | os.PathLike | None = None, context: str | None = None,
                       environ: Mapping[str, str] | None = None,
                       service_account_dir: str | os.PathLike = SERVICE_ACCOUNT_DIR) -> k8s.Configuration:
    """In-cluster when no kubeconfig is named and we run in a pod; else the kubeconfig loading rules."""
    if kubeconfig is None and context is None and running_in_pod(environ):
        return in_cluster_configuration(environ, service_account_dir)
    return kubeconfig_configuration(kubeconfig, context, environ)
