"""`fleetline audit verify|log|report`, one command, two ways, against one running hub (subprocesses, as typed):
through the API (FLEETLINE_HUB and a token) and on the hub's data directory (--data-dir); both see the same
chain, both name an entry altered in the SQLite file; the flags that only make sense on the file are refused
through the API, and --data-dir with --hub is refused."""

from __future__ import annotations

import json
import sqlite3

from tests.hub.operator.conftest import STAGING_FLEET
from tests.hub.pipeline.conftest import deployment_yaml, kustomization


async def test_audit_commands_through_the_hub_and_on_the_data_dir(operator_stack) -> None:
    stack = operator_stack(["stg-1"])
    first = stack.commit({"fleet.yaml": STAGING_FLEET, "apps/inference/deployment.yaml": deployment_yaml(),
                          "apps/inference/kustomization.yaml": kustomization("v1")}, "v1")
    await stack.start(interval=0.3)
    await stack.eventually(lambda: stack.runs("stg-1", "inference", first), timeout=60, message="v1 synced")
    await stack.operator.store.flush()
    viewer = stack.token("auditor", "viewer")
    data_dir = str(stack.root / "hub")

    # verify: the API's verdict and the file's
    remote = await stack.cli("audit", "verify", token=viewer)
    assert remote.returncode == 0 and remote.stdout.startswith("audit chain intact: "), remote.stdout + remote.stderr
    local = await stack.cli("audit", "verify", "--data-dir", data_dir, "-o", "json")  # the flag beats FLEETLINE_HUB
    assert local.returncode == 0 and json.loads(local.stdout)["ok"] is True, local.stdout + local.stderr

    # log: several kinds through the API, merged by seq; the same entries from the file
    remote = await stack.cli("audit", "log", "--kind", "revision_seen", "--kind", "desired_state_pushed",
                             "--limit", "0", "-o", "json", token=viewer)
    assert remote.returncode == 0, remote.stderr
    through_api = json.loads(remote.stdout)["entries"]
    local = await stack.cli("audit", "log", "--data-dir", data_dir, "--kind", "revision_seen,desired_state_pushed",
                            "--limit", "0", "-o", "json")
    on_file = json.loads(local.stdout)
    assert {e["kind"] for e in through_api} == {"revision_seen", "desired_state_pushed"}
    assert [e["seq"] for e in through_api] == sorted(e["seq"] for e in through_api)
    assert [e["hash"] for e in on_file][:len(through_api)] == [e["hash"] for e in through_api]
    table = await stack.cli("audit", "log", "--region", "eu", "--limit", "5", token=viewer)
    assert table.returncode == 0 and table.stdout.startswith("SEQ "), table.stdout + table.stderr

    # report: the region's, either way
    remote = await stack.cli("audit", "report", "--region", "eu", "--since", "2020-01-01", token=viewer)
    assert remote.returncode == 0, remote.stderr
    local = await stack.cli("audit", "report", "--region", "eu", "--since", "2020-01-01", "--data-dir", data_dir)
    assert local.returncode == 0, local.stderr
    for text in (remote.stdout, local.stdout):
        report = json.loads(text)
        assert report["region"] == "eu" and report["verification"]["ok"] is True
        assert "stg-1" in text
    html = stack.root / "eu.html"
    remote = await stack.cli("audit", "report", "--region", "eu", "--since", "2020-01-01", "--output", str(html),
                             token=viewer)
    assert remote.returncode == 0 and html.read_text().lstrip().lower().startswith("<!doctype html"), remote.stderr

    # what only works on the file, and the choice between the two
    refused = await stack.cli("audit", "verify", "--expect", "1:sha256:00", token=viewer)
    assert refused.returncode == 2 and "--expect works only on the hub's database" in refused.stderr
    both = await stack.cli("audit", "verify", "--data-dir", data_dir, "--hub", stack.api_url, token=viewer)
    assert both.returncode == 2 and "not both" in both.stderr
    bad_token = await stack.cli("audit", "verify", token="flt_not-a-token")
    assert bad_token.returncode == 3 and "401" in bad_token.stderr

    # an entry altered in the file: both ways name it
    with sqlite3.connect(stack.root / "hub" / "fleetline.db") as db:
        db.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        seq = db.execute("SELECT seq FROM audit_log WHERE kind = 'revision_seen' ORDER BY seq LIMIT 1").fetchone()[0]
        db.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = ?", (seq,))
    remote = await stack.cli("audit", "verify", token=viewer)
    assert remote.returncode == 1 and f"broken at entry {seq}:" in remote.stderr, remote.stdout + remote.stderr
    local = await stack.cli("audit", "verify", "--data-dir", data_dir)
    assert local.returncode == 1 and f"BROKEN at entry {seq}:" in local.stdout, local.stdout + local.stderr
