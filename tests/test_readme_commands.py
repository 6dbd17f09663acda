"""Every command shown in README.md works as written (issue 9's acceptance), and so does the tour of docs/demo.md,
where the README sends a newcomer for "every command of the tour".

The shell blocks (```sh, ```bash, ```shell) of those documents are read and split into commands (continuation lines
joined, comments dropped). Each command must be classified in `COMMANDS` below, which says how it is checked:

- RUN: run as written with bash, in document order, in one "terminal" (variables it exports carry on), against one
  live `fleetline demo` the test starts: in a copy of this checkout (`.venv` linked to the test's own environment,
  `.demo/` the demo's work directory) or in a clone of the demo's fleet repository (FLEET); its exit
  status must be 0 and its output must contain `expect`. `$HUB` and `$TOKEN` are set from demo.json.
- MAKE_N: a make target that cannot run inside the test suite (it installs, or runs the whole suite): `make -n`
  must succeed and show `expect` (for `make demo`: exactly the command the test starts the demo with).
- PARSE: a long-running server or a command for real infrastructure: its exact argv is parsed by the real
  `fleetline` parser without running it.
- HELP: a command with placeholders: `fleetline SUBCOMMAND --help` must succeed and document every flag it uses.
- HELM: `helm install` to a real cluster: the chart is rendered by Helm's own engine (helm-python-sdk) with the
  command's release, namespace and `--set`/`--set-file` values (files made by the README's earlier commands),
  which also validates them against the chart's values.schema.json.
- SKIP: not checked, with the reason.

A command the table does not know fails `test_every_readme_command_is_classified` until someone classifies it,
and an entry whose command left the documents fails it too, so the table and the documents stay the same list.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = ("README.md", "docs/demo.md")  # read and run in this order, in one session
SHELLS = ("sh", "bash", "shell")
DEMO_COMMAND = ".venv/bin/fleetline demo --workdir .demo"  # what `make demo` runs (checked by MAKE_N below)

RUN, MAKE_N, PARSE, HELP, HELM, SKIP = "run", "make -n", "parse", "--help", "helm render", "skip"
CHECKOUT, FLEET = "checkout", "fleet"


@dataclass(frozen=True)
class Check:
    """How one documented command is checked (see the module docstring)."""

    how: str
    where: str = CHECKOUT  # RUN: CHECKOUT (a copy of this checkout, `.demo/` live) or FLEET (a clone of .demo/repo)
    expect: tuple[str, ...] = ()  # substrings its output must contain
    reason: str = ""  # why it is not run as written (every kind but RUN)
    retry_for: float = 0.0  # RUN: a reader types it seconds after the previous one: retried while it fails, this long


# The fleet clone (FLEET) is a user's fleet repository: a clone of the demo's, with a release tag v1.4.0 at what
# origin/main holds and one local commit on top that changes the eu overlay of inference-server.
COMMANDS: dict[str, Check] = {
    # ## Two commands
    "make demo": Check(MAKE_N, expect=(DEMO_COMMAND,),
                       reason="it installs into .venv and runs until Ctrl-C: the test starts the demo with the "
                              "command `make -n demo` shows, in a copy of this checkout"),
    "make test": Check(MAKE_N, expect=("ruff check", "pytest"),
                       reason="it runs the whole test suite, this test included"),
    # ## Rendering a repository
    "fleetline render apps/inference-server/overlays/eu": Check(
        RUN, FLEET, expect=("kind: Deployment", "registry.eu.example.com")),
    "fleetline render --repo . --cluster eu-west-1": Check(
        RUN, FLEET, expect=("kind: Deployment", "kind: ServiceMonitor")),
    "fleetline render --repo . --revision v1.4.0 --cluster eu-west-1 --app inference-server -o json": Check(
        RUN, FLEET, expect=('"kind": "Deployment"', '"name": "inference-server"')),
    "fleetline impact --repo . --from origin/main --to HEAD": Check(RUN, FLEET, expect=("eu-west-1",)),
    # ## Running the hub on a Git repository / ## Running the agent
    "fleetline hub --data-dir /var/lib/fleetline --listen 0.0.0.0:7443 --tls-cert hub.crt --tls-key hub.key "
    "--client-ca ca.crt --repo https://git.example.com/platform/fleet.git --webhook-secret-file webhook-secret "
    "--http-listen 0.0.0.0:7080": Check(PARSE, reason="a server for a real repository and real certificates"),
    "fleetline agent --hub hub.example:7443 --cluster eu-west-1 --region eu --cache-dir /var/lib/fleetline-agent "
    "--tls-cert eu-west-1.crt --tls-key eu-west-1.key --ca ca.crt --metrics-port 9101": Check(
        PARSE, reason="an agent for a real hub and cluster"),
    # ## Installing on real clusters with Helm
    "fleetline certs init --dir pki --hostname hub.example.com && fleetline certs issue eu-west-1 --dir pki": Check(
        RUN, expect=("eu-west-1",)),
    "helm install fleetline-hub charts/fleetline-hub -n fleetline --create-namespace "
    "--set repo.url=https://git.example.com/platform/fleet.git --set service.grpc.type=LoadBalancer "
    "--set-file tls.certificate=pki/hub.crt --set-file tls.key=pki/hub.key --set-file tls.clientCA=pki/ca.crt": Check(
        HELM, reason="installs to a real cluster"),
    "helm --kube-context eu-west-1 install fleetline-agent charts/fleetline-agent -n fleetline --create-namespace "
    "--set hub.address=hub.example.com:7443 --set cluster.name=eu-west-1 --set cluster.region=eu "
    "--set-file credentials.certificate=pki/eu-west-1.crt --set-file credentials.key=pki/eu-west-1.key "
    "--set-file credentials.ca=pki/ca.crt": Check(HELM, reason="installs to a real cluster (kube context eu-west-1)"),
    # docs/demo.md: the demo's commands and its tour, against the live demo
    ".venv/bin/fleetline demo --workdir /tmp/d": Check(
        PARSE, reason="runs until Ctrl-C: the test's demo is this command with --workdir .demo"),
    "make demo DEMO_FLAGS=--check": Check(MAKE_N, expect=(DEMO_COMMAND + " --check",),
                                          reason="tests/demo/test_demo_check.py runs `fleetline demo --check`"),
    "export FLEETLINE_HUB=$HUB FLEETLINE_TOKEN=$TOKEN": Check(RUN),
    ".venv/bin/fleetline status": Check(RUN, expect=("staging-1", "us-east-1", "us-west-2", "eu-west-1")),
    "kubectl --kubeconfig .demo/kubeconfig/eu-west-1.yaml -n ml get deploy,pods,hpa": Check(
        RUN, expect=("deployment.apps/inference-server", "horizontalpodautoscaler")),
    "kubectl --kubeconfig .demo/kubeconfig/us-east-1.yaml -n ml set image deployment/inference-server "
    "server=registry.example.com/ml/inference-server:hotfix": Check(RUN, expect=("image updated",)),
    "kubectl --kubeconfig .demo/kubeconfig/us-east-1.yaml -n ml get deploy inference-server -o wide": Check(
        RUN, expect=("inference-server",)),
    "sed -i 's/newTag: .*/newTag: \"2.4.0\"/; s/MODEL_VERSION=.*/MODEL_VERSION=2026-02-01/' "
    ".demo/repo/apps/inference-server/base/kustomization.yaml": Check(RUN),
    'git -C .demo/repo commit -am "inference-server 2.4.0 with the February model"': Check(
        RUN, expect=("to the hub (202)",)),  # the post-commit hook's webhook, accepted
    ".venv/bin/fleetline approvals": Check(RUN, expect=("inference-server",), retry_for=20),
    ".venv/bin/fleetline approve production inference-server $(git -C .demo/repo rev-parse HEAD)": Check(
        RUN, retry_for=20),
    ".venv/bin/fleetline rollout status inference-server": Check(RUN, expect=("us-west-2",)),
    ".venv/bin/fleetline status --watch": Check(PARSE, reason="follows the fleet until Ctrl-C"),
    '.venv/bin/fleetline rollback --env production inference-server --reason "p99 latency regression"': Check(
        RUN, retry_for=20),
    "git -C .demo/repo revert --no-edit HEAD": Check(RUN),  # after the hub's revert: reverts it (shown as either)
}


# ---- reading the documents ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Command:
    """One command of a shell block: its first line in the file and its text (continuations joined)."""

    line: int
    text: str
    document: str = "README.md"

    @property
    def where(self) -> str:
        return f"{self.document}:{self.line}"

    @property
    def key(self) -> str:
        return " ".join(self.text.split())


def strip_comment(line: str) -> str:
    """`line` without its shell comment (a `#` at the start or after a blank, outside quotes)."""
    quote = ""
    for i, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line.rstrip()


def shell_commands(markdown: str, document: str = "README.md") -> list[Command]:
    """The commands of every shell block of `markdown` (the text of `document`), in order."""
    commands: list[Command] = []
    fence: str | None = None
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(markdown.splitlines(), 1):
        stripped = raw.strip()
        if fence is None:
            match = re.match(r"^(`{3,}|~{3,})\s*([\w+-]*)", stripped)
            if match:
                fence = match.group(1) if match.group(2).lower() in SHELLS else "!" + match.group(1)
            continue
        if stripped.startswith(fence.lstrip("!")) and not stripped.strip(fence.lstrip("!")[0]):
            if pending:
                raise ValueError(f"{document}:{start}: a continuation line ends the block")
            fence = None
            continue
        if fence.startswith("!"):
            continue
        text = strip_comment(raw)
        if not pending:
            start = number
            if not text.strip():
                continue
        if text.endswith("\\"):
            pending.append(text[:-1].strip())
            continue
        pending.append(text.strip())
        commands.append(Command(start, " ".join(part for part in pending if part), document))
        pending = []
    if fence is not None:
        raise ValueError(f"{document}: a code block is not closed")
    return commands


def documented_commands() -> list[Command]:
    return [command for document in DOCUMENTS
            for command in shell_commands((ROOT / document).read_text(encoding="utf-8"), document)]


# ---- the checks ---------------------------------------------------------------------------------------------------

@dataclass
class Session:
    """The "terminal" the README's commands run in: the copy of the checkout, the fleet clone, the environment."""

    checkout: Path
    scratch: Path
    env: dict[str, str]
    fleet: Path | None = None
    failures: list[str] = field(default_factory=list)

    def cwd(self, where: str) -> Path:
        if where == CHECKOUT:
            return self.checkout
        if self.fleet is None:
            self.fleet = make_fleet_clone(self.checkout / ".demo" / "repo", self.scratch / "fleet")
        return self.fleet


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


