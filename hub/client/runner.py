"""Running one operator command: resolve the hub and token, open the client, run the command's coroutine, and
turn every failure into `error: <what and how to fix>` on stderr and its exit code (hub/client/errors.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Mapping

from hub.client.connection import HubTarget, add_connection_arguments, resolve_target
from hub.client.errors import ClientError
from hub.client.http import HubClient
from hub.client.output import Terminal, use_colour

Command = Callable[[HubClient, argparse.Namespace, Terminal], Awaitable[int]]
INTERRUPTED = 130  # Ctrl-C, as shells report it; `--watch` ends with 0 instead, Ctrl-C being its normal end


def add_common_arguments(parser: argparse.ArgumentParser, outputs: tuple[str, ...] = ("table", "json")) -> None:
    """The connection flags, `-o/--output` with `outputs` (the first is the default) and `--color`."""
    parser.add_argument("-o", "--output", choices=outputs, default=outputs[0],
                        help=f"output format (default {outputs[0]}; json is the API's JSON, for scripts)")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                        help="colour sync and health words: auto (when stdout is a terminal and NO_COLOR is unset), "
                             "always or never; the words are printed either way")
    add_connection_arguments(parser)


def run_command(command: Command, args: argparse.Namespace, *, environ: Mapping[str, str] | None = None,
                terminal: Terminal | None = None) -> int:
    """Run `command` against the hub `args` name; its exit code."""
    environ = os.environ if environ is None else environ
    terminal = terminal or Terminal()
    terminal.colour = use_colour(getattr(args, "color", "auto"), terminal.out, environ)
    try:
        target = resolve_target(args, environ)
        return asyncio.run(_run(command, target, args, terminal))
    except ClientError as exc:
        terminal.note(f"error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        return 0 if getattr(args, "watch", False) else INTERRUPTED
    except BrokenPipeError:  # the reader went away (`| head`): nothing more to say, and nowhere to say it
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


async def _run(command: Command, target: HubTarget, args: argparse.Namespace, terminal: Terminal) -> int:
    async with HubClient(target) as client:
        return await command(client, args, terminal)
