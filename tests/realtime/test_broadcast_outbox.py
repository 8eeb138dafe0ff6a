"""Broadcasts saved on the database thread are sent by the event loop, in order, without holding that thread."""

from __future__ import annotations

import asyncio
import logging

import pytest
from asgiref.sync import sync_to_async

from realtime import broadcast


class SlowLayer:
    """A channel layer whose group_send waits until let through, recording what it sent."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.open = asyncio.Event()
        self.changed = asyncio.Event()
        self.failing: set[str] = set()
        self.slow: set[str] = set()  # these take a few more turns of the loop than the others

    async def group_send(self, group: str, event: dict) -> None:
        await self.open.wait()
        for _ in range(5 if event["id"] in self.slow else 0):
            await asyncio.sleep(0)
        if event["id"] in self.failing:
            raise ConnectionError("the layer is down")
        self.sent.append(event["id"])
        self.changed.set()

    async def until_sent(self, count: int) -> None:
        async with asyncio.timeout(5):
            while len(self.sent) < count:
                self.changed.clear()
                await self.changed.wait()


@pytest.fixture
def layer(monkeypatch) -> SlowLayer:
    layer = SlowLayer()
    monkeypatch.setattr(broadcast, "get_channel_layer", lambda: layer)
    return layer


def event(number: str) -> dict:
    return {"type": "comment.created", "group": "post.1.comments", "id": number}


def save_and_announce(*numbers: str) -> None:
    """What a save does on the database thread once its transaction commits."""
    for number in numbers:
        broadcast._group_send(event(number))


async def test_the_database_thread_does_not_wait_for_the_broadcast(layer):
    try:
        async with asyncio.timeout(5):
            # With the send waited for on the thread, this would not return until the layer opened.
            await sync_to_async(save_and_announce)("1")
        assert layer.sent == []
    finally:
        layer.open.set()
    await layer.until_sent(1)
    assert layer.sent == ["1"]


async def test_broadcasts_are_sent_in_the_order_they_were_saved(layer):
    layer.slow.add("1")  # sent side by side, the second would arrive first
    await sync_to_async(save_and_announce)("1", "2")
    await sync_to_async(save_and_announce)("3")
    layer.open.set()
    await layer.until_sent(3)
    assert layer.sent == ["1", "2", "3"]


async def test_a_failed_broadcast_is_logged_and_the_next_still_sent(layer, caplog):
    layer.failing.add("1")
    with caplog.at_level(logging.ERROR, logger="realtime.broadcast"):
        await sync_to_async(save_and_announce)("1", "2")
        layer.open.set()
        await layer.until_sent(1)
    assert layer.sent == ["2"]
    assert "broadcast failed group=post.1.comments type=comment.created" in caplog.text


def test_without_a_server_loop_the_broadcast_is_sent_before_the_save_returns(layer):
    """A management command or the shell: no event loop to hand it to, so it is sent at once."""
    layer.open.set()
    save_and_announce("1")
    assert layer.sent == ["1"]