def make_fleet_clone(origin: Path, clone: Path) -> Path:
    """A user's fleet repository (see COMMANDS): tag v1.4.0 at origin/main, one local commit on top."""
    subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True, capture_output=True)
    _git(clone, "tag", "v1.4.0")
    kustomization = clone / "apps" / "inference-server" / "overlays" / "eu" / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text() + "commonAnnotations:\n  example.com/readme: tested\n")
    _git(clone, "-c", "user.name=readme", "-c", "user.email=readme@example.com", "commit", "-qam", "eu: annotate")
    return clone


def run_shell(session: Session, command: Command, check: Check) -> str | None:
    """RUN: the command with bash; exported variables carry on to the next command. None or what failed."""
    deadline = time.monotonic() + check.retry_for
    while (problem := run_once(session, command, check)) and time.monotonic() < deadline:
        time.sleep(0.5)  # polling for the state a reader would have waited for, up to `retry_for`
    return problem


def run_once(session: Session, command: Command, check: Check) -> str | None:
    env_file = session.scratch / "env"
    script = f"{command.text}\n__status=$?\nenv -0 > {shlex.quote(str(env_file))}\nexit $__status\n"
    try:
        result = subprocess.run(["bash", "-c", script], cwd=session.cwd(check.where), env=session.env,
                                capture_output=True, text=True, timeout=60, check=False)
    except subprocess.TimeoutExpired:
        return "did not finish within 60 s"
    output = result.stdout + result.stderr
    if env_file.exists():
        session.env = dict(entry.split("=", 1) for entry in env_file.read_text().split("\0") if "=" in entry)
        env_file.unlink()
    if result.returncode != 0:
        return f"exit status {result.returncode}:\n{output[-3000:]}"
    missing = [text for text in check.expect if text not in output]
    return f"its output lacks {missing}:\n{output[-3000:]}" if missing else None


