"""Running the git binary for `hub.source`: a controlled environment, credentials handed over out of sight,
a timeout that ends the whole process group, and errors whose text is redacted.

Credentials reach git through `GIT_ASKPASS`: a small helper script (holding no secret) that prints the user name
or password from two environment variables set on that one child process only. So the secret is never in an
argument (the process list), never in `git config` on disk, and git's credential helpers are switched off for
these commands (`credential.helper=` through `GIT_CONFIG_COUNT`) so that no helper stores it either.
"""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hub.source.credentials import Credentials
from hub.source.errors import SourceError
from hub.source.redact import redact

ASKPASS_USERNAME = "FLEETLINE_ASKPASS_USERNAME"
ASKPASS_PASSWORD = "FLEETLINE_ASKPASS_PASSWORD"
ASKPASS_SCRIPT = f"""#!/bin/sh
# Written by the Fleetline hub: answers git's credential prompts from its own environment. Holds no secret.
case "$1" in
  Username*) printf '%s\\n' "${ASKPASS_USERNAME}" ;;
  *) printf '%s\\n' "${ASKPASS_PASSWORD}" ;;
esac
"""
# Variables that would point git at another repository than the one we name.
_REPO_VARS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR",
              "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE", "GIT_CEILING_DIRECTORIES", "GIT_PREFIX")
_MAX_ERROR_LINES = 8


def write_askpass(directory: str | os.PathLike[str]) -> str:
    """The askpass helper script in `directory` (written, mode 0700, when missing or different)."""
    path = Path(directory) / "askpass.sh"
    if not path.exists() or path.read_text(encoding="utf-8") != ASKPASS_SCRIPT:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(ASKPASS_SCRIPT, encoding="utf-8")
        temporary.chmod(0o700)
        temporary.replace(path)
    return str(path)


@dataclass(frozen=True)
class GitRunner:
    """Runs git commands with `credentials` (through `askpass`, the helper's path) and a timeout in seconds."""

    credentials: Credentials | None = None
    askpass: str | None = None
    timeout: float = 300.0
    base_env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ), repr=False)

    def secrets(self) -> tuple[str, ...]:
        """Every value that must never be shown: the password and the Basic header that would carry it."""
        if self.credentials is None:
            return ()
        basic = f"{self.credentials.username}:{self.credentials.password}".encode()
        return (*self.credentials.secrets(), base64.b64encode(basic).decode())

    def redact(self, text: str) -> str:
        return redact(text, self.secrets())

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in self.base_env.items() if k not in _REPO_VARS}
        env.update(GIT_TERMINAL_PROMPT="0", GCM_INTERACTIVE="never", LC_ALL="C", LANGUAGE="C")
        env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
        env.setdefault("GIT_HTTP_LOW_SPEED_LIMIT", "1")  # a stalled transfer ends after a minute
        env.setdefault("GIT_HTTP_LOW_SPEED_TIME", "60")
        if self.credentials is not None:
            if self.askpass is None:
                raise ValueError("GitRunner with credentials needs the askpass helper's path")
            env["GIT_ASKPASS"] = self.askpass
            env[ASKPASS_USERNAME] = self.credentials.username
            env[ASKPASS_PASSWORD] = self.credentials.password
            _add_config(env, "credential.helper", "")  # an empty value clears helpers from every config file
        return env

    def run(self, args: Sequence[str], *, git_dir: str | None = None, what: str) -> str:
        """git's standard output for `args` (run in `git_dir` when given); SourceError naming `what` when git
        fails, times out or is missing."""
        code, out, err = self.call(args, git_dir=git_dir, what=what)
        if code != 0:
            raise SourceError(f"{what}: {self.describe_failure(err)}")
        return out

    def call(self, args: Sequence[str], *, git_dir: str | None = None, what: str,
             extra_env: Mapping[str, str] | None = None) -> tuple[int, str, str]:
        """(exit code, standard output, standard error) of git `args`; SourceError only when git cannot run
        or does not finish within the timeout."""
        command = ["git", *(["--git-dir", git_dir] if git_dir else []), *args]
        env = self.environment()
        env.update(extra_env or {})
        try:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, env=env, start_new_session=True)
        except OSError as exc:
            raise SourceError(f"{what}: cannot run git ({exc.strerror or exc}); install git on the hub") from None
        try:
            out, err = process.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            raise SourceError(f"{what}: git did not finish within {self.timeout:g} s (is the remote reachable?)") \
                from None
        return process.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")

    def describe_failure(self, stderr: str) -> str:
        """The useful, redacted lines of git's error output."""
        lines = [line.strip() for line in stderr.splitlines()
                 if line.strip() and not line.startswith(("hint:", "warning: redirecting"))]
        if not lines:
            return "git failed without a message"
        return self.redact("; ".join(lines[-_MAX_ERROR_LINES:]))


def _add_config(env: dict[str, str], key: str, value: str) -> None:
    """Append one `git -c key=value` through the environment (`GIT_CONFIG_COUNT`), after any already there."""
    try:
        count = int(env.get("GIT_CONFIG_COUNT", "0"))
    except ValueError:
        count = 0
    env[f"GIT_CONFIG_KEY_{count}"] = key
    env[f"GIT_CONFIG_VALUE_{count}"] = value
    env["GIT_CONFIG_COUNT"] = str(count + 1)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """End the git process and the helpers it started (their own process group, made at start)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()
