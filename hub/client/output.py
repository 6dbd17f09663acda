"""Where a command writes, and how: the streams, colours (never colour alone: the words are always printed),
the clock for "last seen 5m ago", and the small text helpers every table uses.

Colours follow the usual rules: `--color always|never`, and for `auto` only when stdout is a terminal, NO_COLOR
is unset and TERM is not `dumb`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TextIO

RESET = "\x1b[0m"
CODES = {"green": "\x1b[32m", "yellow": "\x1b[33m", "red": "\x1b[31m", "blue": "\x1b[34m", "cyan": "\x1b[36m",
         "grey": "\x1b[90m", "magenta": "\x1b[35m", "bold": "\x1b[1m"}
# Argo CD's vocabulary (sync status, health, operation and rollout phases) and the colour each word gets.
WORD_COLOURS = {
    "Synced": "green", "OutOfSync": "yellow", "Unknown": "grey",
    "Healthy": "green", "Progressing": "blue", "Degraded": "red", "Suspended": "magenta", "Missing": "yellow",
    "Succeeded": "green", "Failed": "red", "Error": "red", "Running": "blue", "Terminating": "yellow",
    "Soaking": "cyan", "Halted": "red",
    "yes": "green", "no": "red",
}


def use_colour(mode: str, stream: TextIO, environ: Mapping[str, str]) -> bool:
    """Whether to colour `stream` for `--color mode` (auto, always, never)."""
    if mode == "always":
        return True
    if mode == "never" or "NO_COLOR" in environ or environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


@dataclass
class Terminal:
    """A command's output: `out` for results, `err` for notes and errors, optional colours, a clock."""

    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    colour: bool = False
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def print(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def note(self, text: str) -> None:
        print(text, file=self.err, flush=True)

    def json(self, value: object, *, compact: bool = False) -> None:
        text = json.dumps(value, separators=(",", ":")) if compact else json.dumps(value, indent=2)
        self.print(text)

    def paint(self, text: str, colour: str | None = None) -> str:
        """`text` in `colour` (or the colour of the status word `text`), when colours are on."""
        colour = colour or WORD_COLOURS.get(text)
        if not self.colour or not colour or not text:
            return text
        return f"{CODES[colour]}{text}{RESET}"

    @property
    def is_tty(self) -> bool:
        isatty = getattr(self.out, "isatty", None)
        return bool(isatty and isatty())


def table(terminal: Terminal, headers: list[str], rows: list[list[str]], *, painted: frozenset[int] = frozenset(),
          widths: list[int] | None = None) -> list[str]:
    """`rows` under `headers` as aligned lines; the cells of the columns in `painted` are coloured by their
    first word. `widths` (from `column_widths`) lines several tables up with each other."""
    widths = widths or column_widths(headers, rows)
    lines = [_line([terminal.paint(h, "bold") for h in headers], headers, widths)]
    for row in rows:
        shown = [terminal.paint(cell, WORD_COLOURS.get(cell.split(" ")[0])) if index in painted else cell
                 for index, cell in enumerate(row)]
        lines.append(_line(shown, row, widths))
    return lines


def column_widths(headers: list[str], rows: list[list[str]]) -> list[int]:
    return [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]


def _line(shown: list[str], plain: list[str], widths: list[int]) -> str:
    cells = [s + " " * (w - len(p)) for s, p, w in zip(shown, plain, widths, strict=True)]
    return "  ".join(cells).rstrip()


def short_revision(revision: str | None) -> str:
    """A commit hash cut to 7 characters; other revisions (tags, branches) as they are; `-` for none."""
    if not revision:
        return "-"
    if len(revision) >= 12 and all(ch in "0123456789abcdef" for ch in revision.lower()):
        return revision[:7]
    return revision


def same_revision(a: str | None, b: str | None) -> bool:
    """Whether two revisions name the same commit (a short hash matches its full hash)."""
    if not a or not b:
        return False
    if a == b:
        return True
    shorter, longer = sorted((a.lower(), b.lower()), key=len)
    return len(shorter) >= 7 and longer.startswith(shorter)


def one_line(text: str | None, limit: int = 80) -> str:
    """`text` on one line, cut to `limit` characters with an ellipsis."""
    flat = " ".join(str(text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def parse_time(value: str | None) -> datetime | None:
    """An RFC 3339 time, or None when absent or not one."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def show_time(value: str | None) -> str:
    """An RFC 3339 time as `2026-03-01 10:00:00Z` (UTC); the text as it is when it is not one; `-` for none."""
    parsed = parse_time(value)
    if parsed is None:
        return str(value) if value else "-"
    return parsed.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def ago(value: str | None, now: datetime) -> str:
    """How long before `now` the RFC 3339 time `value` was: `40s`, `5m`, `3h`, `2d`; `never` for none."""
    parsed = parse_time(value)
    if parsed is None:
        return "never" if not value else str(value)
    seconds = max(0, int((now - parsed).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def value_text(value: object) -> str:
    """A JSON value as shown in a diff: JSON text, `(absent)` for null."""
    if value is None:
        return "(absent)"
    return json.dumps(value, sort_keys=True, ensure_ascii=False)
