"""Publish/subscribe for the hub's consumers: an async iterator per subscriber, fed from the session layer.

A subscription receives what is published from the moment it is created (not from its first iteration) until
it is closed. Its queue is bounded (`max_items`): a consumer that falls that far behind is cut off, never fed
silently with gaps. It receives everything queued before the cut, then `SubscriptionOverflow`, and must
re-read what it needs from durable state and subscribe again (as a Kubernetes watch answers 410 Gone).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Generic, TypeVar

T = TypeVar("T")


DEFAULT_MAX_ITEMS = 100_000


class SubscriptionOverflow(Exception):
    """The consumer fell more than `max_items` behind; items after the cut were not queued for it."""


class Subscription(Generic[T]):
    """An async iterator over what the hub publishes from the moment it was created until `close()`."""

    def __init__(self, owner: set[Subscription[T]], max_items: int = DEFAULT_MAX_ITEMS) -> None:
        self._owner = owner
        self._max_items = max_items
        self._queue: asyncio.Queue[tuple[bool, T | None]] = asyncio.Queue()
        self.overflowed = False
        owner.add(self)

    def publish(self, item: T) -> None:
        if self._queue.qsize() >= self._max_items:
            self.overflowed = True
            self.close()
            return
        self._queue.put_nowait((True, item))

    def close(self) -> None:
        if self in self._owner:
            self._owner.discard(self)
            self._queue.put_nowait((False, None))

    def __aiter__(self) -> Subscription[T]:
        return self

    async def __anext__(self) -> T:
        more, item = await self._queue.get()
        if not more:
            self._queue.put_nowait((False, None))
            if self.overflowed:
                raise SubscriptionOverflow(f"this subscription fell more than {self._max_items:,} items behind and "
                                           "was cut off: re-read the state you need and subscribe again")
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
