"""Where the hub is and which token to send: flags before variables, files read and checked, the token never
sent in clear text to another machine without --insecure."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from hub.client.connection import add_connection_arguments, is_loopback, normalise_url, resolve_target
from hub.client.errors import MissingToken, UsageError


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_connection_arguments(parser)
    return parser.parse_args(list(argv))


def test_flags_win_over_the_environment_and_a_bare_host_gets_http() -> None:
    env = {"FLEETLINE_HUB": "http://127.0.0.1:9", "FLEETLINE_TOKEN": "from-env"}
    target = resolve_target(parse("--hub", "127.0.0.1:7080/", "--token", "from-flag"), env)
    assert (target.url, target.token) == ("http://127.0.0.1:7080", "from-flag")
    target = resolve_target(parse(), env)
    assert (target.url, target.token) == ("http://127.0.0.1:9", "from-env")
    assert "from-env" not in repr(target)


def test_token_file(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("s3cret\n")
    target = resolve_target(parse("--hub", "https://hub.example.com", "--token-file", str(tmp_path / "token")),
                            {"FLEETLINE_TOKEN": "ignored"})
    assert target.token == "s3cret"


@pytest.mark.parametrize(("argv", "env", "error", "words"), [
    ([], {"FLEETLINE_TOKEN": "t"}, UsageError, "FLEETLINE_HUB"),
    (["--hub", "ftp://x"], {"FLEETLINE_TOKEN": "t"}, UsageError, "not an http(s) URL"),
    (["--hub", "http://127.0.0.1:99999"], {"FLEETLINE_TOKEN": "t"}, UsageError, "port"),
    (["--hub", "http://127.0.0.1"], {}, MissingToken, "--token-file"),
    (["--hub", "http://127.0.0.1", "--token", "a", "--token-file", "f"], {}, UsageError, "not both"),
    (["--hub", "http://127.0.0.1", "--token-file", "EMPTY"], {}, UsageError, "empty"),
    (["--hub", "http://127.0.0.1", "--token-file", "MISSING"], {}, UsageError, "MISSING"),
    (["--hub", "http://127.0.0.1", "--token", "two words"], {}, UsageError, "spaces"),
    (["--hub", "http://hub.example.com"], {"FLEETLINE_TOKEN": "t"}, UsageError, "clear text"),
])
def test_bad_connection_settings_say_what_to_give(tmp_path: Path, argv: list[str], env: dict[str, str],
                                                  error: type, words: str) -> None:
    (tmp_path / "EMPTY").write_text("\n")
    argv = [str(tmp_path / a) if a in ("EMPTY", "MISSING") else a for a in argv]
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")):
        resolve_target(parse(*argv), env)


def test_plain_http_to_another_machine_only_with_insecure() -> None:
    target = resolve_target(parse("--hub", "http://hub.example.com:7080", "--insecure"), {"FLEETLINE_TOKEN": "t"})
    assert target.url == "http://hub.example.com:7080"
    assert resolve_target(parse("--hub", "https://hub.example.com"), {"FLEETLINE_TOKEN": "t"}).url.startswith("https")


def test_loopback_and_urls() -> None:
    assert is_loopback("localhost") and is_loopback("127.0.0.5") and is_loopback("::1")
    assert not is_loopback("10.0.0.1") and not is_loopback("hub.example.com")
    assert normalise_url(" https://hub.example.com/ ") == "https://hub.example.com"
    with pytest.raises(UsageError, match="query"):
        normalise_url("https://hub.example.com/?x=1")
