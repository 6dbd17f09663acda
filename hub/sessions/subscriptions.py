"""Publish/subscribe for the hub's consumers: an async iterator per subscriber, fed from the session layer.

A subscription receives what is published from the moment it is created (not from its first iteration) until
it is closed; its queue is unbounded, so a consumer that stops reading holds memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Subscription(Generic[T]):
    """An async iterator over what the hub publishes from the moment it was created until `close()`."""

    def __init__(self, owner: set[Subscription[T]]) -> None:
        self._owner = owner
        self._queue: asyncio.Queue[tuple[bool, T | None]] = asyncio.Queue()
        owner.add(self)

    def publish(self, item: T) -> None:
        self._queue.put_nowait((True, item))

    def close(self) -> None:
        self._owner.discard(self)
        self._queue.put_nowait((False, None))

    def __aiter__(self) -> Subscription[T]:
        return self

    async def __anext__(self) -> T:
        more, item = await self._queue.get()
        if not more:
            self._queue.put_nowait((False, None))
            raise StopAsyncIteration
        return item  # type: ignore[return-value]

    async def __aenter__(self) -> Subscription[T]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


async def collect(subscription: AsyncIterator[T], count: int, timeout: float) -> list[T]:
    """The next `count` items of a subscription, or TimeoutError (for tests and tools)."""
    items: list[T] = []
    async with asyncio.timeout(timeout):
        async for item in subscription:
            items.append(item)
            if len(items) >= count:
                break
    return items