def make_dry_run(session: Session, command: Command, check: Check) -> str | None:
    """MAKE_N: `make -n TARGET...` succeeds and shows `expect`."""
    argv = shlex.split(command.text)
    if argv[0] != "make":
        return "MAKE_N is for make commands"
    result = subprocess.run(["make", "-n", *argv[1:]], cwd=session.checkout, env=session.env, capture_output=True,
                            text=True, timeout=30, check=False)
    output = result.stdout + result.stderr
    lines = [line.strip() for line in result.stdout.splitlines()]
    missing = [text for text in check.expect if text not in lines and not any(text in line for line in lines)]
    if result.returncode != 0 or missing:
        return f"`make -n` exit status {result.returncode}, lacking {missing}:\n{output[-2000:]}"
    return None


def fleetline_argv(command: Command) -> list[str] | str:
    argv = shlex.split(command.text)
    if not argv or Path(argv[0]).name != "fleetline" or any(op in argv for op in ("&&", "||", ";", "|")):
        return "PARSE and HELP are for one `fleetline` command"
    return argv[1:]


def parse_only(session: Session, command: Command, check: Check) -> str | None:
    """PARSE: the real parser accepts the exact argv (nothing runs)."""
    from fleetline.cli import build_parser

    argv = fleetline_argv(command)
    if isinstance(argv, str):
        return argv
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors):
            args = build_parser(argv).parse_args(argv)
    except SystemExit as exc:
        return f"the fleetline parser refuses it (exit {exc.code}): {errors.getvalue().splitlines()[-1:]}"
    return None if callable(getattr(args, "run", None)) else "it parses to no command"


