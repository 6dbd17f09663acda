"""The text helpers every table uses: revisions, times, alignment with and without colour."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from hub.client.output import (
    Terminal,
    ago,
    one_line,
    same_revision,
    short_revision,
    show_time,
    table,
    use_colour,
    value_text,
)


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_revisions() -> None:
    full = "4f2a9c1" + "e" * 33
    assert short_revision(full) == "4f2a9c1"
    assert short_revision("v1.2.3") == "v1.2.3" and short_revision(None) == "-"
    assert same_revision("4f2a9c1", full) and same_revision(full, full)
    assert not same_revision("4f2a", full) and not same_revision("4f2a9c2", full) and not same_revision(None, full)


def test_times() -> None:
    now = datetime(2026, 3, 1, 10, 5, tzinfo=UTC)
    assert ago("2026-03-01T10:00:00Z", now) == "5m"
    assert ago("2026-03-01T10:04:30+00:00", now) == "30s"
    assert ago("2026-02-27T10:05:00Z", now) == "2d"
    assert ago(None, now) == "never"
    assert show_time("2026-03-01T11:00:00.123+01:00") == "2026-03-01 10:00:00Z"
    assert show_time("soon") == "soon" and show_time(None) == "-"


def test_text() -> None:
    assert one_line("a\n  b", 80) == "a b"
    assert one_line("x" * 100, 10) == "x" * 9 + "…"
    assert value_text(None) == "(absent)" and value_text("a:1") == '"a:1"' and value_text(3) == "3"


def test_colour_rules() -> None:
    assert use_colour("auto", Tty(), {}) is True
    assert use_colour("auto", io.StringIO(), {}) is False
    assert use_colour("auto", Tty(), {"NO_COLOR": ""}) is False
    assert use_colour("auto", Tty(), {"TERM": "dumb"}) is False
    assert use_colour("always", io.StringIO(), {"NO_COLOR": "1"}) is True
    assert use_colour("never", Tty(), {}) is False


def test_table_aligns_on_the_words_whether_coloured_or_not() -> None:
    rows = [["eu-1", "OutOfSync", "x"], ["eu-22", "Synced", "y"]]
    plain = table(Terminal(colour=False), ["CLUSTER", "SYNC", "NOTE"], rows, painted=frozenset({1}))
    coloured = table(Terminal(colour=True), ["CLUSTER", "SYNC", "NOTE"], rows, painted=frozenset({1}))
    assert plain == ["CLUSTER  SYNC       NOTE", "eu-1     OutOfSync  x", "eu-22    Synced     y"]
    assert "\x1b[33mOutOfSync\x1b[0m" in coloured[1] and "\x1b[32mSynced\x1b[0m" in coloured[2]
    strip = [line.replace("\x1b[0m", "").replace("\x1b[33m", "").replace("\x1b[32m", "").replace("\x1b[1m", "")
             for line in coloured]
    assert strip == plain
