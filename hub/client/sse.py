"""Server-Sent Events, the client side: turn the lines of a `text/event-stream` into events.

Follows the WHATWG parsing rules that matter here: `event:`, `data:` (several lines joined by newlines), `id:`,
comments (`: keep-alive`) ignored, an event dispatched at the blank line that ends it, and one space after the
colon dropped. An event without data is not dispatched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass
class SseEvent:
    """One event of the stream: its kind (`status`, `event`, `pipeline`; `message` when unnamed) and data."""

    kind: str
    data: str
    id: str = ""

    def json(self) -> object:
        """The data as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.data)
        except ValueError:
            return None


@dataclass
class SseParser:
    """Feed it the stream's lines (without their line ending); it returns an event when one is complete."""

    _kind: str = ""
    _data: list[str] = field(default_factory=list)
    _id: str = ""

    def feed(self, line: str) -> SseEvent | None:
        line = line.rstrip("\r")
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._kind = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self._id = value
        return None

    def _dispatch(self) -> SseEvent | None:
        event = SseEvent(self._kind or "message", "\n".join(self._data), self._id) if self._data else None
        self._kind, self._data = "", []
        return event


def split_lines(buffer: bytes, chunk: bytes) -> tuple[list[str], bytes]:
    """Append `chunk` to `buffer`; the complete lines (decoded, without `\\n`) and what is left over."""
    buffer += chunk
    *lines, rest = buffer.split(b"\n")
    return [line.decode("utf-8", errors="replace") for line in lines], rest
