"""`fleetline audit verify|report|log` through an argparse harness (as fleetline/cli.py registers it), and once as
a process for the exit codes scripts rely on."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from hub.store import schema
from hub.store.cli import add_audit_parser
from hub.store.sqlite import SqliteStore

from .conftest import COMMIT_EU, COMMIT_US, Clock, two_regions

ROOT = Path(__file__).resolve().parents[3]
RUN_AUDIT = (
    "import argparse, sys\n"
    "from hub.store.cli import add_audit_parser\n"
    "parser = argparse.ArgumentParser(prog='fleetline')\n"
    "add_audit_parser(parser.add_subparsers())\n"
    "args = parser.parse_args(sys.argv[1:])\n"
    "sys.exit(args.run(args))\n"
)


def audit(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="fleetline")
    add_audit_parser(parser.add_subparsers())
    args = parser.parse_args(["audit", *argv])
    return args.run(args)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    store = SqliteStore.open(tmp_path, clock=Clock())
    two_regions(store)
    store.close()
    return tmp_path


def alter_row(data_dir: Path, seq: int) -> None:
    with sqlite3.connect(data_dir / "fleetline.db") as conn:
        conn.execute("DROP TRIGGER audit_log_no_update")
        conn.execute("UPDATE audit_log SET actor = 'someone' WHERE seq = ?", (seq,))


def test_verify_exits_0_when_the_chain_holds_and_1_naming_the_broken_entry(data_dir: Path, capsys) -> None:
    assert audit("verify", "--data-dir", str(data_dir)) == 0
    out = capsys.readouterr().out
    assert out.startswith("ok: all 17 entries hold") and "last entry 17 sha256:" in out
    alter_row(data_dir, 6)
    assert audit("verify", "--data-dir", str(data_dir)) == 1
    out = capsys.readouterr().out
    assert "BROKEN at entry 6" in out and "the first 5 entries hold" in out
    assert audit("verify", "--data-dir", str(data_dir), "-o", "json") == 1
    assert json.loads(capsys.readouterr().out)["first_broken"] == 6


def test_verify_with_an_expected_hash(data_dir: Path, capsys) -> None:
    audit("verify", "--data-dir", str(data_dir), "-o", "json")
    result = json.loads(capsys.readouterr().out)
    assert audit("verify", "--data-dir", str(data_dir), "--expect", f"17:{result['last_hash']}") == 0
    assert audit("verify", "--data-dir", str(data_dir), "--expect", "17:sha256:" + "0" * 64) == 1
    assert audit("verify", "--data-dir", str(data_dir), "--expect", "seventeen") == 2
    assert "use SEQ:HASH" in capsys.readouterr().err


def test_commands_exit_2_when_the_database_cannot_be_read(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("FLEETLINE_DATA_DIR", raising=False)
    assert audit("verify") == 2
    assert "give --data-dir" in capsys.readouterr().err
    assert audit("log", "--data-dir", str(tmp_path)) == 2
    assert "no such database" in capsys.readouterr().err
    SqliteStore.open(tmp_path).close()
    with sqlite3.connect(tmp_path / "fleetline.db") as conn:
        conn.execute("INSERT INTO schema_version VALUES (?, '')", (schema.LATEST + 5,))
    assert audit("report", "--region", "eu", "--data-dir", str(tmp_path)) == 2
    assert "newer than this Fleetline" in capsys.readouterr().err
    assert audit("report", "--region", "eu", "--data-dir", str(tmp_path), "--since", "March") == 2
    assert "is not a time" in capsys.readouterr().err


def test_report_in_each_format(data_dir: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("FLEETLINE_DATA_DIR", str(data_dir))
    assert audit("report", "--region", "eu", "--since", "2026-03-01", "--until", "2026-03-31") == 0
    body = json.loads(capsys.readouterr().out)
    assert body["region"] == "eu" and body["since"] == "2026-03-01T00:00:00.000000Z"
    assert body["until"] == "2026-04-01T00:00:00.000000Z"  # --until DATE includes that day
    assert body["summary"]["production_changes_approved"] == 1 and body["verification"]["ok"] is True
    assert COMMIT_US not in json.dumps(body) and COMMIT_EU in json.dumps(body)

    assert audit("report", "--region", "us-east", "--since", "2026-03-01", "-o", "csv") == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {r["cluster"] for r in rows if r["section"] == "ran"} == {"use-1"}

    target = tmp_path / "out" / "eu.html"
    assert audit("report", "--region", "eu", "--since", "2026-03-01", "--output", str(target)) == 0
    assert "wrote" in capsys.readouterr().err
    page = target.read_text()
    assert page.startswith("<!DOCTYPE html>") and "Compliance report: region eu" in page


def test_report_of_a_broken_chain_is_written_and_exits_1(data_dir: Path, capsys) -> None:
    alter_row(data_dir, 3)
    assert audit("report", "--region", "eu", "--data-dir", str(data_dir)) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)["verification"]["first_broken"] == 3
    assert "BROKEN at entry 3" in captured.err
    assert audit("report", "--region", "eu", "--data-dir", str(data_dir), "--since", "2026-03-05",
                 "--until", "2026-03-01") == 2


def test_log_filters_and_formats(data_dir: Path, capsys) -> None:
    base = ("log", "--data-dir", str(data_dir))
    assert audit(*base, "--region", "eu", "-o", "json") == 0
    entries = json.loads(capsys.readouterr().out)
    assert {e["cluster"] for e in entries} == {"eu-1", "eu-2"}
    assert [e["seq"] for e in entries] == sorted(e["seq"] for e in entries)
    assert audit(*base, "--kind", "drift_detected,drift_healed", "--cluster", "eu-1", "-o", "json") == 0
    assert [e["kind"] for e in json.loads(capsys.readouterr().out)] == ["drift_detected", "drift_healed"]
    assert audit(*base, "--limit", "2", "-o", "json") == 0
    assert [e["seq"] for e in json.loads(capsys.readouterr().out)] == [16, 17]  # the latest two, oldest first
    assert audit(*base, "--since", "2026-03-07", "--until", "2026-03-07") == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["SEQ", "TIME", "(UTC)"] and len(table) == 3
    assert "api_refused" in table[1] and "role viewer cannot sync" in table[1]
    assert audit(*base, "--region", "nowhere") == 0
    assert "no entries match" in capsys.readouterr().err


def test_exit_codes_of_the_process(data_dir: Path) -> None:
    def run(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", RUN_AUDIT, "audit", *argv], cwd=ROOT, capture_output=True,
                              text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})

    assert run("verify", "--data-dir", str(data_dir)).returncode == 0
    alter_row(data_dir, 9)
    broken = run("verify", "--data-dir", str(data_dir))
    assert broken.returncode == 1 and "BROKEN at entry 9" in broken.stdout
    assert run("verify", "--data-dir", str(data_dir / "missing")).returncode == 2
    assert run("report", "--data-dir", str(data_dir)).returncode == 2  # --region is required (argparse)


def test_where_the_log_is_read_flags_beat_variables(tmp_path: Path, capsys) -> None:
    from hub.store.cli import via_hub

    def parsed(*argv: str) -> argparse.Namespace:
        parser = argparse.ArgumentParser(prog="fleetline")
        add_audit_parser(parser.add_subparsers())
        return parser.parse_args(["audit", "verify", *argv])

    both_set = {"FLEETLINE_DATA_DIR": str(tmp_path), "FLEETLINE_HUB": "http://127.0.0.1:1"}
    assert via_hub(parsed("--hub", "http://127.0.0.1:1"), both_set) is True
    assert via_hub(parsed("--data-dir", str(tmp_path)), {"FLEETLINE_HUB": "http://127.0.0.1:1"}) is False
    args = parsed()
    assert via_hub(args, both_set) is False and args.data_dir == str(tmp_path)
    assert via_hub(parsed(), {"FLEETLINE_HUB": "http://127.0.0.1:1"}) is True
    with pytest.raises(ValueError, match="not both"):
        via_hub(parsed("--hub", "http://127.0.0.1:1", "--data-dir", str(tmp_path)), {})
    with pytest.raises(ValueError, match=r"--data-dir DIR .* or --hub URL"):
        via_hub(parsed(), {})