def help_only(session: Session, command: Command, check: Check) -> str | None:
    """HELP: `fleetline SUBCOMMAND --help` succeeds and documents every flag the command uses."""
    argv = fleetline_argv(command)
    if isinstance(argv, str):
        return argv
    words = [word for word in argv if not word.startswith("-")]
    first_flag = next((i for i, word in enumerate(argv) if word.startswith("-")), len(argv))
    subcommand = argv[:first_flag] if first_flag else words[:1]
    result = subprocess.run([sys.executable, "-m", "fleetline.cli", *subcommand, "--help"], cwd=session.checkout,
                            capture_output=True, text=True, timeout=30, check=False)
    flags = [word.split("=", 1)[0] for word in argv if word.startswith("--")]
    undocumented = [flag for flag in flags if flag not in result.stdout]
    if result.returncode != 0 or undocumented:
        return f"`--help` exit status {result.returncode}, flags not documented: {undocumented}"
    return None


def helm_values(argv: list[str], cwd: Path) -> tuple[str, Path, str, dict]:
    """(release, chart, namespace, values) of a `helm install` argv; --set-file read relative to `cwd`."""
    words = iter(argv[1:])
    positional: list[str] = []
    namespace, values = "default", {}
    for word in words:
        if word in ("--kube-context", "--namespace", "-n", "--set", "--set-file", "--set-string"):
            value = next(words)
            if word in ("-n", "--namespace"):
                namespace = value
            elif word != "--kube-context":
                key, _, text = value.partition("=")
                if re.search(r"[\[\],\\]", key + (text if word != "--set-file" else "")):
                    raise ValueError(f"{value!r}: lists and escapes in --set are not read by this test; extend it")
                if word == "--set-file":
                    leaf: object = (cwd / text).read_text()
                elif word == "--set" and text in ("true", "false"):
                    leaf = text == "true"
                elif word == "--set" and re.fullmatch(r"-?\d+", text):
                    leaf = int(text)
                else:
                    leaf = text
                *parents, last = key.split(".")
                node = values
                for part in parents:
                    node = node.setdefault(part, {})
                node[last] = leaf
        elif word == "--create-namespace":
            continue
        elif word.startswith("-"):
            raise ValueError(f"{word}: a helm flag this test does not know; extend helm_values")
        else:
            positional.append(word)
    if positional[:1] != ["install"] or len(positional) != 3:
        raise ValueError("expected `helm [--kube-context C] install RELEASE CHART ...`")
    return positional[1], cwd / positional[2], namespace, values


