"""Log output for the long-running commands (`fleetline hub`, `fleetline agent`): text or JSON lines.

Fleetline's log messages are `key=value` pairs (`event=session_opened cluster=eu-1 ...`, values with spaces
quoted). `--log-format text` prints them as they are, after a timestamp and the level; `--log-format json`
prints one JSON object per line, with `time` (RFC 3339, UTC), `level`, `logger`, every `key=value` pair of
the message as a field of its own, and `message` (the whole text), for log pipelines such as Loki or
Elasticsearch.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from datetime import UTC, datetime

_PAIR = re.compile(r'([A-Za-z_][A-Za-z0-9_.-]*)=("(?:[^"\\]|\\.)*"|\S*)')
_RESERVED = {"time", "level", "logger", "message"}


def add_logging_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    parser.add_argument("--log-format", default="text", choices=("text", "json"),
                        help="text (key=value lines, the default) or json (one object per line)")


def fields_of(message: str) -> dict[str, str]:
    """The `key=value` pairs of a log message, quoted values unquoted."""
    fields: dict[str, str] = {}
    for key, value in _PAIR.findall(message):
        if value.startswith('"'):
            value = re.sub(r'\\(.)', lambda m: "\n" if m.group(1) == "n" else m.group(1), value[1:-1])
        fields[key if key not in _RESERVED else f"field_{key}"] = value
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per record (see the module docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name}
        entry.update(fields_of(message))
        entry["message"] = message
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "INFO", log_format: str = "text") -> None:
    """Send the root logger's records to stderr in `log_format`; replaces handlers set before."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
