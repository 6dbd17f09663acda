"""--log-format json: one JSON object per line with the message's key=value pairs as fields."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

from fleetline.logs import JsonFormatter, fields_of
from tests.kubesim.conftest import sim, sim_options  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[2]


def test_pairs_become_fields_and_quoted_values_are_unquoted() -> None:
    assert fields_of('event=session_closed cluster=eu-1 reason="a \\"quoted\\" one" empty= n=3') == {
        "event": "session_closed", "cluster": "eu-1", "reason": 'a "quoted" one', "empty": "", "n": "3"}


def test_a_record_is_one_json_object_with_time_level_logger_fields_and_message() -> None:
    record = logging.LogRecord("hub.sessions", logging.WARNING, __file__, 1,
                               "event=peer_silent cluster=%s seconds=%d level=x", ("eu-1", 30), None)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["level"] == "WARNING" and entry["logger"] == "hub.sessions"
    assert (entry["event"], entry["cluster"], entry["seconds"]) == ("peer_silent", "eu-1", "30")
    assert entry["field_level"] == "x", "a pair named like a reserved field does not overwrite it"
    assert entry["message"] == "event=peer_silent cluster=eu-1 seconds=30 level=x"
    assert entry["time"].endswith("+00:00")


def test_the_agent_command_logs_json_lines(tmp_path: Path, sim) -> None:  # noqa: F811
    # An agent that cannot reach its hub (nothing listens on port 1) logs its reconnect plan, then is stopped.
    process = subprocess.Popen(
        [sys.executable, "-m", "fleetline.cli", "agent", "--hub", "127.0.0.1:1", "--cluster", "eu-1", "--insecure",
         "--cache-dir", str(tmp_path / "cache"), "--log-format", "json", "--kubeconfig", str(sim.kubeconfig_path)],
        cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        for line in process.stderr:
            entry = json.loads(line)
            if entry.get("event") == "reconnect_scheduled":
                assert entry["cluster"] == "eu-1" and entry["level"] == "INFO"
                break
        else:
            raise AssertionError("no reconnect_scheduled line")
    finally:
        process.terminate()
        process.wait(10)
