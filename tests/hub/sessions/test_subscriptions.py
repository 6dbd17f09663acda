"""Subscriptions: what is published reaches each subscriber in order; a consumer too far behind is cut off loudly."""

from __future__ import annotations

import pytest

from hub.sessions.subscriptions import Subscription, SubscriptionOverflow, collect


async def test_items_arrive_in_order_until_close() -> None:
    owner: set[Subscription[int]] = set()
    sub = Subscription(owner)
    for item in (1, 2, 3):
        sub.publish(item)
    sub.close()
    assert [item async for item in sub] == [1, 2, 3]
    assert not owner


async def test_a_consumer_too_far_behind_gets_what_was_queued_then_an_overflow_error() -> None:
    owner: set[Subscription[int]] = set()
    slow = Subscription(owner, max_items=3)
    fast = Subscription(owner, max_items=100)
    for item in range(5):
        for sub in list(owner):
            sub.publish(item)
    assert slow.overflowed and slow not in owner, "cut off and no longer fed"
    assert await collect(slow, 3, 1) == [0, 1, 2]
    with pytest.raises(SubscriptionOverflow, match="more than 3 items behind"):
        await collect(slow, 1, 1)
    assert await collect(fast, 5, 1) == [0, 1, 2, 3, 4], "the others are unaffected"
