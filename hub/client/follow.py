"""`EventFollower`: the hub's event stream in the background, as wake-ups for commands that redraw or wait.

Commands stay correct without it (they poll); with it they react at once. It reconnects with backoff when the
stream drops, gives up for good when the hub has no stream (404), and hands a refusal (401/403) to the command,
since polling would be refused as well.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from hub.client.errors import ApiError, ClientError
from hub.client.http import HubClient
from hub.client.sse import SseEvent

MAX_BACKOFF = 15.0


class EventFollower:
    """Follows `client.events()`; `on_event` sees every event; `wait()` returns at the next one or a timeout."""

    def __init__(self, client: HubClient, on_event: Callable[[SseEvent], None] | None = None, *,
                 enabled: bool = True) -> None:
        self.client = client
        self.on_event = on_event
        self.enabled = enabled
        self.connected = False
        self.failure: ClientError | None = None  # a refusal that also stops the command
        self.opened = asyncio.Event()  # set once the first attempt to connect has succeeded or failed
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> EventFollower:
        if self.enabled:
            self._task = asyncio.create_task(self._run(), name="fleetline-events")
        else:
            self.opened.set()
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def ready(self, timeout: float) -> bool:
        """Wait (at most `timeout` s) for the first connection attempt; whether the stream is live."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self.opened.wait()
        self._raise_failure()
        return self.connected

    async def wait(self, timeout: float) -> bool:
        """Wait at most `timeout` s for an event; True when one came. Raises the stream's refusal, if any."""
        self._raise_failure()
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for loses a cancellation (Ctrl-C) that arrives just as
        # the event is set, and `status --watch` would then wait a whole interval before noticing the Ctrl-C.
        try:
            async with asyncio.timeout(max(timeout, 0)):
                await self._changed.wait()
        except TimeoutError:
            return False
        finally:
            self._raise_failure()
        self._changed.clear()
        return True

    def discard(self) -> None:
        """Forget the events so far (the command is about to look at the hub anyway)."""
        self._changed.clear()

    def _raise_failure(self) -> None:
        if self.failure is not None:
            raise self.failure

    def _open(self) -> None:
        self.connected = True
        self.opened.set()

    async def _run(self) -> None:
        backoff = 0.5
        while True:
            try:
                async for event in self.client.events(on_open=self._open):
                    backoff = 0.5
                    if self.on_event is not None:
                        self.on_event(event)
                    self._changed.set()
            except ApiError as exc:
                if exc.status in (401, 403):
                    self.failure = exc
                    self._changed.set()
                    self.opened.set()
                    return
                if exc.status in (404, 405, 501):  # a hub without the stream: polling only
                    self.opened.set()
                    return
            except ClientError:
                pass
            self.connected = False
            self.opened.set()
            self._changed.set()  # something changed: the stream went away; let the command look again
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