def helm_render(session: Session, command: Command, check: Check) -> str | None:
    """HELM: Helm's engine renders the chart with the command's values (schema validation included)."""
    try:
        import helm_python as helm
    except ImportError:
        return "needs helm-python-sdk (the dev extra: `make test` installs it)"
    try:
        release, chart, namespace, values = helm_values(shlex.split(command.text), session.checkout)
    except (ValueError, OSError, StopIteration) as exc:
        return f"cannot read the command: {exc}"
    loaded = helm.Chart.load(str(chart))
    try:
        files = loaded.render(values, name=release, namespace=namespace, revision=1, is_install=True)
    except Exception as exc:  # noqa: BLE001  (Helm's errors: the message is the finding)
        return f"Helm does not render {chart.name} with these values: {exc}"
    finally:
        loaded.close()
    kinds = re.findall(r"^kind: (\w+)", "\n".join(files.values()), re.MULTILINE)
    return None if "Deployment" in kinds else f"no Deployment rendered (kinds: {kinds})"


CHECKERS = {RUN: run_shell, MAKE_N: make_dry_run, PARSE: parse_only, HELP: help_only, HELM: helm_render}


# ---- the live demo ------------------------------------------------------------------------------------------------

def make_checkout_copy(target: Path) -> Path:
    """A copy of this checkout as a fresh clone has it (tracked and new files, so README commands that write into
    it change nothing here), with `.venv` linked to the running environment and no `.demo/`."""
    target.mkdir(parents=True)
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True,
                            check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file() and not name.startswith((".demo/", ".venv/")):
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    (target / ".venv").symlink_to(Path(sys.prefix))
    return target


