"""The demo repository's post-commit hook: a signed GitHub-style push webhook to the hub, for the new commit.

`python -m hub.demo.hook DIR` reads the hub's API URL from `DIR/demo.json` and the shared secret from
`DIR/webhook-secret`, and POSTs `{"ref": "refs/heads/<branch>", "after": "<sha>", ...}` to
`/api/v1/webhooks/git` with `X-GitHub-Event: push` and `X-Hub-Signature-256`. It never fails the commit: when the
demo is not running it says so and exits 0 (the hub also polls). Standard library only: it runs on every commit.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path


def payload(ref: str, before: str, after: str, repository: str) -> bytes:
    """A GitHub push event's fields the hub reads (ref, before, after, repository)."""
    return json.dumps({"ref": ref, "before": before, "after": after,
                       "repository": {"full_name": "demo/fleet", "clone_url": repository}}).encode()


def signature(body: bytes, secret: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=False).stdout.strip()


def notify(workdir: Path) -> str:
    """Send the webhook for HEAD of the repository Git runs the hook in; what happened, in words."""
    try:
        hub = json.loads((workdir / "demo.json").read_text())["hub_api"]
        secret = (workdir / "webhook-secret").read_bytes().strip()
    except (OSError, ValueError, KeyError):
        return "the demo is not running: the hub will see this commit when it next starts"
    branch = _git("symbolic-ref", "-q", "HEAD") or "HEAD"
    after = _git("rev-parse", "HEAD")
    before = _git("rev-parse", "-q", "--verify", "HEAD~1") or "0" * 40
    body = payload(branch, before, after, str(Path(_git("rev-parse", "--show-toplevel")).resolve()))
    request = urllib.request.Request(f"{hub}/api/v1/webhooks/git", data=body, method="POST", headers={
        "Content-Type": "application/json", "X-GitHub-Event": "push", "X-Hub-Signature-256": signature(body, secret),
        "User-Agent": "fleetline-demo-hook"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return f"sent {after[:7]} to the hub ({response.status})"
    except urllib.error.HTTPError as exc:
        return f"the hub refused the webhook for {after[:7]}: HTTP {exc.code} {exc.read()[:200]!r}"
    except OSError as exc:
        return f"the hub at {hub} is not reachable ({exc}); it will find {after[:7]} when it next polls"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m hub.demo.hook DEMO_DIR", file=sys.stderr)
        return 0
    print(f"fleetline demo: {notify(Path(argv[0]))}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
