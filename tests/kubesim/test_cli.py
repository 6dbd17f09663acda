"""`fleetline sim` as a user runs it: clusters on consecutive ports, kubeconfigs, readiness lines, clean exit."""

from __future__ import annotations

import base64
import json
import signal
import socket
import ssl
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def free_port_pair() -> int:
    """A port P such that P and P+1 are free right now."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
                return port
    raise RuntimeError("no two consecutive free ports")


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "fleetline.cli", "sim", *args], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def get_json(kubeconfig: Path, path: str) -> dict:
    config = yaml.safe_load(kubeconfig.read_text())
    cluster, user = config["clusters"][0]["cluster"], config["users"][0]["user"]
    context = ssl.create_default_context(cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
    req = urllib.request.Request(cluster["server"] + path, headers={"Authorization": f"Bearer {user['token']}"})
    with urllib.request.urlopen(req, timeout=10, context=context) as resp:
        return json.loads(resp.read())


def test_sim_starts_clusters_on_consecutive_ports_and_exits_0_on_sigterm(tmp_path: Path) -> None:
    port = free_port_pair()
    proc = start("--clusters", "us-east-1,eu-west-1", "--port", str(port), "--kubeconfig-dir", str(tmp_path),
                 "--nodes", "2", "--gpus-per-node", "4")
    try:
        lines = [proc.stdout.readline() for _ in range(2)]
        assert lines[0].startswith(f"cluster us-east-1 ready at https://127.0.0.1:{port} ")
        assert lines[1].startswith(f"cluster eu-west-1 ready at https://127.0.0.1:{port + 1} ")
        for name in ("us-east-1", "eu-west-1"):
            kubeconfig = tmp_path / f"{name}.kubeconfig"
            assert kubeconfig.stat().st_mode & 0o077 == 0, "a kubeconfig holds a token: mode 0600"
            config = yaml.safe_load(kubeconfig.read_text())
            assert config["current-context"] == name and config["contexts"][0]["name"] == name
            assert get_json(kubeconfig, "/version")["minor"] == "32"
            nodes = get_json(kubeconfig, "/api/v1/nodes")["items"]
            assert [n["status"]["capacity"]["nvidia.com/gpu"] for n in nodes] == ["4", "4"]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0, proc.stderr.read()


def test_sim_exits_0_on_sigint(tmp_path: Path) -> None:
    proc = start("--clusters", "solo", "--kubeconfig-dir", str(tmp_path))
    try:
        assert "cluster solo ready at https://127.0.0.1:" in proc.stdout.readline()
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0, proc.stderr.read()


@pytest.mark.parametrize("args,message", [
    (["--clusters", ""], "--clusters needs at least one name"),
    (["--clusters", "a,a"], "names a cluster twice"),
    (["--clusters", "a", "--speed", "0"], "--speed must be greater than 0"),
])
def test_sim_refuses_bad_arguments_clearly(tmp_path: Path, args: list[str], message: str) -> None:
    proc = start(*args, "--kubeconfig-dir", str(tmp_path))
    out, err = proc.communicate(timeout=20)
    assert proc.returncode != 0 and message in err


def test_sim_reports_a_busy_port(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = start("--clusters", "x", "--port", str(port), "--kubeconfig-dir", str(tmp_path))
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 1 and f"cannot listen on 127.0.0.1:{port}" in err
