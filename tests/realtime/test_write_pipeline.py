"""A socket's writes run together, at most WRITES_IN_FLIGHT at once, and are answered in the order they were sent."""

from __future__ import annotations

import asyncio

import pytest

from realtime import consumers
from realtime.consumers import CommentConsumer

pytestmark = pytest.mark.django_db(transaction=True)


class HeldWrites:
    """A comment.create handler whose writes each wait until released, logging when they start and end."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.release: dict[str, asyncio.Event] = {}
        self.changed = asyncio.Event()

    async def handler(self, consumer: CommentConsumer, frame: dict) -> dict:
        body = frame["body"]
        self.note(f"start {body}")
        await self.release.setdefault(body, asyncio.Event()).wait()
        self.note(f"end {body}")
        return {"id": ord(body)}

    def note(self, entry: str) -> None:
        self.log.append(entry)
        self.changed.set()

    async def until_logged(self, entry: str) -> None:
        async with asyncio.timeout(5):
            while entry not in self.log:
                self.changed.clear()
                await self.changed.wait()

    def let_end(self, body: str) -> None:
        self.release.setdefault(body, asyncio.Event()).set()


@pytest.fixture
def held(monkeypatch) -> HeldWrites:
    held = HeldWrites()
    monkeypatch.setitem(CommentConsumer.client_frame_handlers, "comment.create", held.handler)
    return held


async def send_writes(socket, bodies: str) -> None:
    for body in bodies:
        await socket.send_json_to({"type": "comment.create", "body": body, "client_id": body})


async def test_a_later_write_starts_while_an_earlier_one_is_still_running(sockets, post, author, held):
    socket, _ = await sockets.connect(post.pk, user=author)
    await send_writes(socket, "ab")
    await held.until_logged("start b")
    assert held.log == ["start a", "start b"]


async def test_writes_are_answered_in_the_order_they_were_sent(sockets, post, author, held):
    socket, _ = await sockets.connect(post.pk, user=author)
    await send_writes(socket, "ab")
    await held.until_logged("start b")
    held.let_end("b")
    await held.until_logged("end b")
    held.let_end("a")
    answers = [await socket.receive_json_from() for _ in range(2)]
    assert held.log == ["start a", "start b", "end b", "end a"]
    assert answers == [
        {"type": "comment.ack", "client_id": "a", "id": ord("a")},
        {"type": "comment.ack", "client_id": "b", "id": ord("b")},
    ]


async def test_past_the_limit_the_next_write_waits_for_the_oldest(sockets, post, author, held, monkeypatch):
    monkeypatch.setattr(consumers, "WRITES_IN_FLIGHT", 2)
    socket, _ = await sockets.connect(post.pk, user=author)
    await send_writes(socket, "abc")
    await held.until_logged("start b")
    held.let_end("a")
    await held.until_logged("start c")
    assert held.log == ["start a", "start b", "end a", "start c"]
    held.let_end("b")
    held.let_end("c")
    assert [(await socket.receive_json_from())["client_id"] for _ in range(3)] == ["a", "b", "c"]


async def test_a_write_that_fails_unexpectedly_closes_the_socket_with_1011(sockets, post, author, monkeypatch):
    async def broken(consumer: CommentConsumer, frame: dict) -> dict:
        raise RuntimeError("a bug")

    monkeypatch.setitem(CommentConsumer.client_frame_handlers, "comment.create", broken)
    socket, _ = await sockets.connect(post.pk, user=author)
    await send_writes(socket, "a")
    async with asyncio.timeout(5):
        while (message := await socket.communicator.receive_output())["type"] == "websocket.send":
            pass  # presence
    assert message == {"type": "websocket.close", "code": 1011}
