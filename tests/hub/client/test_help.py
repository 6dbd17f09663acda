"""Every operator command explains itself: a description, examples and the exit codes in `--help`; and `audit`
is left to the composition root."""

from __future__ import annotations

import argparse

import pytest

from hub.client.cli import COMMANDS, add_operator_parsers


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_examples_and_exit_codes(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="fleetline")
    add_operator_parsers(parser.add_subparsers())
    with pytest.raises(SystemExit) as exited:
        parser.parse_args([command, "--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    assert "examples:" in text and f"fleetline {command}" in text.split("examples:")[1]
    assert "exit codes:" in text and "3  authentication or permission refused" in text
    assert "--hub URL" in text and "--token-file FILE" in text


def test_audit_is_not_registered_by_the_operator_commands() -> None:
    parser = argparse.ArgumentParser(prog="fleetline")
    sub = parser.add_subparsers()
    add_operator_parsers(sub)
    assert set(sub.choices) == set(COMMANDS)