@pytest.fixture
def live_demo(tmp_path: Path) -> Iterator[Session]:
    """`fleetline demo --workdir .demo` started as `make demo` starts it, until the fleet is Synced and Healthy."""
    checkout = make_checkout_copy(tmp_path / "checkout")
    # only what the README says to set; and no help from this machine's Git identity (a newcomer may have none)
    env = {k: v for k, v in os.environ.items() if k not in ("FLEETLINE_HUB", "FLEETLINE_TOKEN")}
    env["GIT_CONFIG_GLOBAL"] = os.devnull
    out = tmp_path / "demo.out"
    with out.open("w") as sink:
        demo = subprocess.Popen(shlex.split(DEMO_COMMAND), cwd=checkout, env=env, stdout=sink,
                                stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while "everything is Synced and Healthy" not in out.read_text():
            assert demo.poll() is None, f"the demo exited with {demo.returncode}:\n{out.read_text()}"
            assert time.monotonic() < deadline, f"the demo did not converge within 90 s:\n{out.read_text()}"
            time.sleep(0.2)
        data = json.loads((checkout / ".demo" / "demo.json").read_text())
        env.update(HUB=data["hub_api"], TOKEN=data["admin_token"],
                   PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
        scratch = tmp_path / "scratch"
        scratch.mkdir()
        yield Session(checkout, scratch, env)
    finally:
        if demo.poll() is None:
            demo.send_signal(signal.SIGINT)
            try:
                demo.wait(timeout=40)
            except subprocess.TimeoutExpired:
                demo.kill()
                demo.wait()


# ---- the tests ----------------------------------------------------------------------------------------------------

def test_blocks_are_split_into_commands_with_continuations_joined_and_comments_dropped() -> None:
    text = ("intro\n```sh\nmake demo   # starts it\n\nfleetline hub --a 1 \\\n  --b '#not a comment' # real\n```\n"
            "```json\n{\"x\": 1}\n```\n```bash\necho \"a # b\"\n```\n")
    commands = shell_commands(text)
    assert [(c.line, c.text) for c in commands] == [
        (3, "make demo"), (5, "fleetline hub --a 1 --b '#not a comment'"), (12, 'echo "a # b"')]


def test_an_unclassified_or_misclassified_command_is_a_failure() -> None:
    assert classification_problems([Command(1, "fleetline sim --clusters a")], {}) == [
        "README.md:1: `fleetline sim --clusters a` is not classified: add it to COMMANDS in "
        "tests/test_readme_commands.py with how it is checked"]
    stale = classification_problems([], {"make demo": Check(MAKE_N, reason="x")})
    assert stale == [f"COMMANDS has `make demo`, which no longer appears in {' or '.join(DOCUMENTS)}: remove or "
                     "update the entry"]
    assert classification_problems([Command(1, "make demo")], {"make demo": Check(MAKE_N)}) == [
        "COMMANDS[`make demo`]: a make -n check needs a reason (why it is not run as written)"]


def classification_problems(commands: list[Command], table: dict[str, Check]) -> list[str]:
    problems = []
    for command in commands:
        check = table.get(command.key)
        if check is None:
            problems.append(f"{command.where}: `{command.key}` is not classified: add it to COMMANDS in "
                            "tests/test_readme_commands.py with how it is checked")
        elif check.how not in (*CHECKERS, SKIP) or check.where not in (CHECKOUT, FLEET):
            problems.append(f"COMMANDS[`{command.key}`]: unknown kind {check.how!r} or place {check.where!r}")
        elif check.how != RUN and not check.reason:
            problems.append(f"COMMANDS[`{command.key}`]: a {check.how} check needs a reason (why it is not run as "
                            "written)")
    shown = {command.key for command in commands}
    problems += [f"COMMANDS has `{key}`, which no longer appears in {' or '.join(DOCUMENTS)}: remove or update "
                 "the entry" for key in table if key not in shown]
    return problems


def test_every_readme_command_is_classified() -> None:
    commands = documented_commands()
    assert {c.document for c in commands} == set(DOCUMENTS), "a document shows no shell commands: still ```sh?"
    problems = classification_problems(commands, COMMANDS)
    assert not problems, "\n".join(problems)


def test_each_kind_of_check_can_fail(tmp_path: Path) -> None:
    session = Session(ROOT, tmp_path, dict(os.environ))
    assert run_shell(session, Command(1, "exit 3"), Check(RUN)).startswith("exit status 3")
    assert "lacks ['bye']" in run_shell(session, Command(1, "echo hi"), Check(RUN, expect=("bye",)))
    assert run_shell(session, Command(1, "export READ_ME=1"), Check(RUN)) is None
    assert run_shell(session, Command(1, 'test "$READ_ME" = 1'), Check(RUN)) is None  # one terminal
    assert make_dry_run(session, Command(1, "make no-such-target"), Check(MAKE_N)) is not None
    assert make_dry_run(session, Command(1, "make demo"), Check(MAKE_N, expect=("not what it runs",))) is not None
    assert parse_only(session, Command(1, "fleetline agent --hub h:1 --no-such-flag"), Check(PARSE)) is not None
    assert parse_only(session, Command(1, "fleetline agent --hub h:1 --cluster c --cache-dir d --insecure"),
                      Check(PARSE)) is None
    assert help_only(session, Command(1, "fleetline sim --clusters NAME --no-such-flag"), Check(HELP)) is not None
    assert help_only(session, Command(1, "fleetline sim --clusters NAME"), Check(HELP)) is None
    assert "schema" in helm_render(session, Command(1, "helm install a charts/fleetline-agent --set hub.address=5"),
                                   Check(HELM))
    with pytest.raises(ValueError, match="lists and escapes"):
        helm_values(["helm", "install", "r", "chart", "--set", "a[0]=1"], ROOT)


@pytest.mark.timeout(150)
def test_readme_commands_work_as_written(live_demo: Session) -> None:
    session = live_demo
    commands = documented_commands()
    assert not classification_problems(commands, COMMANDS), "classify the commands first (test above)"
    for command in commands:
        check = COMMANDS[command.key]
        if check.how == SKIP:
            continue
        problem = CHECKERS[check.how](session, command, check)
        if problem:
            session.failures.append(f"{command.where}: `{command.key}` ({check.how}): {problem}")
    if session.failures:
        pytest.fail("\n\n".join(session.failures), pytrace=False)
