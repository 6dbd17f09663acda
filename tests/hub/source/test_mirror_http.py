"""Credentials over HTTP, end to end: a Git host (git's "dumb" HTTP protocol behind Basic authentication) that the
mirror clones and fetches from; the secret never shows in errors, logs, files under the data directory, git's
config, or the command lines of the git processes."""

from __future__ import annotations

import base64
import logging
import os
import shutil
import socket
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from hub.source import Credentials, GitMirror, SourceError
from tests.hub.source.helpers import Remote, git

SECRET = "hunter2-Zx9-very-secret"


class GitHost:
    """A bare repository served over plain HTTP, readable with `user`/`password` only."""

    def __init__(self, directory: Path, user: str, password: str) -> None:
        self.directory = directory
        self.expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.authorizations: list[str] = []
        handler = partial(self._Handler, self, directory=str(directory.parent))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{self.directory.name}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    class _Handler(SimpleHTTPRequestHandler):
        def __init__(self, host: GitHost, *args: object, **kwargs: object) -> None:
            self.host = host
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            given = self.headers.get("Authorization")
            if given:
                self.host.authorizations.append(given)
            if given != self.host.expected:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="fleet"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            super().do_GET()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's signature
            pass


@pytest.fixture
def host(tmp_path: Path, remote: Remote) -> Iterator[GitHost]:
    served = tmp_path / "www" / "fleet.git"
    served.parent.mkdir()
    git(tmp_path, "clone", "-q", "--bare", str(remote.path), str(served))
    git(served, "update-server-info")
    server = GitHost(served, "deployer", SECRET)
    yield server
    server.close()


def publish(remote: Remote, host: GitHost) -> str:
    """Push the remote's main to the host, as a Git host receives a push."""
    remote.git("push", "-q", str(host.directory), "main")
    git(host.directory, "update-server-info")
    return remote.head()


def files_containing(root: Path, needle: bytes) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and needle in path.read_bytes():
            found.append(str(path))
    return found


@pytest.fixture
def git_argv_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every command line the hub starts git with, written down by a shim ahead of git on PATH."""
    shim_dir, log = tmp_path / "shim", tmp_path / "argv.log"
    shim_dir.mkdir()
    shim = shim_dir / "git"
    shim.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\nexec "{shutil.which("git")}" "$@"\n')
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{shim_dir}{os.pathsep}{os.environ['PATH']}")
    return log


def test_credentials_reach_the_host_and_stay_out_of_sight(tmp_path: Path, remote: Remote, host: GitHost,
                                                          git_argv_log: Path,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    data = tmp_path / "data"
    mirror = GitMirror(data, host.url, Credentials("deployer", SECRET))
    assert mirror.fetch() == {"refs/heads/main": (None, remote.head())}
    remote.commit({"b": "2"}, "next")
    sha = publish(remote, host)
    assert mirror.fetch()["refs/heads/main"][1] == sha
    assert host.expected in host.authorizations  # git sent the credentials the helper gave it

    assert files_containing(data, SECRET.encode()) == []  # not in git config, not in the askpass helper
    assert SECRET not in git(mirror.path, "config", "--list")
    argv = git_argv_log.read_text()
    assert "fetch --prune" in argv and SECRET not in argv
    assert SECRET not in caplog.text


def test_a_password_in_the_url_is_used_but_never_stored_or_shown(tmp_path: Path, remote: Remote, host: GitHost,
                                                                 git_argv_log: Path,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    url = host.url.replace("http://", f"http://deployer:{SECRET}@")
    mirror = GitMirror(tmp_path / "data", url)
    mirror.fetch()
    assert SECRET not in mirror.display_url and "deployer:***@" not in mirror.display_url
    assert git(mirror.path, "config", "remote.origin.url") == host.url
    assert files_containing(tmp_path / "data", SECRET.encode()) == []
    assert SECRET not in git_argv_log.read_text()
    assert SECRET not in caplog.text


def test_wrong_credentials_fail_without_showing_the_secret(tmp_path: Path, host: GitHost, git_argv_log: Path,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-" + SECRET
    url = host.url.replace("http://", f"http://deployer:{wrong}@")
    mirror = GitMirror(tmp_path / "data", url)
    with pytest.raises(SourceError) as caught:
        mirror.fetch()
    message = str(caught.value)
    assert "cannot clone" in message and "Authentication failed" in message
    assert wrong not in message and SECRET not in message
    assert wrong not in caplog.text and wrong not in git_argv_log.read_text()
    assert files_containing(tmp_path / "data", wrong.encode()) == []


def test_a_private_repository_without_credentials_says_what_is_missing(tmp_path: Path, host: GitHost) -> None:
    with pytest.raises(SourceError, match="no credentials configured"):
        GitMirror(tmp_path / "data", host.url).fetch()


def test_a_credential_helper_in_the_users_config_never_stores_the_secret(tmp_path: Path, host: GitHost,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "stored-credentials"
    config = tmp_path / "gitconfig"
    config.write_text(f"[credential]\n\thelper = store --file {store}\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))  # as if the hub's user had `git config credential.helper`
    mirror = GitMirror(tmp_path / "data", host.url, Credentials("deployer", SECRET))
    assert mirror.fetch()
    assert not store.exists() or SECRET not in store.read_text()


def test_a_host_that_never_answers_ends_in_a_timeout(tmp_path: Path) -> None:
    with socket.socket() as silent:  # accepts connections (kernel backlog) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/fleet.git"
        with pytest.raises(SourceError, match="did not finish within 0.5 s"):
            GitMirror(tmp_path / "data", url, timeout=0.5).fetch()
